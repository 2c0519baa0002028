/** Processes: PID 1, exit codes, stdio, env, cwd, users, signals, stop, exec, stats, tty. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { findHelper, LinuxContainer } from '../src/index.js';
import { CI, missingPrerequisite, sink, textStream } from './fixtures.js';
import { Harness, startAndWait, startRunning } from './harness.js';

const why = missingPrerequisite();
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);

describe.skipIf(!!why)('linux backend: processes', () => {
  let h: Harness;
  beforeAll(async () => { h = await Harness.open(); });
  afterAll(async () => {
    const leaks = await h?.close();
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
  });

  it('runs as PID 1 under an init, sees only its own processes', async () => {
    const r = await h.run('echo $$; ps -o pid,comm');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('2'); // the shell is the init's child
    const procs = lines.slice(2).map((l) => l.trim().split(/\s+/));
    // skiff-init and the shell, which execs ps in its place: nothing of the host's.
    expect(procs).toEqual([['1', 'skiff-init'], ['2', 'ps']]);
  });

  it('without the init, the command itself is PID 1', async () => {
    const h2 = await Harness.open({ init: false });
    try {
      // ps alone (in a pipeline, wc may not have started when ps looks).
      const r = await h2.run('echo $$; ps -o pid > /tmp/ps; wc -l < /tmp/ps');
      expect(r.stdout).toBe('1\n3\n'); // header, sh, ps
    } finally {
      expect(await h2.close()).toEqual({ mounts: [], cgroups: [] });
    }
  });

  it('starts shims through the launcher, or by spawning the helper when it is turned off', async () => {
    const c = await h.create('sleep 100');
    const { done } = await startRunning(c);
    const shim = JSON.parse(readFileSync((c as LinuxContainer).dir.pidFile, 'utf8')).shim as number;
    const ppid = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    expect(ppid(shim)).not.toBe(process.pid); // forked by `skiff-runtime serve`
    await c.kill('SIGKILL');
    await done;
    await c.remove();
    const h2 = await Harness.open({ launcher: false });
    try {
      const r = await h2.run('cat; exit 4', {}, 'via spawn\n');
      expect(r).toMatchObject({ exitCode: 4, stdout: 'via spawn\n' });
    } finally {
      expect(await h2.close()).toEqual({ mounts: [], cgroups: [] });
    }
  });

  it('keeps the streams of a process that ended before this event loop got to them', async () => {
    for (const line of ['true', 'echo late; exit 6']) {
      const c = await h.create(line);
      const out = sink();
      const started = c.start({ stdout: out.stream, stderr: sink().stream });
      for (let i = 0; i < 50; i++) await Promise.resolve(); // up to the request to the launcher (no I/O before it)
      // Busy: the launcher, the helper and the process all finish before any of their sockets is read here.
      const until = Date.now() + 300;
      while (Date.now() < until) { /* block the event loop */ }
      await started;
      const status = await Promise.race([c.wait(), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
      expect(status).not.toBe('hung');
      expect(out.text()).toBe(line === 'true' ? '' : 'late\n');
      expect((status as { exitCode: number }).exitCode).toBe(line === 'true' ? 0 : 6);
      await c.remove();
    }
  });

  it('passes exit codes and reports signals like docker (128+N)', async () => {
    expect((await h.run('exit 7')).exitCode).toBe(7);
    const killed = await h.run('kill -9 $$');
    expect(killed.status).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
  });

  it('keeps stdout and stderr apart and feeds stdin', async () => {
    const r = await h.run('cat; echo err >&2', {}, 'line one\nline two\n');
    expect(r.stdout).toBe('line one\nline two\n');
    expect(r.stderr).toBe('err\n');
    const noInput = await h.run('cat; echo done');
    expect(noInput.stdout).toBe('done\n');
  });

  it('sets env, working directory (made when missing) and hostname', async () => {
    const r = await h.run('echo "$FOO $HOSTNAME"; pwd; hostname; cat /etc/hostname', { hostname: 'skiffbox', process: { env: ['FOO=bar'], cwd: '/new/dir' } });
    expect(r).toMatchObject({ exitCode: 0 });
    expect(r.stdout).toBe('bar skiffbox\n/new/dir\nskiffbox\nskiffbox\n');
  });

  it('runs as --user by name, uid, uid:gid, with supplementary groups from /etc/group and the primary one (as dockerd)', async () => {
    const byName = await h.run('id', { process: { user: 'alice' } });
    expect(byName.stdout.trim()).toBe('uid=1000(alice) gid=1000(alice) groups=29(audio),50(staff),1000(alice)');
    const numeric = await h.run('id -u; id -g', { process: { user: '4242:77' } });
    expect(numeric.stdout).toBe('4242\n77\n');
    const noCaps = await h.run('cat /proc/self/status | grep CapEff', { process: { user: '1000' } });
    expect(noCaps.stdout.trim()).toBe('CapEff:\t0000000000000000');
    await expect(h.run('id', { process: { user: 'mallory' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('gives the process pipes, so /dev/stdout and /dev/stderr can be reopened', async () => {
    const r = await h.run('echo one > /dev/stdout; echo two > /dev/stderr; stat -L -c %F /proc/self/fd/0 /proc/self/fd/1; cat', {}, 'three\n');
    expect(r).toMatchObject({ exitCode: 0, stdout: 'one\nfifo\nfifo\nthree\n', stderr: 'two\n' });
  });

  it('keeps running when the reader of its output goes away (no SIGPIPE), and still reports its exit', async () => {
    const c = (await h.create('i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done; echo done > /tmp/finished; exit 7')) as LinuxContainer;
    writeFileSync(c.dir.config, JSON.stringify(c.config()));
    const helper = spawn(findHelper(), ['run', '--bundle', c.dir.bundle, '--init', '--status-fd', '3'], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    helper.stdout!.destroy(); // the Node side stops reading, as when the process that started it exits
    let status = '';
    helper.stdio[3]!.on('data', (b: Buffer) => (status += b.toString()));
    await new Promise((r) => helper.once('close', r));
    expect(status).toContain('"exit":{"code":7,"signal":0}');
    expect(readFileSync(`${c.dir.upper}/tmp/finished`, 'utf8')).toBe('done\n'); // it ran to its end
    await c.remove();
  });

  it('fails to start a missing command with NOT_FOUND and a clear message', async () => {
    const c = await h.backend.create(h.spec('', { process: { args: ['no-such-program'] } }));
    try {
      await expect(c.start({ stdout: sink().stream, stderr: sink().stream })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('no-such-program') });
    } finally {
      await c.remove();
    }
  });

  it('forwards signals through the init; stop is SIGTERM, then SIGKILL after a grace period', async () => {
    const c = await h.create('sleep 100');
    const { done: started } = await startRunning(c);
    await new Promise((r) => setTimeout(r, 100));
    await c.kill('SIGTERM');
    const r = await started;
    expect(r.status).toMatchObject({ exitCode: 143, signal: 'SIGTERM' });
    await c.remove();

    const stubborn = await h.create("trap '' TERM; sleep 100 & wait");
    const { done: run2 } = await startRunning(stubborn);
    await new Promise((r) => setTimeout(r, 100));
    await stubborn.kill('SIGTERM');
    const early = await Promise.race([run2.then(() => 'exited'), new Promise((r) => setTimeout(() => r('still running'), 500))]);
    expect(early).toBe('still running');
    await stubborn.kill('SIGKILL');
    expect((await run2).status).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
    await stubborn.remove();
  });

  it('execs into a running container: same namespaces and cgroup, own exit code and stdio', async () => {
    const c = await h.create('echo ready; sleep 100', { hostname: 'execbox' });
    const { done: main } = await startRunning(c);
    await new Promise((r) => setTimeout(r, 100));
    const out = sink();
    const err = sink();
    // stdin comes after the cgroup check, so the process is still there to be looked at.
    let feed!: ReadableStreamDefaultController<Uint8Array>;
    const stdin = new ReadableStream<Uint8Array>({ start: (ctl) => { feed = ctl; } });
    const p = await c.exec({ args: ['sh', '-c', 'hostname; echo $$; [ "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)" ] && echo same-cgroup; ps -o comm | grep -c sleep; read x; echo "got $x"; exit 5'], env: [], cwd: '/tmp' }, { stdout: out.stream, stderr: err.stream, stdin });
    expect(p.pid).toBeGreaterThan(1);
    expect(readFileSync(`/proc/${p.pid}/cgroup`, 'utf8')).toMatch(new RegExp(`pids:/skiff/[0-9a-f]+/${c.id}\n`));
    feed.enqueue(new TextEncoder().encode('hi\n'));
    feed.close();
    expect((await p.wait()).exitCode).toBe(5);
    const lines = out.text().split('\n');
    expect(lines[0]).toBe('execbox');
    expect(Number(lines[1])).toBeGreaterThan(2); // a PID of the container's namespace
    expect(lines[2]).toBe('same-cgroup');
    expect(lines[3]).toBe('1');
    expect(lines[4]).toBe('got hi');
    const stats = await c.stats();
    expect(stats.pids).toBeGreaterThanOrEqual(2);
    expect(stats.memoryBytes).toBeGreaterThan(0);
    expect(stats.cpuNanos).toBeGreaterThan(0);
    // exec with a terminal, and kill of an exec'd process.
    const ttyOut = sink();
    const t = await c.exec({ args: ['sh', '-c', 'test -t 0 && test -t 1 && echo tty'], env: [], cwd: '/', tty: true }, { stdout: ttyOut.stream, stderr: sink().stream });
    expect((await t.wait()).exitCode).toBe(0);
    expect(ttyOut.text()).toBe('tty\r\n');
    const sleeper = await c.exec({ args: ['sleep', '100'], env: [], cwd: '/' }, { stdout: sink().stream, stderr: sink().stream });
    await sleeper.kill('SIGKILL');
    expect(await sleeper.wait()).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
    await c.kill('SIGKILL');
    await main;
    await expect(c.exec({ args: ['true'], env: [], cwd: '/' }, { stdout: sink().stream, stderr: sink().stream })).rejects.toMatchObject({ code: 'CONFLICT' });
    await c.remove();
  });

  it('restarts a container, keeping its writes between runs', async () => {
    const c = await h.create('echo x >> /tmp/count; wc -l < /tmp/count');
    expect((await startAndWait(c)).stdout.trim()).toBe('1');
    expect((await startAndWait(c)).stdout.trim()).toBe('2');
    await c.remove();
  });

  it('kills a run that passes its timeout', async () => {
    const r = await h.run('sleep 100', { timeoutMs: 200 });
    expect(r.status).toMatchObject({ exitCode: 137, signal: 'SIGKILL', error: expect.stringContaining('timeout') });
  });

  it('gives -t a pseudo-terminal', async () => {
    const r = await h.run('test -t 0 && test -t 1 && echo tty; tty; stty size', { process: { tty: true } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^tty\r\n\/dev\/pts\/0\r\n24 80\r\n$/); // the container's own devpts
  });
});
