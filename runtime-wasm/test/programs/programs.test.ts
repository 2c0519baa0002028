/**
 * The WASI test programs: the committed binaries are what build.sh makes;
 * the expected outputs are what Linux gives (the same C built natively and
 * run in an empty directory, or a chroot); and Node's node:wasi, the
 * reference host skiff is compared with, matches them except where listed
 * below, each listed difference being node's, not Linux's.
 *
 * UPDATE_EXPECTED=1 rewrites expected/*.out from the native runs.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedFile, expectedStdout, programCases, programFile, programsDir, type ProgramCase } from './cases.js';
import { runWasiInChild } from './node-wasi.js';
import { CLANG_MISSING, checkReproducibleBuild, ci, hasClang, useTempDirs } from './reproducible.js';

const update = process.env.UPDATE_EXPECTED === '1';
const tempDir = useTempDirs();

describe('test programs build.sh', () => {
  it.skipIf(!hasClang && !ci)('rebuilds every committed .wasm byte for byte', (ctx) => {
    const skip = checkReproducibleBuild(join(programsDir, 'build.sh'), join(programsDir, 'bin'));
    if (skip) ctx.skip(skip);
  }, 300_000);

  it('has a binary and an expected output for every case, and a case for every program', () => {
    const programs = readdirSync(join(programsDir, 'src')).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2));
    expect(new Set(programCases.map((c) => c.program))).toEqual(new Set(programs));
    expect(new Set(programCases.map((c) => c.name)).size).toBe(programCases.length);
    for (const c of programCases) {
      expect(existsSync(programFile(c)), programFile(c)).toBe(true);
      if (!update) expect(existsSync(expectedFile(c)), expectedFile(c)).toBe(true);
    }
  });
});

// ---------------------------------------------------------------- Linux

const isRoot = process.getuid?.() === 0;
const canUnshare = () => spawnSync('unshare', ['-r', 'true']).status === 0;

describe.skipIf(!hasClang && !ci)('expected outputs are Linux semantics (native build)', () => {
  let nativeDir = '';
  beforeAll(() => {
    if (!hasClang) throw new Error(CLANG_MISSING);
    nativeDir = tempDir('skiff-native-');
    const r = spawnSync('bash', [join(programsDir, 'build.sh'), '--native', nativeDir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`native build failed:\n${r.stderr}`);
  }, 120_000);

  function runNative(c: ProgramCase) {
    const root = tempDir(`skiff-native-${c.name}-`);
    const bin = join(nativeDir, c.program);
    let argv = [bin, ...c.args];
    const env: Record<string, string> = { ...c.env };
    if (c.chroot) {
      env.TEST_CHROOT = root;
      if (!isRoot) {
        if (!canUnshare()) throw new Error('the escapes case needs root or user namespaces (unshare -r) to chroot');
        argv = ['unshare', '-r', ...argv];
      }
    }
    // stdio are files, as in the WASI runs (node's pipes are sockets, which
    // recv would wait on); fd 3 is a directory, as the preopened root is.
    const io = tempDir(`skiff-native-io-${c.name}-`);
    writeFileSync(join(io, 'in'), c.stdin ?? '');
    const fds = [openSync(join(io, 'in'), 'r'), openSync(join(io, 'out'), 'w'), openSync(join(io, 'err'), 'w'), openSync(root, 'r')];
    try {
      const r = spawnSync(argv[0]!, argv.slice(1), { cwd: root, env, stdio: fds, timeout: 30_000 });
      return { status: r.status, signal: r.signal, stdout: readFileSync(join(io, 'out'), 'utf8'), stderr: readFileSync(join(io, 'err'), 'utf8') };
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  for (const c of programCases) {
    it(c.name, () => {
      const r = runNative(c);
      if (c.exit === 'trap') expect(r.signal, r.stderr).toMatch(/^SIG(ILL|SEGV|TRAP|BUS)$/);
      else expect([r.status, r.signal], r.stderr).toEqual([c.exit, null]);
      if (update) writeFileSync(expectedFile(c), r.stdout);
      expect(r.stdout).toBe(expectedStdout(c));
    });
  }
});

// ---------------------------------------------------------------- node:wasi

/**
 * Where node:wasi (uvwasi) differs from Linux: per case, the expected line
 * and the line node prints instead. A line that stops differing fails the
 * test, so the list stays true.
 */
