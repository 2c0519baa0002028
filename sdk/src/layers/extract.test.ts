import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as nodeFs from 'node:fs';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Volume } from 'memfs';
import { TarWriter, type TarHeader } from './tar-writer.js';
import { collect, bytesStream } from '../content/util.js';
import { extractTar, extractTarSync, type ExtractOptions } from './extract.js';
import { FsTree } from './fs-tree.js';
import { MountedTree } from './mount-tree.js';
import type { FsLike } from '../runtime/backend.js';

const enc = new TextEncoder();

async function tar(entries: Array<[TarHeader, string?]>): Promise<ReadableStream<Uint8Array>> {
  const w = new TarWriter();
  const out = collect(w.readable);
  for (const [h, body] of entries) await w.add({ ...h, size: body ? enc.encode(body).length : 0 }, body ? enc.encode(body) : undefined);
  await w.finish();
  return bytesStream(await out);
}

const h = (path: string, type: TarHeader['type'], extra: Partial<TarHeader> = {}): TarHeader => ({ path, type, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1700000000, ...extra });
const file = (path: string, body: string, extra: Partial<TarHeader> = {}): [TarHeader, string] => [h(path, 'file', extra), body];

// The same rules from a stream (extractTar) and from bytes in memory (extractTarSync).
describe.each(['extractTar', 'extractTarSync'])('%s into a host directory', (how) => {
  let host: string;
  let root: string;
  let outside: string;
  const tree = () => new FsTree(nodeFs as unknown as FsLike, root);
  const put = async (dir: string, entries: Array<[TarHeader, string?]>, o: ExtractOptions = {}) => {
    if (how === 'extractTar') return extractTar(tree(), dir, await tar(entries), { container: 'test', ...o });
    const bytes = await collect(await tar(entries));
    extractTarSync(tree(), dir, bytes, { container: 'test', ...o });
  };

  beforeEach(() => {
    host = mkdtempSync(join(tmpdir(), 'skiff-extract-'));
    root = join(host, 'root');
    outside = join(host, 'outside');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'data'));
    mkdirSync(outside);
    writeFileSync(join(root, 'etc', 'motd'), 'hello\n');
  });
  afterEach(() => rmSync(host, { recursive: true, force: true }));

  it('writes files, directories, symlinks and hard links with their mode, owner and time', async () => {
    await put('/data', [
      [h('sub', 'directory', { mode: 0o750, uid: 1000, gid: 1000, mtime: 1600000000 })],
      file('sub/a.txt', 'aaa', { mode: 0o640, uid: 1000, gid: 100, mtime: 1500000000 }),
      [h('sub/ln', 'symlink', { linkname: 'a.txt', uid: 7, gid: 8 })],
      [h('sub/hard', 'hardlink', { linkname: 'sub/a.txt' })],
      file('top.txt', 'top'),
    ]);
    expect(readFileSync(join(root, 'data/sub/a.txt'), 'utf8')).toBe('aaa');
    const a = lstatSync(join(root, 'data/sub/a.txt'));
    expect([a.mode & 0o7777, a.uid, a.gid, Math.floor(a.mtimeMs / 1000), a.nlink]).toEqual([0o640, 1000, 100, 1500000000, 2]);
    expect(readlinkSync(join(root, 'data/sub/ln'))).toBe('a.txt');
    expect(lstatSync(join(root, 'data/sub/ln')).uid).toBe(7);
    const d = lstatSync(join(root, 'data/sub'));
    expect([d.mode & 0o7777, d.uid, Math.floor(d.mtimeMs / 1000)]).toEqual([0o750, 1000, 1600000000]);
    expect(readFileSync(join(root, 'data/top.txt'), 'utf8')).toBe('top');
  });

  it('gives everything the owner asked for (docker cp -a with a container user)', async () => {
    await put('/data', [file('x', 'x', { uid: 1000, gid: 1000 }), [h('y', 'directory', { uid: 5 })]], { owner: { uid: 33, gid: 34 } });
    expect([lstatSync(join(root, 'data/x')).uid, lstatSync(join(root, 'data/x')).gid, lstatSync(join(root, 'data/y')).uid]).toEqual([33, 34, 33]);
  });

  it('makes missing parents and keeps OCI whiteout names as plain files', async () => {
    await put('/', [file('new/deep/f', 'f'), file('etc/.wh.motd', ''), file('data/.wh..wh..opq', '')]);
    expect(readFileSync(join(root, 'new/deep/f'), 'utf8')).toBe('f');
    expect(lstatSync(join(root, 'new/deep')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(root, 'etc/motd'), 'utf8')).toBe('hello\n');
    expect(existsSync(join(root, 'etc/.wh.motd'))).toBe(true);
    expect(existsSync(join(root, 'data/.wh..wh..opq'))).toBe(true);
  });

  it('answers NOT_FOUND for a missing destination and INVALID_ARGUMENT for a file', async () => {
    await expect(put('/nope', [file('x', 'x')])).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('Could not find the file /nope') });
    await expect(put('/etc/motd', [file('x', 'x')])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('extraction point is not a directory') });
    await expect(put('relative', [file('x', 'x')])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('replaces files and directories unless noOverwriteDirNonDir says no', async () => {
    mkdirSync(join(root, 'data/d'));
    writeFileSync(join(root, 'data/d/inner'), 'i');
    await expect(put('/data', [file('d', 'now a file')], { noOverwriteDirNonDir: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('cannot overwrite directory') });
    writeFileSync(join(root, 'data/f'), 'f');
    await expect(put('/data', [[h('f', 'directory')]], { noOverwriteDirNonDir: true })).rejects.toMatchObject({ message: expect.stringContaining('cannot overwrite non-directory') });
    await put('/data', [file('d', 'now a file'), [h('f', 'directory')], file('etc', 'x')]);
    expect(readFileSync(join(root, 'data/d'), 'utf8')).toBe('now a file');
    expect(lstatSync(join(root, 'data/f')).isDirectory()).toBe(true);
  });

  it('refuses an entry that climbs out of the destination', async () => {
    await expect(put('/data', [file('../../../escape', 'x')])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(existsSync(join(host, 'escape'))).toBe(false);
    await expect(put('/data', [[h('hard', 'hardlink', { linkname: '../../../../etc/passwd' })]])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('follows symlinks in the archive and in the container inside the container root only', async () => {
    // The archive makes a link to the host's view of "above the root", then writes through it.
    await put('/data', [[h('up', 'symlink', { linkname: '../../../../..' })], file('up/escaped.txt', 'x'), [h('abs', 'symlink', { linkname: '/' })], file('abs/via-abs.txt', 'y')]);
    expect(existsSync(join(host, 'escaped.txt'))).toBe(false);
    expect(readFileSync(join(root, 'escaped.txt'), 'utf8')).toBe('x');
    expect(readFileSync(join(root, 'via-abs.txt'), 'utf8')).toBe('y');
    // A destination that is a symlink out of the root resolves inside it.
    symlinkSync(outside, join(root, 'out'));
    symlinkSync('../../outside', join(root, 'rel-out'));
    await expect(put('/out', [file('x', 'x')])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(put('/rel-out', [file('x', 'x')])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    mkdirSync(join(root, 'outside'));
    await put('/rel-out', [file('x', 'in the root')]);
    expect(readFileSync(join(root, 'outside/x'), 'utf8')).toBe('in the root');
    expect(existsSync(join(outside, 'x'))).toBe(false);
    // A file in the way is replaced, never written through: a symlink at the entry's own name is removed first.
    symlinkSync(join(outside, 'target'), join(root, 'data/f'));
    await put('/data', [file('f', 'replaced')]);
    expect(existsSync(join(outside, 'target'))).toBe(false);
    expect(lstatSync(join(root, 'data/f')).isFile()).toBe(true);
  });

  it('gives up on a symlink loop', async () => {
    symlinkSync('loop', join(root, 'loop'));
    await expect(put('/loop', [file('x', 'x')])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('too many levels of symbolic links') });
  });

  it('refuses read-only roots and mounts with docker\'s words', async () => {
    const mounts = [{ target: '/data', readOnly: true }, { target: '/etc', readOnly: false }];
    await expect(put('/data', [file('x', 'x')], { mounts })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('mounted volume is marked read-only') });
    await expect(put('/', [file('x', 'x')], { readOnlyRoot: true, mounts })).rejects.toMatchObject({ message: expect.stringContaining('container rootfs is marked read-only') });
    // The destination is writable, but an entry goes into the read-only mount.
    await expect(put('/', [file('data/x', 'x')], { mounts })).rejects.toMatchObject({ message: expect.stringContaining('mounted volume is marked read-only') });
    await put('/etc', [file('ok', 'ok')], { readOnlyRoot: true, mounts });
    expect(readFileSync(join(root, 'etc/ok'), 'utf8')).toBe('ok');
    expect(existsSync(join(root, 'data/x'))).toBe(false);
  });

  it('routes writes under a mount to its tree', async () => {
    const vol = Volume.fromJSON({ '/v/old': 'old' });
    const routed = new MountedTree(tree(), [{ target: '/data', tree: new FsTree(vol as unknown as FsLike, '/v') }]);
    await extractTar(routed, '/', await tar([file('data/new', 'into the volume'), file('etc/other', 'root')]));
    expect(vol.readFileSync('/v/new', 'utf8')).toBe('into the volume');
    expect(existsSync(join(root, 'data/new'))).toBe(false);
    expect(readFileSync(join(root, 'etc/other'), 'utf8')).toBe('root');
    await expect(extractTar(routed, '/', await tar([file('data', 'x')]))).rejects.toMatchObject({ message: expect.stringContaining('a volume or bind mount is mounted there') });
  });
});
