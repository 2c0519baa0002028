/**
 * Log rotation through `skiff daemon`, driven by the docker CLI as a user
 * would: `docker run --log-opt max-size=... --log-opt max-file=...` on both
 * backends (the Linux shim writes and rotates its log itself; a WASI
 * container's output is stored and rotated by the daemon), the daemon's
 * default log config, `docker logs` (the retained tail, in order) and
 * `docker logs -f` across rotations, `--log-driver none`, LogPath (the
 * json-file log tools read), and bad options.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxContext, docker, dockerBinary, startDaemon, type DaemonProcess, shutdownDaemon } from './support/harness.js';

const BUSYBOX = 'skiff-logs/busybox:1';
const TOOLBOX = 'skiff/toolbox';
/** The daemon's default: a container that sets no log options gets these. */
const DEFAULT_LOG = { type: 'json-file', config: { 'max-size': '3k', 'max-file': '2' } };
let d: DaemonProcess;
let tmp: string;
const run = (args: string[]) => docker(d.url, args, { env: { DOCKER_BUILDKIT: '0' } });

const logFiles = (id: string) => readdirSync(join(d.root, 'containers', id)).filter((f) => f.startsWith('container.log')).sort();
/** Output comes in chunks of up to 64 KiB (a WASI guest's batch, a pipe read by the shim), one log entry each: enough of them to rotate. */
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join('');

async function inspect(name: string): Promise<{ Id: string; LogPath: string; HostConfig: { LogConfig: unknown } }> {
  const r = await run(['inspect', name]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Array<{ Id: string; LogPath: string; HostConfig: { LogConfig: unknown } }>)[0]!;
}

beforeAll(async () => {
  dockerBinary();
  tmp = mkdtempSync(join(tmpdir(), 'skiff-logrot-'));
  d = await startDaemon({ backends: ['linux', 'wasm'], logConfig: DEFAULT_LOG });
  const built = await run(['build', '-q', '-t', BUSYBOX, busyboxContext(join(tmp, 'ctx'), ['sh', 'seq', 'sleep', 'echo'])]);
  if (built.code !== 0) throw new Error(`docker build failed: ${built.stderr}`);
}, 120_000);

afterAll(() => shutdownDaemon(d, tmp));

it('WASI: docker run --log-opt max-size=2k --log-opt max-file=3 keeps three files; docker logs gives the retained tail in order', async () => {
  const r = await run(['run', '--name', 'wlog', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', TOOLBOX, 'seq', '1', '200000']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(lines(1, 200000)); // attached, the client saw everything
  const c = await inspect('wlog');
  expect(c.HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '2k', 'max-file': '3' } });
  expect(logFiles(c.Id)).toEqual(['container.log', 'container.log.1', 'container.log.2']);
  const logs = await run(['logs', 'wlog']);
  expect(logs.code, logs.stderr).toBe(0);
  expect(logs.stdout.length).toBeGreaterThan(4000); // more than two files' worth
  expect(logs.stdout.length).toBeLessThan(lines(1, 200000).length); // the oldest were dropped
  expect(lines(1, 200000).endsWith(logs.stdout)).toBe(true);
  expect((await run(['logs', '--tail', '3', 'wlog'])).stdout).toBe(lines(199998, 200000));
});

it('Linux: the daemon default applies to a container without log options, and the shim rotates to it', async () => {
  const r = await run(['run', '--name', 'llog', BUSYBOX, 'seq', '1', '50000']);
  expect(r.code, r.stderr).toBe(0);
  const c = await inspect('llog');
  expect(c.HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '3k', 'max-file': '2' } });
  expect(logFiles(c.Id)).toEqual(['container.log', 'container.log.1']);
  const logs = await run(['logs', 'llog']);
  // Both files' output (docker's json-file lines), oldest first.
  const dataOf = (f: string) => readFileSync(join(d.root, 'containers', c.Id, f), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { log: string }).log).join('');
  expect(logs.stdout).toBe(dataOf('container.log.1') + dataOf('container.log'));
  expect(logs.stdout.length).toBeGreaterThan(dataOf('container.log.1').length);
  expect(logs.stdout.length).toBeLessThan(lines(1, 50000).length);
  expect(lines(1, 50000).endsWith(logs.stdout)).toBe(true);
  expect((await run(['logs', '--tail', '2', 'llog'])).stdout).toBe(lines(49999, 50000));
});

