/**
 * Hostile layers: each must be refused with INVALID_ARGUMENT, and nothing may
 * appear or change outside the target. Every case runs in its own parent
 * directory holding the target and an "outside" directory with a secret; the
 * parent is listed (with contents) before and after.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TarWriter, type TarHeader } from '../layers/tar-writer.js';
import { collect, bytesStream } from '../content/util.js';
import { unpackLayer, unpackLayers } from './unpack.js';

const enc = new TextEncoder();

async function tarOf(entries: Array<[TarHeader, Uint8Array?]>): Promise<Uint8Array> {
  const w = new TarWriter();
  const out = collect(w.readable);
  for (const [h, b] of entries) await w.add(h, b);
  await w.finish();
  return out;
}

/** A raw ustar header with any name (our writer would refuse some), checksummed. */
function rawEntry(name: string, flag: string, linkname = '', body = ''): Uint8Array {
  const data = enc.encode(body);
  const b = new Uint8Array(512 + Math.ceil(data.length / 512) * 512);
  const put = (off: number, s: string) => b.set(enc.encode(s), off);
  put(0, name);
  put(100, '0000644\0');
  put(108, '0000000\0');
  put(116, '0000000\0');
  put(124, data.length.toString(8).padStart(11, '0') + '\0');
  put(136, '13000000000\0');
  b[156] = flag.charCodeAt(0);
  put(157, linkname);
  put(257, 'ustar\0');
  put(263, '00');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  put(148, sum.toString(8).padStart(6, '0') + '\0 ');
  b.set(data, 512);
  return b;
}

function rawTar(...entries: Uint8Array[]): Uint8Array {
  const total = entries.reduce((n, e) => n + e.length, 0) + 1024;
  const out = new Uint8Array(total);
  let o = 0;
  for (const e of entries) { out.set(e, o); o += e.length; }
  return out;
}

const T = 1600000000;
const h = (path: string, type: TarHeader['type'], extra: Partial<TarHeader> = {}): TarHeader => ({ path, type, mode: type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, size: 0, mtime: T, ...extra });
const file = (path: string, data: string): [TarHeader, Uint8Array] => [h(path, 'file', { size: enc.encode(data).length }), enc.encode(data)];

/** Everything below `dir` outside `except`, with file contents and link targets. */
function outsideState(dir: string, except: string): string[] {
  const out: string[] = [];
  for (const rel of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
    if (rel === except || rel.startsWith(`${except}/`)) continue;
    const p = join(dir, rel);
    const st = lstatSync(p);
    out.push(`${rel} ${st.mode.toString(8)} ${st.isFile() ? readFileSync(p, 'utf8') : ''} ${st.mtimeMs}`);
  }
  return out;
}

