/** State on disk: a new backend (as in a new Engine process) finds containers, their exits, and what a crash left. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LinuxBackend, LinuxContainer, findHelper } from '../src/index.js';
import { leftoverCgroups } from './fixtures.js';

/** The cgroup directories the backend made for a container. */
async function readdirCgroups(id: string): Promise<string[]> {
  return leftoverCgroups([id]);
}
import { CI, missingPrerequisite, sink } from './fixtures.js';
import { Harness, startAndWait, startRunning } from './harness.js';

const why = missingPrerequisite();
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);

/** Running (a zombie waiting for its reaper counts as gone). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!!why)('linux backend: state and recovery', () => {
  let h: Harness;
  beforeAll(async () => { h = await Harness.open(); });
  afterAll(async () => {
    const leaks = await h?.close();
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
  });

  const second = async () => {
    const b = new LinuxBackend();
    await b.init({ content: h.img.layout, stateDir: h.state });
    return b;
  };

  it('a second backend reattaches to a running container: kill, exec, wait, remove', async () => {
    const spec = h.spec('echo started; sleep 100');
    const c1 = await h.backend.create(spec);
    const out = sink();
    await c1.start({ stdout: out.stream, stderr: sink().stream });
    const b2 = await second();
    const c2 = (await b2.restore(spec.id, spec))!;
    expect(c2).toBeDefined();
    expect(c2.pid).toBe(c1.pid);
    const execOut = sink();
    const p = await c2.exec({ args: ['sh', '-c', 'ps -o comm | grep -c sleep'], env: [], cwd: '/' }, { stdout: execOut.stream, stderr: sink().stream });
    expect((await p.wait()).exitCode).toBe(0);
    expect(execOut.text()).toBe('1\n');
    await c2.kill('SIGTERM');
    expect(await c2.wait()).toMatchObject({ exitCode: 143, signal: 'SIGTERM' });
    expect(await c1.wait()).toMatchObject({ exitCode: 143 });
    expect(out.text()).toBe('started\n');
    await c2.remove();
    expect(await b2.restore(spec.id, spec)).toBeUndefined();
    await b2.close();
  });

  it('a second backend reads the exit of a container that ended, and can start it again', async () => {
    const spec = h.spec('echo run >> /tmp/runs; exit 42');
    const c1 = await h.backend.create(spec);
    expect((await startAndWait(c1)).exitCode).toBe(42);
    const b2 = await second();
    const c2 = (await b2.restore(spec.id, spec))!;
    expect(await c2.wait()).toMatchObject({ exitCode: 42 });
    const again = await startAndWait(c2);
    expect(again.exitCode).toBe(42);
    await c2.remove();
    await b2.close();
  });

  it('restores a container whose layers.json is not written yet (it is written off the create path)', async () => {
    const spec = h.spec('echo restored');
    const c1 = (await h.backend.create(spec)) as LinuxContainer;
    const written = () => (existsSync(c1.dir.layers) ? readFileSync(c1.dir.layers, 'utf8') : '');
    for (let i = 0; i < 200 && !written(); i++) await sleep(5); // the background write lands (the file may not exist yet)...
    writeFileSync(c1.dir.layers, ''); // ...and is undone, as a crash in between would leave it
    const b2 = await second();
    const c2 = (await b2.restore(spec.id, spec))!;
    expect(c2).toBeDefined();
    expect(await startAndWait(c2)).toMatchObject({ exitCode: 0, stdout: 'restored\n' });
    expect(b2.pruneLayers()).toEqual([]); // which layers it uses is unknown on disk: prune keeps all
    await c2.remove();
    await b2.close();
  });

  it('cleans up after a crash: helper and Engine gone, processes left, a stray cgroup', async () => {
    // What a crashed Engine leaves: a container started by a helper that then died too.
    const spec = h.spec('sleep 100');
    const c = (await h.backend.create(spec)) as LinuxContainer;
    const dir = join(h.state, 'containers', spec.id);
    writeFileSync(c.dir.config, JSON.stringify(c.config()));
    const cg = (await readdirCgroups(spec.id)).flatMap((p) => ['--cgroup', p]);
    const shim = spawn(findHelper(), ['run', '--bundle', c.dir.bundle, '--init', '--pid-file', c.dir.pidFile, '--exit-file', c.dir.exitFile, ...cg], { stdio: 'ignore', detached: true });
    for (let i = 0; i < 100 && !existsSync(c.dir.pidFile); i++) await sleep(10);
    const pids = JSON.parse(readFileSync(c.dir.pidFile, 'utf8')) as { shim: number; pid: number };
    expect(pids.shim).toBe(shim.pid);
    shim.kill('SIGKILL');
    await new Promise((r) => shim.once('exit', r));
    expect(alive(pids.pid)).toBe(true);

    // A stray cgroup with a process in it, as a crash between create and remove would leave.
    const strayId = `stray${process.pid}`;
    h.ids.push(strayId);
    const strayDir = join((await readdirCgroups(spec.id)).find((p) => p.includes('/pids/'))!, '..', strayId);
    mkdirSync(strayDir, { recursive: true });
    const sleeper = spawn('sleep', ['100'], { stdio: 'ignore' });
    writeFileSync(join(strayDir, 'cgroup.procs'), String(sleeper.pid));

    const b2 = new LinuxBackend();
    await b2.init({ content: h.img.layout, stateDir: h.state }); // init runs cleanupOrphans()
    expect(alive(pids.pid)).toBe(false);
    expect(existsSync(strayDir)).toBe(false);
    await new Promise((r) => sleeper.exitCode !== null || sleeper.signalCode !== null ? r(undefined) : sleeper.once('exit', r));
    const c2 = (await b2.restore(spec.id, spec))!;
    expect(await c2.wait()).toMatchObject({ exitCode: 137, error: expect.stringContaining('helper died') });
    await c2.remove();
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(c.dir.run)).toBe(false);
    expect(await b2.cleanupOrphans()).toEqual({ containers: [], cgroups: [], mounts: [] });
    await b2.close();
  });

  it('keeps per-boot files on tmpfs apart from the layer: after a host restart (its run directory gone) a never-mounted container starts, a mounted one is refused', async () => {
    const fresh = (await h.backend.create(h.spec('cat /etc/hostname'))) as LinuxContainer;
    expect(fresh.dir.run).not.toBe(fresh.dir.root);
    expect(fresh.dir.pidFile.startsWith(fresh.dir.root)).toBe(false);
    rmSync(fresh.dir.run, { recursive: true }); // what a reboot does to /run
    const r = await startAndWait(fresh);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`${fresh.id.slice(0, 12)}\n`);
    rmSync(fresh.dir.run, { recursive: true }); // its upper dir was mounted (volatile) in a boot we cannot vouch for now
    await expect(fresh.start({ stdout: sink().stream, stderr: sink().stream })).rejects.toMatchObject({ code: 'DATA_LOSS' });
    await fresh.remove();
    expect(existsSync(fresh.dir.root)).toBe(false);
  });

  it('writes nothing to the disk for a process that writes nothing: the upper dir stays empty (mount points come from the init layer)', async () => {
    const c = (await h.backend.create(h.spec('cat /etc/hostname /etc/hosts > /dev/null'))) as LinuxContainer;
    expect((await startAndWait(c)).exitCode).toBe(0);
    expect(readdirSync(c.dir.upper)).toEqual([]);
    await c.remove();
  });

  it('ends the container when its helper dies under a live backend, rather than leave it unwatched', async () => {
    const spec = h.spec('sleep 100');
    const c = (await h.backend.create(spec)) as LinuxContainer;
    const { done: run } = await startRunning(c);
    await sleep(50);
    const pids = JSON.parse(readFileSync(c.dir.pidFile, 'utf8')) as { shim: number; pid: number };
    process.kill(pids.shim, 'SIGKILL');
    const r = await run;
    expect(r.status).toMatchObject({ exitCode: 255, error: expect.stringContaining('processes were killed') });
    expect(alive(pids.pid)).toBe(false);
    await c.remove();
  });

  it('leaves alone a running container whose helper is alive (another Engine process may own it)', async () => {
    const spec = h.spec('sleep 100');
    const c = await h.backend.create(spec);
    const { done: run } = await startRunning(c);
    await sleep(30);
    const b2 = await second();
    expect((await b2.cleanupOrphans()).containers).not.toContain(spec.id);
    expect(c.pid && alive(c.pid)).toBe(true);
    await b2.close();
    await c.kill('SIGKILL');
    await run;
    await c.remove();
  });
});