it('Linux: docker logs -f follows across rotations, missing and repeating nothing', async () => {
  // About ten lines every 50 ms, so the log rotates between the follower's reads.
  const script = 'sleep 1; i=0; while [ $i -lt 400 ]; do echo $i; i=$((i+1)); [ $((i % 10)) = 0 ] && sleep 0.05; done; true';
  const started = await run(['run', '-d', '--name', 'flog', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=4', BUSYBOX, 'sh', '-c', script]);
  expect(started.code, started.stderr).toBe(0);
  const followed = await new Promise<string>((resolve, reject) => {
    const child = spawn(dockerBinary(), ['logs', '-f', 'flog'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', DOCKER_HOST: d.url, DOCKER_CLI_HINTS: 'false' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`docker logs -f did not end; got ${out.length} bytes`)); }, 30_000);
    child.once('close', () => { clearTimeout(timer); resolve(out); });
  });
  expect(followed).toBe(lines(0, 399));
  const id = (await inspect('flog')).Id;
  expect(logFiles(id)).toEqual(['container.log', 'container.log.1', 'container.log.2', 'container.log.3']);
  // The rotated ones are gone from the stored log: the follower read them while they lasted.
  const after = (await run(['logs', 'flog'])).stdout;
  expect(after.length).toBeLessThan(followed.length);
  expect(followed.endsWith(after)).toBe(true);
  const first = JSON.parse(readFileSync(join(d.root, 'containers', id, 'container.log.3'), 'utf8').split('\n')[0]!) as { log: string };
  expect(followed).toContain(first.log);
}, 60_000);

it('--log-driver none: the run streams, nothing is kept, docker logs refuses as dockerd does', async () => {
  const r = await run(['run', '--name', 'nlog', '--log-driver', 'none', BUSYBOX, 'echo', 'hi']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe('hi\n');
  const c = await inspect('nlog');
  expect(c.HostConfig.LogConfig).toEqual({ Type: 'none', Config: {} });
  expect(logFiles(c.Id)).toEqual([]);
  const logs = await run(['logs', 'nlog']);
  expect(logs.code).not.toBe(0);
  expect(logs.stderr).toContain('configured logging driver does not support reading');
});

it("LogPath is the container's json-file log, as dockerd's: docker's json-file lines holding the output; '' for the local and none drivers", async () => {
  /** The entries of a json-file log, checked line by line against docker's format. */
  const jsonFile = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => {
    const j = JSON.parse(l) as { log: string; stream: string; time: string };
    expect(Object.keys(j)).toEqual(['log', 'stream', 'time']);
    expect(j.stream).toMatch(/^std(out|err)$/);
    expect(j.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    return j;
  });
  const script = 'echo out 1; echo err >&2; echo "out \\"2\\""';
  for (const [name, image] of [['lpath', BUSYBOX], ['wpath', TOOLBOX]] as const) {
    const r = await run(['run', '--name', name, image, 'sh', '-c', script]);
    expect(r.code, r.stderr).toBe(0);
    const c = await inspect(name);
    expect(c.LogPath).toBe(join(d.root, 'containers', c.Id, 'container.log'));
    const entries = jsonFile(c.LogPath);
    expect(entries.filter((e) => e.stream === 'stdout').map((e) => e.log)).toEqual(['out 1\n', 'out "2"\n']);
    expect(entries.filter((e) => e.stream === 'stderr').map((e) => e.log)).toEqual(['err\n']);
  }
  for (const driver of ['local', 'none']) {
    const r = await run(['create', '--log-driver', driver, BUSYBOX, 'true']);
    expect(r.code, r.stderr).toBe(0);
    expect((await inspect(r.stdout.trim())).LogPath).toBe('');
    await run(['rm', r.stdout.trim()]);
  }
});

it('refuses drivers and options it does not have, saying what to use', async () => {
  const bad = async (args: string[], message: RegExp) => {
    const r = await run(['create', ...args, BUSYBOX, 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  };
  await bad(['--log-driver', 'syslog'], /logging driver "syslog" is not supported: use json-file/);
  await bad(['--log-opt', 'max-size=ten'], /invalid log opt max-size "ten"/);
  await bad(['--log-opt', 'max-size=1m', '--log-opt', 'max-file=0'], /max-file cannot be less than 1/);
  await bad(['--log-opt', 'foo=bar'], /unknown log opt 'foo' for json-file log driver/);
  await bad(['--log-opt', 'labels=a'], /log opt 'labels' is not supported/);
  expect((await run(['ps', '-aq', '--filter', 'status=created'])).stdout).toBe('');
});