describe('unpack refuses hostile layers and writes nothing outside', () => {
  let parent: string;
  let target: string;
  let outside: string;
  let before: string[];
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'skiff-hostile-'));
    target = join(parent, 'target');
    outside = join(parent, 'outside');
    mkdirSync(target);
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'untouched');
    before = outsideState(parent, 'target');
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  const refused = async (tar: Uint8Array | Uint8Array[], message: RegExp) => {
    const run = Array.isArray(tar) ? unpackLayers(tar.map((t) => bytesStream(t)), target) : unpackLayer(bytesStream(tar), target);
    await expect(run).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    expect(outsideState(parent, 'target')).toEqual(before);
  };

  it('../escape', async () => {
    await refused(rawTar(rawEntry('../escape', '0', '', 'x')), /"\.\.\/escape".*outside/);
    await refused(rawTar(rawEntry('../outside/secret', '0', '', 'overwritten')), /outside/);
  });

  it('/abs/path', async () => {
    await refused(rawTar(rawEntry(`${outside}/secret`, '0', '', 'overwritten')), /absolute path/);
    await refused(rawTar(rawEntry('/abs/path', '5')), /"\/abs\/path".*absolute/);
  });

  it('a/../../x', async () => {
    await refused(rawTar(rawEntry('a/../../x', '0', '', 'x')), /"a\/\.\.\/\.\.\/x"/);
  });

  it('symlink evil -> outside, then evil/file', async () => {
    await refused(await tarOf([[h('evil', 'symlink', { linkname: outside })], file('evil/file', 'pwned')]), /"evil\/file".*"evil", which is a symlink/);
    await refused(await tarOf([[h('evil', 'symlink', { linkname: outside })], file('evil/secret', 'pwned')]), /symlink/);
    await refused(await tarOf([[h('evil', 'symlink', { linkname: '/tmp/x' })], [h('evil/dir', 'directory')]]), /symlink/);
  });

  it('symlink up -> .., then up/up/file', async () => {
    await refused(await tarOf([[h('up', 'symlink', { linkname: '..' })], file('up/up/file', 'pwned')]), /"up\/up\/file".*"up", which is a symlink/);
    await refused(await tarOf([[h('up', 'symlink', { linkname: '..' })], file('up/outside/secret', 'pwned')]), /symlink/);
  });

  it('symlinks in deeper parents, and whiteouts or opaque markers through them', async () => {
    await refused(await tarOf([[h('a', 'directory')], [h('a/b', 'symlink', { linkname: '../..' })], file('a/b/outside/secret', 'x')]), /"a\/b", which is a symlink/);
    await refused(await tarOf([[h('evil', 'symlink', { linkname: outside })], file('evil/.wh.secret', '')]), /symlink/);
    await refused(await tarOf([[h('evil', 'symlink', { linkname: outside })], file('evil/.wh..wh..opq', '')]), /symlink/);
  });

  it('a symlink from a lower layer is never followed', async () => {
    await refused([await tarOf([[h('lib', 'symlink', { linkname: outside }) ]]), await tarOf([file('lib/secret', 'pwned')])], /"lib", which is a symlink/);
    await refused([await tarOf([[h('lib', 'symlink', { linkname: outside })]]), await tarOf([file('lib/.wh.secret', '')])], /symlink/);
    await refused([await tarOf([[h('lib', 'symlink', { linkname: outside })]]), await tarOf([[h('x', 'hardlink', { linkname: 'lib/secret' })]])], /symlink/);
  });

  it('a symlink in the target before unpacking is never followed', async () => {
    symlinkSync(outside, join(target, 'pre'));
    await refused(await tarOf([file('pre/secret', 'pwned')]), /"pre", which is a symlink/);
  });

  it('hard link to /etc/passwd', async () => {
    await refused(await tarOf([[h('passwd', 'hardlink', { linkname: '/etc/passwd' })]]), /"passwd".*"\/etc\/passwd".*absolute/);
    await refused(await tarOf([[h('s', 'hardlink', { linkname: `${outside}/secret` })]]), /absolute/);
  });

  it('hard link to ../../x', async () => {
    await refused(await tarOf([[h('x', 'hardlink', { linkname: '../../x' })]]), /"\.\.\/\.\.\/x" points outside/);
    await refused(await tarOf([[h('x', 'hardlink', { linkname: '../outside/secret' })]]), /outside/);
  });

  it('a symlink, then a hard link through it', async () => {
    await refused(await tarOf([[h('s', 'symlink', { linkname: outside })], [h('h', 'hardlink', { linkname: 's/secret' })]]), /"h".*"s", which is a symlink/);
  });

  it('a hard link to a symlink that points out', async () => {
    await refused(await tarOf([[h('s', 'symlink', { linkname: `${outside}/secret` })], [h('h', 'hardlink', { linkname: 's' })]]), /"h".*symlink that points outside/);
    await refused(await tarOf([[h('d', 'directory')], [h('d/s', 'symlink', { linkname: '../../outside/secret' })], [h('h', 'hardlink', { linkname: 'd/s' })]]), /points outside/);
  });

  it('allows what only looks alarming: absolute symlink targets, in-tree links, ".." that stays inside', async () => {
    await unpackLayer(bytesStream(await tarOf([
      [h('etc', 'directory')], file('etc/passwd', 'inside'),
      [h('abs', 'symlink', { linkname: '/etc/passwd' })],
      [h('rel', 'symlink', { linkname: '../etc' })],
      [h('d', 'directory')], [h('d/s', 'symlink', { linkname: '../etc/passwd' })],
      [h('hs', 'hardlink', { linkname: 'd/s' })],
      [h('hp', 'hardlink', { linkname: './etc/../etc/passwd' })],
      file('a/../b', 'b'),
    ])), target);
    expect(readFileSync(join(target, 'hp'), 'utf8')).toBe('inside');
    expect(readFileSync(join(target, 'b'), 'utf8')).toBe('b');
    expect(lstatSync(join(target, 'hs')).isSymbolicLink()).toBe(true);
    expect(outsideState(parent, 'target')).toEqual(before);
  });
});
