import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, linkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar } from './tar-reader.js';
import { TarWriter, type TarHeader } from './tar-writer.js';
import { gzip, decompressLayer, autoDecompress } from './compression.js';
import { classifyWhiteout } from './whiteout.js';
import { cleanEntryPath } from './paths.js';
import { collect, bytesStream } from '../content/util.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function write(entries: Array<[TarHeader, Uint8Array?]>): Promise<Uint8Array> {
  const w = new TarWriter();
  const out = collect(w.readable);
  for (const [h, b] of entries) await w.add(h, b);
  await w.finish();
  return out;
}

async function read(tar: Uint8Array) {
  const out: Array<{ header: TarHeader; body: string }> = [];
  for await (const e of readTar(bytesStream(tar))) out.push({ header: e.header, body: dec.decode(await e.bytes()) });
  return out;
}

const h = (path: string, type: TarHeader['type'], extra: Partial<TarHeader> = {}): TarHeader => ({ path, type, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1700000000, ...extra });

describe('tar', () => {
  it('round-trips every entry kind with long names, pax fields and xattrs', async () => {
    const long = 'd/' + 'x'.repeat(150) + '/' + 'y'.repeat(120) + '.txt';
    const tar = await write([
      [h('dir', 'directory', { mode: 0o755 })],
      [h('dir/file.txt', 'file', { size: 5, uid: 1000, gid: 1000, uname: 'u', gname: 'g' }), enc.encode('hello')],
      [h(long, 'file', { size: 2, mtime: 1700000000.25 }), enc.encode('hi')],
      [h('dir/link', 'symlink', { linkname: '../' + 'z'.repeat(200) })],
      [h('dir/hard', 'hardlink', { linkname: 'dir/file.txt' })],
      [h('dev/null', 'char', { devmajor: 1, devminor: 3 })],
      [h('fifo', 'fifo')],
      [h('ünïcode', 'file', { size: 1, xattrs: { 'user.k': enc.encode('v') }, uid: 3_000_000 }), enc.encode('u')],
    ]);
    expect(tar.length % 512).toBe(0);
    const got = await read(tar);
    expect(got.map((e) => e.header.path)).toEqual(['dir/', 'dir/file.txt', long, 'dir/link', 'dir/hard', 'dev/null', 'fifo', 'ünïcode']);
    expect(got[1]).toMatchObject({ body: 'hello', header: { uid: 1000, gid: 1000, uname: 'u', gname: 'g', size: 5, mode: 0o644 } });
    expect(got[2]!.header.mtime).toBe(1700000000.25);
    expect(got[3]!.header.linkname).toBe('../' + 'z'.repeat(200));
    expect(got[4]!.header).toMatchObject({ type: 'hardlink', linkname: 'dir/file.txt' });
    expect(got[5]!.header).toMatchObject({ type: 'char', devmajor: 1, devminor: 3 });
    expect(got[7]!.header.xattrs?.['user.k']).toEqual(enc.encode('v'));
    expect(got[7]!.header.uid).toBe(3_000_000);
    // Deterministic output.
    expect(await write([[h('a', 'file', { size: 1 }), enc.encode('a')]])).toEqual(await write([[h('a', 'file', { size: 1 }), enc.encode('a')]]));
  });

  it('is read by GNU tar, and reads GNU and POSIX archives GNU tar writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-'));
    const long = 'n'.repeat(130);
    const tar = await write([[h('top', 'directory', { mode: 0o755 })], [h(`top/${long}`, 'file', { size: 3 }), enc.encode('abc')], [h('top/s', 'symlink', { linkname: long })]]);
    writeFileSync(join(dir, 'ours.tar'), tar);
    mkdirSync(join(dir, 'x'));
    execFileSync('tar', ['-xf', join(dir, 'ours.tar'), '-C', join(dir, 'x')]);
    expect(readFileSync(join(dir, 'x', 'top', long), 'utf8')).toBe('abc');
    const src = join(dir, 'src');
    mkdirSync(join(src, 'sub', 'p'.repeat(120)), { recursive: true });
    writeFileSync(join(src, 'sub', 'p'.repeat(120), 'f'), 'deep');
    symlinkSync('sub', join(src, 'ln'));
    linkSync(join(src, 'sub', 'p'.repeat(120), 'f'), join(src, 'hard'));
    for (const format of ['gnu', 'posix', 'ustar']) {
      if (format === 'ustar') continue; // ustar cannot hold these names
      const out = join(dir, `${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', out, '-C', src, '.']);
      const entries = await read(readFileSync(out));
      const deep = entries.find((e) => e.header.path.endsWith('/f'));
      expect(deep?.body, format).toBe('deep');
      expect(entries.find((e) => e.header.path === './ln')?.header).toMatchObject({ type: 'symlink', linkname: 'sub' });
      expect(entries.some((e) => e.header.type === 'hardlink')).toBe(true);
    }
  });

  it('gzips and gunzips, and sniffs compression', async () => {
    const tar = await write([[h('a', 'file', { size: 3 }), enc.encode('abc')]]);
    const gz = await collect(bytesStream(tar).pipeThrough(gzip()));
    expect(gz[0]).toBe(0x1f);
    expect(await collect(decompressLayer(bytesStream(gz), 'application/vnd.oci.image.layer.v1.tar+gzip'))).toEqual(tar);
    expect(await collect(await autoDecompress(bytesStream(gz)))).toEqual(tar);
    expect(await collect(await autoDecompress(bytesStream(tar)))).toEqual(tar);
  });

  it('refuses corrupt and truncated archives with DATA_LOSS', async () => {
    const tar = await write([[h('a', 'file', { size: 600 }), new Uint8Array(600)]]);
    const bad = tar.slice();
    bad[10] ^= 0xff;
    await expect(read(bad)).rejects.toMatchObject({ code: 'DATA_LOSS' });
    await expect(read(tar.slice(0, 700))).rejects.toMatchObject({ code: 'DATA_LOSS' });
    await expect(read(enc.encode('not a tar file at all'.repeat(40)))).rejects.toMatchObject({ code: 'DATA_LOSS' });
  });

  it('skips unread bodies', async () => {
    const tar = await write([[h('a', 'file', { size: 1000 }), new Uint8Array(1000).fill(1)], [h('b', 'file', { size: 1 }), enc.encode('b')]]);
    const names: string[] = [];
    let last = '';
    for await (const e of readTar(bytesStream(tar))) { names.push(e.header.path); if (e.header.path === 'b') last = dec.decode(await e.bytes()); }
    expect(names).toEqual(['a', 'b']);
    expect(last).toBe('b');
  });

  it('classifies whiteouts and cleans paths', () => {
    expect(classifyWhiteout('a/.wh.b')).toEqual({ kind: 'whiteout', target: 'a/b' });
    expect(classifyWhiteout('a/.wh..wh..opq')).toEqual({ kind: 'opaque', dir: 'a' });
    expect(classifyWhiteout('a/b')).toBeUndefined();
    expect(() => classifyWhiteout('a/.wh.')).toThrowError(/whiteout/);
    expect(cleanEntryPath('./a//b/')).toBe('a/b');
    expect(cleanEntryPath('/abs/x')).toBe('abs/x');
    expect(cleanEntryPath('a/../b')).toBe('b');
    expect(() => cleanEntryPath('../x')).toThrowError(/outside/);
    expect(() => cleanEntryPath('a/../../x')).toThrowError(/outside/);
  });
});
