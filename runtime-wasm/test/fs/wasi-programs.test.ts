/**
 * The layered file system under real WASI programs (wasi-libc, clang): the
 * same file-system script runs with skiff's fds as preopens under the shim's
 * own WASI class and under skiff's WASI host, and under Node's node:wasi over
 * a host directory holding the same merged tree; the outputs must agree.
 * Also the bench goal: 2,000 files created, stat'ed, read and deleted.
 */
import { closeSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI as NodeWasi } from 'node:wasi';
import { ConsoleStdout, Directory, File, OpenFile, PreopenDirectory, WASI, type Fd } from '@bjorn3/browser_wasi_shim';
import { describe, expect, it } from 'vitest';
import { createContainerFs } from '../../src/fs/container.js';
import { dir, file, hardlink, layer, symlink, whiteout } from '../../src/fs/test-fixtures.js';
import { WasiProcess } from '../../src/process.js';

const programsDir = new URL('../../src/fs/testdata/', import.meta.url);
const fsops = await WebAssembly.compile(readFileSync(new URL('fsops.wasm', programsDir)));
const dec = new TextDecoder();

/** Runs a module under the shim's WASI class with the given preopen fds. */
async function underShim(module: WebAssembly.Module, args: string[], preopens: Fd[]): Promise<{ code: number; out: string }> {
  let out = '';
  const stdout = new ConsoleStdout((b) => (out += dec.decode(b, { stream: true })));
  const stderr = new ConsoleStdout((b) => (out += dec.decode(b, { stream: true })));
  const wasi = new WASI(['fsops', ...args], [], [new OpenFile(new File([])), stdout, stderr, ...preopens], { debug: false });
  const inst = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
  const code = wasi.start(inst as unknown as { exports: { memory: WebAssembly.Memory; _start: () => unknown } });
  return { code, out };
}

/** Runs a module under skiff's WASI host (src/wasi) with the given preopens. */
async function underHost(module: WebAssembly.Module, args: string[], preopens: Array<{ name: string; fd: Fd }>): Promise<{ code: number; out: string }> {
  let out = '';
  const p = new WasiProcess(
    { module, argv: ['fsops', ...args], path: '/fsops' },
    { stdout: (c: Uint8Array) => (out += dec.decode(c, { stream: true })), stderr: (c: Uint8Array) => (out += dec.decode(c, { stream: true })) },
    { preopens, env: [], cwd: '/' },
  );
  const r = await p.run();
  return { code: r.exitCode, out };
}

