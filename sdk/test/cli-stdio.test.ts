/**
 * The skiff CLI as separate processes on the Linux backend: `run -d` returns
 * at once and the container's output is kept by its shim for `logs` and
 * `logs -f` from other processes (also across log rotations, --log-opt);
 * `exec -t` and `exec -it` in a terminal.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { busyboxBuildContext, linuxReady } from './support/cli.js';

const ready = linuxReady('the CLI stdio test');

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'sdk/bin/skiff.js');
let base: string;
let root: string;

/** `skiff --root ROOT ...args` as its own process. */
function skiff(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return skiffWith(undefined, ...args);
}

/** The same with `input` on its stdin. */
function skiffWith(input: string | undefined, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--root', root, ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.stderr!.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`skiff ${args.join(' ')} did not finish: ${stderr}`)); }, 30_000);
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'skiff-cli-stdio-'));
  root = join(base, 'root');
  if (!ready) return;
  // The CLI runs from its bundle, as users run it.
  const built = spawnSync(process.execPath, [join(REPO, 'scripts/build.mjs')], { cwd: REPO, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed: ${built.stderr}`);
  const b = await skiff('build', '-q', '-t', 'bb:1', '--platform', 'linux/amd64', busyboxBuildContext(base));
  if (b.code !== 0) throw new Error(`build failed: ${b.stderr}`);
}, 120_000);

afterAll(async () => {
  if (ready) {
    const ids = (await skiff('ps', '-aq')).stdout.split('\n').filter(Boolean);
    if (ids.length) await skiff('rm', '-f', ...ids);
  }
  rmSync(base, { recursive: true, force: true });
}, 60_000);

it.skipIf(!ready)('run -d returns while the container runs; logs and logs -f from other processes get all of its output', async () => {
  const started = await skiff('run', '-d', 'bb:1', 'sh', '-c', 'echo hi; sleep 2; echo bye >&2; echo last');
  expect(started.code, started.stderr).toBe(0);
  const id = started.stdout.trim();
  const ps = (await skiff('ps')).stdout.split('\n').find((l) => l.startsWith(id.slice(0, 12)));
  expect(ps).toMatch(/ Up /);
  const followed = await skiff('logs', '-f', id);
  expect(followed.code).toBe(0);
  expect(followed.stdout).toBe('hi\nlast\n');
  expect(followed.stderr).toBe('bye\n');
  const later = await skiff('logs', id);
  expect(later.stdout).toBe('hi\nlast\n');
  expect(later.stderr).toBe('bye\n');
  // -t: each line after its time, in nanoseconds as the log file keeps it (docker logs -t's format).
  const stamped = await skiff('logs', '-t', id);
  expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hi\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z last\n$/);
  expect(stamped.stdout).not.toMatch(/\.\d{3}000000Z/); // the shim's nanoseconds, not milliseconds padded
  expect((await skiff('rm', id)).code).toBe(0);
}, 60_000);

it.skipIf(!ready)('run -d --log-opt max-size/max-file: the shim rotates the log; logs -f from another process follows across rotations', async () => {
  // About 100 lines a second into files of about 27 lines: a follower loses lines
  // (the files dropped meanwhile, as with docker) only when over a second behind.
  const script = 'sleep 1; i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); [ $((i % 10)) = 0 ] && sleep 0.1; done; echo end >&2';
  const started = await skiff('run', '-d', '--name', 'rot', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=5', 'bb:1', 'sh', '-c', script);
  expect(started.code, started.stderr).toBe(0);
  const id = started.stdout.trim();
  const followed = await skiff('logs', '-f', 'rot');
  const all = Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join('');
  expect(followed.stdout).toBe(all);
  expect(followed.stderr).toBe('end\n');
  expect(readdirSync(join(root, 'containers', id)).filter((f) => f.startsWith('container.log')).sort()).toEqual(['container.log', 'container.log.1', 'container.log.2', 'container.log.3', 'container.log.4']);
  const kept = (await skiff('logs', 'rot')).stdout;
  expect(kept.length).toBeLessThan(all.length);
  expect(all.endsWith(kept)).toBe(true);
  const tail = await skiff('logs', '--tail', '2', 'rot'); // the last two lines: one on each stream
  expect([tail.stdout, tail.stderr]).toEqual(['line 299\n', 'end\n']);
  expect(JSON.parse((await skiff('inspect', 'rot')).stdout)[0].logConfig).toEqual({ type: 'json-file', config: { 'max-size': '2k', 'max-file': '5' } });
  expect((await skiff('rm', id)).code).toBe(0);
}, 60_000);

it.skipIf(!ready)('bad log options are refused before anything runs, by run and by daemon', async () => {
  expect(await skiff('run', '--rm', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=0', 'bb:1', 'true')).toMatchObject({ code: 125, stderr: expect.stringContaining('max-file cannot be less than 1') });
  expect(await skiff('run', '--rm', '--log-driver', 'journald', 'bb:1', 'true')).toMatchObject({ code: 125, stderr: expect.stringContaining('logging driver "journald" is not supported') });
  expect(await skiff('daemon', '--log-opt', 'max-size=lots')).toMatchObject({ code: 1, stderr: expect.stringContaining('invalid log opt max-size "lots"') });
}, 60_000);

/**
 * A command line under script(1) (a terminal); `typed` is typed at the shell's
 * first prompt. script stops reading its terminal about 10 ms after its child
 * exits, and the kernel may not have moved the last output to script's side
 * of the terminal by then on a busy machine: the typed lines sleep a moment
 * before they exit, so what the test checks is never that last output.
 */
function inTerminal(line: string, typed: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', line, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
      if (!done && /\/ # /.test(out)) { done = true; child.stdin.write(typed); }
    });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${line} did not finish: ${out}`)); }, 20_000);
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