const nodeDeviations: Record<string, Array<[linux: string, node: string]>> = {
  fs: [
    ['ftruncate on O_RDONLY: EINVAL', 'ftruncate on O_RDONLY: ENOTCAPABLE'],
    ['read on dir: EISDIR', 'read on dir: EBADF'],
    ['O_NOFOLLOW on symlink: ELOOP', 'O_NOFOLLOW on symlink: ok'],
    ['O_CREAT|O_EXCL on dangling symlink: EEXIST', 'O_CREAT|O_EXCL on dangling symlink: ok'],
    ['stat empty path: ENOENT', 'stat empty path: EINVAL'],
    // uvwasi keeps whole seconds of the times it sets.
    ['times: atime=1000000000.123456789 mtime=1234567890.987654321', 'times: atime=1000000000.000000000 mtime=1234567890.000000000'],
    ['times: atime=1000000000.123456789 mtime=2000000000.500000000', 'times: atime=1000000000.000000000 mtime=2000000000.000000000'],
  ],
  dirs: [
    ['rmdir dot: EINVAL', 'rmdir dot: ok'],
    // no "." and ".." entries
    ['readdir: 300 entries, dots 2, names f000..f299', 'readdir: 300 entries, dots 0, names f000..f299'],
    ['after rewinddir: 300 entries, dots 2, names f000..f299', 'after rewinddir: 300 entries, dots 0, names f000..f299'],
    ['raw fd_readdir from 16-byte buffers: 302 entries', 'raw fd_readdir from 16-byte buffers: 300 entries'],
  ],
  links: [
    ['readlink small buffer: 2 "fi"', 'readlink small buffer: ENOBUFS'],
    ['symlink empty target: ENOENT', 'symlink empty target: EINVAL'],
    // uvwasi resolves ".." lexically, through components that do not exist
    ['through long: ENOENT', 'through long: data'],
  ],
  poll: [
    ['poll file: 1', 'poll file: EPERM'],
    ['file revents: POLLIN POLLOUT', 'file revents: '],
    ['poll closed fd: 1', 'poll closed fd: 0'],
    ['closed fd revents: POLLNVAL', 'closed fd revents: no POLLNVAL'],
  ],
  // Not a socket: ENOTCAPABLE (shutdown: ENOTSUP) rather than ENOTSOCK.
  sockets: [
    ...['fd 3', 'directory', 'file'].flatMap((what): Array<[string, string]> => [
      [`accept ${what}: ENOTSOCK`, `accept ${what}: ENOTCAPABLE`],
      [`recv ${what}: ENOTSOCK`, `recv ${what}: ENOTCAPABLE`],
      [`send ${what}: ENOTSOCK`, `send ${what}: ENOTCAPABLE`],
      [`shutdown ${what}: ENOTSOCK`, `shutdown ${what}: ENOTSUP`],
    ]),
    ['shutdown bad fd: EBADF', 'shutdown bad fd: ENOTSUP'],
  ],
  // uvwasi refuses absolute symlink targets and never follows a symlink
  // that leaves the root; Linux (a chroot) stays inside.
  escapes: [
    ['symlink /sub/root -> /: ok', 'symlink /sub/root -> /: EPERM'],
    ['/sub/root/etc/passwd: inside', '/sub/root/etc/passwd: ENOENT'],
    ['/sub/up/etc/passwd: inside', '/sub/up/etc/passwd: ENOENT'],
    ['/sub/up/sub/up/etc/passwd: inside', '/sub/up/sub/up/etc/passwd: ENOENT'],
    ['symlink /sub/abs -> /etc/passwd: ok', 'symlink /sub/abs -> /etc/passwd: EPERM'],
    ['/sub/abs: inside', '/sub/abs: ENOENT'],
    ['/sub/deeper/up3/etc/passwd: inside', '/sub/deeper/up3/etc/passwd: ENOENT'],
    ['ls /sub/root/..: etc sub', 'ls /sub/root/..: deeper pw up'],
    ['etc/passwd after chdir /sub/up: inside', 'etc/passwd after chdir /sub/up: ENOENT'],
    ['../etc/passwd after chdir /sub/up: inside', '../etc/passwd after chdir /sub/up: ENOENT'],
  ],
};

/** Cases node:wasi cannot run at all: the test checks that this is still so. */
const nodeFailures: Record<string, { fails: 'hangs' | 'crashes'; why: string }> = {
  'poll-abstime': { fails: 'hangs', why: 'clock_nanosleep(TIMER_ABSTIME) does not return (poll_oneoff with an absolute clock)' },
  'sockets-stdout': { fails: 'crashes', why: 'sock_accept on stdout kills node with SIGSEGV' },
};

function applyDeviations(c: ProgramCase, expected: string): string {
  const lines = expected.split('\n');
  for (const [linux, node] of nodeDeviations[c.name] ?? []) {
    const i = lines.indexOf(linux);
    expect(i, `deviation for ${c.name} no longer matches the expected output: ${linux}`).toBeGreaterThanOrEqual(0);
    lines[i] = node;
  }
  return lines.join('\n');
}

describe('node:wasi runs the programs as Linux does, except the listed differences', () => {
  // node:wasi has no /dev/null to give a guest, so the cases that need one are not its to run.
  for (const c of programCases.filter((x) => !x.devNull)) {
    it(c.name, () => {
      // The root sits in a directory of its own, to see that nothing lands beside it.
      const jail = tempDir(`skiff-node-${c.name}-`);
      const root = join(jail, 'root');
      mkdirSync(root);
      const failure = nodeFailures[c.name];
      const r = runWasiInChild(programFile(c), [c.program, ...c.args], { root, env: c.env ?? {}, ...(c.stdin !== undefined ? { stdin: c.stdin } : {}) }, failure ? 5_000 : 30_000);
      if (failure) {
        // Known to fail under node; if it stops failing, check it fully and drop the entry.
        expect(failure.fails === 'hangs' ? r.timedOut : r.crashSignal !== null, `node:wasi ${failure.fails} on ${c.name}: ${failure.why}`).toBe(true);
        return;
      }
      expect([r.timedOut, r.crashSignal], r.stderr).toEqual([false, null]);
      if (c.exit === 'trap') expect(r.trap, r.stderr).toBeDefined();
      else expect([r.exitCode, r.trap], r.stderr).toEqual([c.exit, undefined]);
      // uvwasi turns a clock subscription's nanoseconds into whole milliseconds
      // for libuv's timer, whose clock is the loop's cached time, so any of
      // node's sleeps (nanosleep, clock_nanosleep, poll) sometimes ends a
      // little early; those lines may go either way (skiff's host never wakes early).
      const stdout = r.stdout.replace(/^(.*): TOO SHORT$/gm, '$1: waited long enough');
      expect(stdout).toBe(applyDeviations(c, expectedStdout(c)));
      expect(r.stdout).not.toMatch(/OUTSIDE/);
      expect(readdirSync(jail)).toEqual(['root']);
    }, 60_000);
  }
});