/** Runs a module under node:wasi with a host directory as `/`. */
function underNode(module: WebAssembly.Module, args: string[], root: string): { code: number; out: string } {
  const outPath = join(root, '..', 'stdout');
  const fd = openSync(outPath, 'w');
  try {
    const wasi = new NodeWasi({ version: 'preview1', args: ['fsops', ...args], env: {}, preopens: { '/': root }, stdout: fd, stderr: fd, returnOnExit: true });
    const inst = new WebAssembly.Instance(module, wasi.getImportObject() as WebAssembly.Imports);
    const code = wasi.start(inst);
    return { code, out: readFileSync(outPath, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

/** Layers whose merged view is the tree `hostTree` writes. */
async function image() {
  return [
    await layer([
      dir('etc'), file('etc/hostname', 'base'), file('etc/passwd', 'root'), hardlink('etc/h2', 'etc/hostname'),
      dir('usr/bin'), file('usr/bin/tool', 'v1'), file('usr/bin/old', 'old'), dir('var/cache'), file('var/cache/x', 'x'),
      symlink('etc/motd', 'hostname'), dir('tmp'), dir('dev'),
    ]),
    await layer([file('usr/bin/tool', 'v2'), whiteout('usr/bin/.wh.old'), whiteout('var/cache/.wh..wh..opq'), file('var/cache/y', 'y')]),
  ];
}

function hostTree(root: string): void {
  for (const d of ['etc', 'usr/bin', 'var/cache', 'tmp', 'dev']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'etc/hostname'), 'base');
  writeFileSync(join(root, 'etc/passwd'), 'root');
  linkSync(join(root, 'etc/hostname'), join(root, 'etc/h2'));
  writeFileSync(join(root, 'usr/bin/tool'), 'v2');
  writeFileSync(join(root, 'var/cache/y'), 'y');
  symlinkSync('hostname', join(root, 'etc/motd'));
}

const SCRIPT = [
  'cat:/etc/hostname', 'cat:/etc/motd', 'cat:/nope', 'ls:/', 'ls:/usr/bin', 'ls:/var/cache', 'stat:/etc/h2', 'lstat:/etc/motd',
  'write:/tmp/a:hello', 'cat:/tmp/a', 'append:/tmp/a:+more', 'cat:/tmp/a', 'excl:/tmp/a', 'excl:/tmp/b:x',
  'mkdir:/tmp/d', 'mkdir:/tmp/d', 'mkdir:/etc/hostname/x', 'rmdir:/etc', 'rmdir:/etc/hostname', 'unlink:/etc',
  'rename:/tmp/a:/tmp/d/a', 'cat:/tmp/d/a', 'rename:/tmp/d:/usr/bin', 'rename:/usr/bin:/tmp/bin2', 'ls:/tmp/bin2', 'ls:/usr',
  'cat:/tmp/bin2/tool', 'write:/tmp/bin2/tool:v3', 'cat:/tmp/bin2/tool',
  'link:/etc/hostname:/tmp/hl', 'stat:/tmp/hl', 'write:/etc/h2:through-h2', 'cat:/tmp/hl', 'unlink:/etc/hostname', 'stat:/tmp/hl',
  'readlink:/tmp/hl', 'readlink:/etc/motd', 'stat:/tmp/hl/', 'write:/tmp/newdir/:x',
  'truncate:/tmp/hl:2', 'cat:/tmp/hl', 'seekwrite:/tmp/hl:Z', 'mtime:/tmp/hl:1000000', 'rmdir:/var/cache', 'unlink:/var/cache/y',
  'rmdir:/var/cache', 'ls:/var', 'mkdir:/var/cache', 'ls:/var/cache', 'ls:/tmp', 'ls:/etc',
];
/** symlink(2): the shim's WASI class answers ENOTSUP without asking the fd, so only skiff's host runs these. */
const SYMLINKS = [
  'symlink:hl:/tmp/sl', 'readlink:/tmp/sl', 'cat:/tmp/sl', 'lstat:/tmp/sl', 'stat:/tmp/sl',
  'symlink:loop2:/tmp/loop1', 'symlink:loop1:/tmp/loop2', 'cat:/tmp/loop1', 'symlink:x:/tmp/sl', 'unlink:/tmp/sl', 'ls:/tmp',
];

describe('WASI programs over the layered file system', () => {
  it('give the same output under the shim, skiff\'s host and node:wasi over a real directory', async () => {
    const expected = (() => {
      const base = mkdtempSync(join(tmpdir(), 'skiff-fsops-'));
      try {
        mkdirSync(join(base, 'root'));
        hostTree(join(base, 'root'));
        return underNode(fsops, [...SCRIPT, ...SYMLINKS], join(base, 'root'));
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    })();
    expect(expected.code).toBe(0);
    expect(expected.out).toContain('ls /tmp/bin2 -> tool');
    const common = expected.out.split('\n').slice(0, SCRIPT.length).join('\n') + '\n';

    const layers = await image();
    const shim = await underShim(fsops, SCRIPT, createContainerFs({ layers }).fds);
    expect(shim.out).toBe(common);
    expect(shim.code).toBe(0);

    const fs = createContainerFs({ layers });
    const host = await underHost(fsops, [...SCRIPT, ...SYMLINKS], fs.preopens);
    expect(host.out).toBe(expected.out);
    expect(host.code).toBe(0);
  });

  it('keeps paths inside the container: `..` and absolute symlinks stop at its root', async () => {
    const layers = [...(await image()), await layer([symlink('tmp/abs', '/etc'), symlink('tmp/up', '../../../../../etc/passwd'), symlink('tmp/root', '/')])];
    const script = ['cat:/tmp/abs/hostname', 'cat:/etc/../../../etc/hostname', 'cat:/tmp/up', 'ls:/tmp/root/../..', 'write:/tmp/root/../../made:x', 'cat:/made'];
    const want = ['cat /tmp/abs/hostname -> [base]', 'cat /etc/../../../etc/hostname -> [base]', 'cat /tmp/up -> [root]', 'ls /tmp/root/../.. -> dev etc tmp usr var', 'write /tmp/root/../../made -> ok', 'cat /made -> [x]'];
    const shim = await underShim(fsops, script, createContainerFs({ layers }).fds);
    expect(shim.out.split('\n').filter(Boolean)).toEqual(want);
    // skiff's host follows wasmtime where `..` would climb above a preopen (EPERM), so only the symlink part is common.
    const host = await underHost(fsops, script.slice(0, 1), createContainerFs({ layers }).preopens);
    expect(host.out.split('\n').filter(Boolean)).toEqual(want.slice(0, 1));
  });

  // The speed of this workload is measured in bench/ (wasi-files), side by side; here only its results count.
  it('runs the 2,000-file workload of the bench on the shim tree, on skiff fs under the shim, and under skiff\'s host, and leaves /tmp empty', async () => {
    const layers = await image();
    const args = ['bench:/tmp:2000'];
    const shimTree = () => [new PreopenDirectory('/', new Map([['tmp', new Directory(new Map())]]))];
    expect((await underShim(fsops, args, shimTree())).out).toBe('bench /tmp 2000 -> ok\n');
    const ours = createContainerFs({ layers });
    expect((await underShim(fsops, args, ours.fds)).out).toBe('bench /tmp 2000 -> ok\n');
    expect((await underShim(fsops, ['ls:/tmp'], ours.fds)).out).toBe('ls /tmp ->\n');
    expect((await underHost(fsops, args, createContainerFs({ layers }).preopens)).out).toBe('bench /tmp 2000 -> ok\n');
    // Nothing was left behind in the layers either.
    const after = createContainerFs({ layers });
    expect((await underShim(fsops, ['ls:/tmp'], after.fds)).out).toBe('ls /tmp ->\n');
  });
});
