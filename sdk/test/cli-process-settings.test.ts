/**
 * skiff run's flags for docker's process settings on the Linux backend: what
 * the process sees (ulimit -n, /dev/shm, groups, resolv.conf, namespaces),
 * which signal stop sends (the image's STOPSIGNAL, --stop-signal), and
 * --stop-timeout; refused values fail the run with docker's 125.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusybox, linuxReady, skiff } from './support/cli.js';

const ready = linuxReady('the process settings CLI test');
let base: string;
let root: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'skiff-cli-settings-'));
  root = join(base, 'root');
  if (!ready) return;
  await buildBusybox(root, base, 'STOPSIGNAL SIGUSR1\n');
}, 120_000);

afterAll(async () => {
  if (ready) await skiff(root, 'rm', '-f', 'sig', 'slow');
  rmSync(base, { recursive: true, force: true });
});

const run = (...argv: string[]) => skiff(root, 'run', '--rm', ...argv);

it.skipIf(!ready)('the process sees --ulimit, --shm-size, --group-add, --dns*, --oom-score-adj and --pid/--ipc host', async () => {
  expect(await run('--ulimit', 'nofile=100:200', 'bb:1', 'sh', '-c', 'ulimit -n; ulimit -Hn')).toMatchObject({ code: 0, stdout: '100\n200\n' });
  // -1 is unlimited. Raising a hard limit over the host's needs CAP_SYS_RESOURCE, which a sandbox may withhold: then the start fails and says so.
  const unlimitedCore = /^Max core file size\s+\S+\s+unlimited/m.test(readFileSync('/proc/self/limits', 'utf8'));
  const core = await run('--ulimit', 'core=-1', '--ulimit', 'memlock=1024:4096', 'bb:1', 'sh', '-c', 'ulimit -c; ulimit -Hc; ulimit -l; ulimit -Hl');
  if (unlimitedCore) expect(core).toMatchObject({ code: 0, stdout: 'unlimited\nunlimited\n1\n4\n' });
  else expect(core).toMatchObject({ code: 125, stderr: expect.stringMatching(/setrlimit .*EPERM/) });
  expect((await run('--shm-size', '8m', 'bb:1', 'df', '-k', '/dev/shm')).stdout).toMatch(/\b8192\b/);
  expect((await run('--group-add', '10', '--group-add', '29', 'bb:1', 'cat', '/proc/self/status')).stdout).toMatch(/^Groups:\s+0 10 29\s*$/m);
  expect((await run('--dns', '1.1.1.1', '--dns-search', 'x', '--dns-option', 'ndots:2', 'bb:1', 'cat', '/etc/resolv.conf')).stdout).toBe('search x\nnameserver 1.1.1.1\noptions ndots:2\n');
  expect((await run('--oom-score-adj', '123', 'bb:1', 'cat', '/proc/self/oom_score_adj')).stdout).toBe('123\n');
  const ns = (await run('--pid', 'host', '--ipc', 'host', 'bb:1', 'sh', '-c', 'readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc')).stdout;
  expect(ns).toBe(`${readlinkSync('/proc/self/ns/pid')}\n${readlinkSync('/proc/self/ns/ipc')}\n`);
}, 60_000);

it.skipIf(!ready)('stop sends the image\'s STOPSIGNAL or --stop-signal, and waits --stop-timeout before SIGKILL', async () => {
  const traps = 'trap "echo got USR1; exit 3" USR1; trap "echo got INT; exit 5" INT; echo ready; while :; do sleep 1 & wait $!; done';
  for (const [flags, seen, code] of [[[], 'got USR1', 3], [['--stop-signal', 'INT'], 'got INT', 5]] as const) {
    expect((await skiff(root, 'run', '-d', '--name', 'sig', ...flags, 'bb:1', 'sh', '-c', traps)).code).toBe(0);
    for (let i = 0; i < 100 && !(await skiff(root, 'logs', 'sig')).stdout.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
    expect((await skiff(root, 'stop', 'sig')).code).toBe(0);
    expect((await skiff(root, 'logs', 'sig')).stdout).toBe(`ready\n${seen}\n`);
    const [rec] = JSON.parse((await skiff(root, 'container', 'inspect', 'sig')).stdout) as Array<{ state: { exitCode: number } }>;
    expect(rec!.state.exitCode).toBe(code);
    await skiff(root, 'rm', 'sig');
  }
  expect((await skiff(root, 'run', '-d', '--name', 'slow', '--stop-signal', 'TERM', '--stop-timeout', '1', 'bb:1', 'sh', '-c', 'trap "" TERM; while :; do sleep 1 & wait $!; done')).code).toBe(0);
  const t0 = Date.now();
  expect((await skiff(root, 'stop', 'slow')).code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(8000);
  const [rec] = JSON.parse((await skiff(root, 'container', 'inspect', 'slow')).stdout) as Array<{ state: { exitCode: number }; stopTimeout: number }>;
  expect(rec).toMatchObject({ state: { exitCode: 137 }, stopTimeout: 1 });
}, 60_000);

it.skipIf(!ready)('bad values fail the run with 125 and say what is wrong; help lists the flags', async () => {
  const bad = await run('--ulimit', 'nofile=200:100', 'bb:1', 'true');
  expect(bad.code).toBe(125);
  expect(bad.stderr).toMatch(/ulimit soft limit must be less than or equal to hard limit/);
  expect((await run('--pid', 'container:x', 'bb:1', 'true')).stderr).toMatch(/--pid=container:x is not supported by skiff/);
  const help = (await skiff(root, 'run', '--help')).stdout;
  for (const f of ['--stop-signal', '--stop-timeout', '--ulimit', '--shm-size', '--pid', '--ipc', '--uts', '--cgroupns', '--group-add', '--dns', '--dns-search', '--dns-option', '--oom-score-adj']) expect(help).toContain(f);
}, 60_000);