it.skipIf(!ready)('run -it is interactive in a terminal, sized like it, and ends with the shell', async () => {
  const r = await inTerminal(`stty rows 22 cols 66; ${process.execPath} ${BIN} --root ${root} run --rm -it bb:1 sh`, 'stty size; tty; sleep 1; exit 2\n');
  expect(r.out).toMatch(/\n22 66\r+\n\/dev\/pts\/0\r+\n/);
  expect(r.code).toBe(2);
}, 60_000);

it.skipIf(!ready)('attach from another process gives stdin to a container started with run -d -i', async () => {
  const started = await skiff('run', '-d', '-i', 'bb:1', 'sh', '-c', 'read a; echo "got $a"; read b; echo "then $b" >&2; exit 5');
  expect(started.code, started.stderr).toBe(0);
  const id = started.stdout.trim();
  const r = await skiffWith('one\ntwo\n', 'attach', id);
  expect(r.stdout).toBe('got one\n');
  expect(r.stderr).toBe('then two\n');
  expect(r.code).toBe(5);
  expect((await skiff('rm', id)).code).toBe(0);
}, 60_000);

it.skipIf(!ready)('exec -t gives the process a terminal; exec -it in a terminal is interactive and sized like it', async () => {
  const started = await skiff('run', '-d', 'bb:1', 'sleep', '60');
  const id = started.stdout.trim();
  const t = await skiff('exec', '-t', id, 'sh', '-c', 'tty; echo $((6*7))');
  expect(t.code, t.stderr).toBe(0);
  expect(t.stdout).toMatch(/^\/dev\/pts\/\d+\r\n42\r\n$/);
  const r = await inTerminal(`stty rows 20 cols 70; ${process.execPath} ${BIN} --root ${root} exec -it ${id} sh`, 'stty size; echo $((6*7)); sleep 1; exit 4\n');
  expect(r.out).toMatch(/\n20 70\r+\n42\r+\n/); // Node's raw mode keeps ONLCR: \r\r\n
  expect(r.code).toBe(4);
  expect((await skiff('rm', '-f', id)).code).toBe(0);
}, 60_000);
