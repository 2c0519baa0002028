import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, existsSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { TarWriter, type TarHeader } from '../layers/tar-writer.js';
import { collect, bytesStream } from '../content/util.js';
import { MediaType } from '../image/media-types.js';
import { unpackLayer, unpackLayers } from './unpack.js';

const enc = new TextEncoder();
const asRoot = process.getuid?.() === 0;

async function tarOf(entries: Array<[TarHeader, Uint8Array?]>): Promise<Uint8Array> {
  const w = new TarWriter();
  const out = collect(w.readable);
  for (const [h, b] of entries) await w.add(h, b);
  await w.finish();
  return out;
}

const T = 1600000000;
const h = (path: string, type: TarHeader['type'], extra: Partial<TarHeader> = {}): TarHeader => ({ path, type, mode: type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, size: 0, mtime: T, ...extra });
const file = (path: string, data: string | Uint8Array, extra: Partial<TarHeader> = {}): [TarHeader, Uint8Array] => {
  const b = typeof data === 'string' ? enc.encode(data) : data;
  return [h(path, 'file', { size: b.length, ...extra }), b];
};

/** Every path below `dir` with what matters about it, for comparing trees. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(dir, r);
      const st = lstatSync(p);
      const own = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${Math.round(st.mtimeMs)}`;
      if (st.isDirectory()) { out[r] = `dir ${own}`; walk(r); }
      else if (st.isSymbolicLink()) out[r] = `symlink ${readlinkSync(p)} ${st.uid}:${st.gid} ${Math.round(st.mtimeMs)}`;
      else if (st.isFile()) out[r] = `file ${own} ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 12)} nlink=${st.nlink}`;
      else if (st.isFIFO()) out[r] = `fifo ${own}`;
      else out[r] = `other ${st.mode.toString(8)}`;
    }
  };
  walk('');
  return out;
}

function list(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe('unpackLayer', () => {
  let work: string;
  beforeEach(() => { work = mkdtempSync(join(tmpdir(), 'skiff-unpack-')); });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('writes the same tree as GNU tar -x (files, dirs, links, fifos, modes, owners, times)', async () => {
    const big = new Uint8Array(3 << 20).map((_, i) => (i * 7) & 0xff);
    const tar = await tarOf([
      [h('etc', 'directory', { mtime: T + 1 })],
      file('etc/passwd', 'root:x:0:0\n', { mtime: T + 2 }),
      file('etc/shadow', 'secret', { mode: 0o640, gid: 42, mtime: T + 3 }),
      [h('usr', 'directory', { mode: 0o555, mtime: T + 4 })],
      [h('usr/bin', 'directory', { mtime: T + 5 })],
      file('usr/bin/su', 'su', { mode: 0o4755, mtime: T + 6 }),
      file('usr/bin/sg', 'sg', { mode: 0o2711, uid: 1000, gid: 1000, mtime: T + 6.5 }),
      file('usr/bin/big', big, { mtime: T + 7 }),
      file('usr/bin/empty', '', { mode: 0o600 }),
      [h('usr/bin/link', 'hardlink', { linkname: 'usr/bin/su' })],
      [h('bin', 'symlink', { linkname: 'usr/bin', mtime: T + 8 })],
      [h('abs', 'symlink', { linkname: '/etc/passwd', uid: 7, gid: 8 })],
      [h('deep/implicit/dir/f', 'file', { size: 1, mode: 0o777 }), enc.encode('x')],
      [h('run/pipe', 'fifo', { mode: 0o620 })],
      [h('tmp', 'directory', { mode: 0o1777, mtime: T + 9 })],
      [h('owned', 'directory', { uid: 123, gid: 456, mode: 0o700, mtime: T + 10 })],
      file('owned/f', 'o', { uid: 123, gid: 456 }),
    ]);
    const ours = join(work, 'ours');
    const gnu = join(work, 'gnu');
    mkdirSync(gnu);
    writeFileSync(join(work, 'l.tar'), tar);
    execFileSync('tar', ['-xf', join(work, 'l.tar'), '-C', gnu, ...(asRoot ? ['--same-owner', '--numeric-owner'] : [])]);
    const r = await unpackLayer(bytesStream(tar), ours);
    expect(r).toMatchObject({ entries: 17, files: 8, bytes: big.length + 11 + 6 + 2 + 2 + 1 + 1, devices: [], xattrs: [], whiteouts: [] });
    const a = snapshot(ours);
    const b = snapshot(gnu);
    // GNU tar leaves implicit parents at now; so do we.
    for (const k of ['deep', 'deep/implicit', 'deep/implicit/dir', 'run']) { expect(a[k]?.split(' ')[0]).toBe('dir'); delete a[k]; delete b[k]; }
    expect(a).toEqual(b);
    expect(a['usr/bin/su']).toMatch(/^file 4755 0:0 1600000006000 2 /);
    expect(a['etc']).toBe(`dir 755 0:0 ${(T + 1) * 1000}`);
    if (asRoot) expect(a['owned/f']).toMatch(/ 123:456 /);
    expect(readFileSync(join(ours, 'usr/bin/big')).equals(Buffer.from(big))).toBe(true);
  });

  it('returns device nodes and xattrs for the caller, replacing what stood there', async () => {
    mkdirSync(join(work, 't/dev'), { recursive: true });
    writeFileSync(join(work, 't/dev/null'), 'old');
    const tar = await tarOf([
      [h('dev/null', 'char', { devmajor: 1, devminor: 3, mode: 0o666 })],
      [h('dev/sda', 'block', { devmajor: 8, devminor: 0, mode: 0o660, gid: 6 })],
      [h('dev/null2', 'hardlink', { linkname: 'dev/null' })],
      [h('bin/ping', 'file', { size: 1, mode: 0o755, xattrs: { 'security.capability': new Uint8Array([1, 2, 3]) } }), enc.encode('p')],
      [h('gone', 'file', { xattrs: { 'user.a': enc.encode('1') } }), new Uint8Array()],
      [h('gone', 'symlink', { linkname: 'x' })],
    ]);
    const r = await unpackLayer(bytesStream(tar), join(work, 't'));
    expect(r.devices).toEqual([
      { path: 'dev/null', type: 'char', mode: 0o666, uid: 0, gid: 0, mtime: T, devmajor: 1, devminor: 3 },
      { path: 'dev/sda', type: 'block', mode: 0o660, uid: 0, gid: 6, mtime: T, devmajor: 8, devminor: 0 },
      { path: 'dev/null2', type: 'char', mode: 0o666, uid: 0, gid: 0, mtime: T, devmajor: 1, devminor: 3 },
    ]);
    expect(existsSync(join(work, 't/dev/null'))).toBe(false);
    expect(r.xattrs).toEqual([{ path: 'bin/ping', xattrs: { 'security.capability': new Uint8Array([1, 2, 3]) } }]);
  });

  it('unpacks a gzip blob natively when given its media type, and fails on a truncated one', async () => {
    const tar = await tarOf([file('a/b', 'hello'), file('c', new Uint8Array(2 << 20).fill(3))]);
    const gz = gzipSync(tar);
    const r = await unpackLayer(bytesStream(new Uint8Array(gz)), join(work, 't'), { mediaType: MediaType.OciLayerGzip });
    expect(r.files).toBe(2);
    expect(readFileSync(join(work, 't/a/b'), 'utf8')).toBe('hello');
    const cut = new Uint8Array(gz.subarray(0, gz.length >> 1));
    await expect(unpackLayer(bytesStream(cut), join(work, 'u'), { mediaType: MediaType.OciLayerGzip })).rejects.toThrow();
    await expect(unpackLayer(bytesStream(tar.subarray(0, 3000)), join(work, 'v'))).rejects.toMatchObject({ code: 'DATA_LOSS' });
    await expect(unpackLayer(bytesStream(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd])), join(work, 'w'), { mediaType: MediaType.OciLayerZstd })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('stops when the signal aborts', async () => {
    const ac = new AbortController();
    const entries: Array<[TarHeader, Uint8Array]> = [];
    for (let i = 0; i < 50; i++) entries.push(file(`f${i}`, 'x'));
    const tar = await tarOf(entries);
    let n = 0;
    const src = new ReadableStream<Uint8Array>({ pull(c) { if (n >= tar.length) return c.close(); c.enqueue(tar.slice(n, n + 1024)); n += 1024; if (n > 8192) ac.abort(); } });
    await expect(unpackLayer(src, join(work, 't'), { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(readdirSync(join(work, 't')).length).toBeLessThan(50);
  });

  it('sets directory modes and times once the whole stack is in', async () => {
    const t = join(work, 't');
    await unpackLayers([
      bytesStream(await tarOf([[h('ro', 'directory', { mode: 0o555, mtime: T + 50 })], file('ro/a', 'a')])),
      bytesStream(await tarOf([file('ro/b', 'b'), file('ro/.wh.a', '')])),
    ], t);
    const st = lstatSync(join(t, 'ro'));
    expect([st.mode & 0o7777, st.mtimeMs]).toEqual([0o555, (T + 50) * 1000]);
    expect(list(join(t, 'ro'))).toEqual(['b']);
  });

  it('within one layer, a later entry wins over writes still in flight (same path, file by dir, dir by file, link to a file just written)', async () => {
    const t = join(work, 't');
    const filler = Array.from({ length: 40 }, (_, i) => file(`d/fill${i}`, `x${i}`.repeat(i * 50)));
    const r = await unpackLayer(bytesStream(await tarOf([
      [h('d', 'directory')], ...filler,
      file('d/a', 'one'), file('d/a', 'two'),
      file('d/b', 'file'), [h('d/b', 'directory')], file('d/b/c', 'in b'),
      [h('d/e', 'symlink', { linkname: 'a' })], file('d/e', 'regular'),
      file('d/f', 'linked'), [h('d/g', 'hardlink', { linkname: 'd/f' })],
      [h('d/h', 'directory')], file('d/h/x', 'x'), file('d/h', 'now a file'),
      [h('d/s', 'symlink', { linkname: 'a' })], [h('d/s', 'symlink', { linkname: 'f' })],
      ...filler,
    ])), t);
    expect(r.files).toBe(88);
    expect(readFileSync(join(t, 'd/a'), 'utf8')).toBe('two');
    expect(readFileSync(join(t, 'd/b/c'), 'utf8')).toBe('in b');
    expect(lstatSync(join(t, 'd/e')).isFile()).toBe(true);
    expect(readFileSync(join(t, 'd/e'), 'utf8')).toBe('regular');
    expect(lstatSync(join(t, 'd/g')).ino).toBe(lstatSync(join(t, 'd/f')).ino);
    expect(readFileSync(join(t, 'd/g'), 'utf8')).toBe('linked');
    expect(readFileSync(join(t, 'd/h'), 'utf8')).toBe('now a file');
    expect(readlinkSync(join(t, 'd/s'))).toBe('f');
    for (let i = 0; i < 40; i++) expect(readFileSync(join(t, `d/fill${i}`), 'utf8')).toBe(`x${i}`.repeat(i * 50));
  });

  it('a failed write in flight fails the unpack, and nothing is written after it returns', async () => {
    const t = join(work, 't');
    mkdirSync(t);
    // A name too long for the file system fails its create on the thread pool.
    const long = 'n'.repeat(300);
    const entries = [[h('d', 'directory')] as [TarHeader], ...Array.from({ length: 30 }, (_, i) => file(`d/f${i}`, 'data')), file(`d/${long}`, 'x'), ...Array.from({ length: 30 }, (_, i) => file(`d/g${i}`, 'data'))];
    await expect(unpackLayer(bytesStream(await tarOf(entries)), t)).rejects.toThrow(/ENAMETOOLONG/);
    const after = list(join(t, 'd'));
    await new Promise((r) => setTimeout(r, 50));
    expect(list(join(t, 'd'))).toEqual(after);
  });

  it('replaces across layers: file by dir, dir by symlink, symlink by dir, and keeps merged dirs', async () => {
    const t = join(work, 't');
    await unpackLayers([
      bytesStream(await tarOf([[h('a', 'directory')], file('a/old', '1'), file('b', 'file'), [h('c', 'symlink', { linkname: '/nowhere' })], [h('d', 'directory')], file('d/keep', 'k')])),
      bytesStream(await tarOf([[h('a', 'symlink', { linkname: 'd' })], [h('b', 'directory')], file('b/new', '2'), [h('c', 'directory')], [h('d', 'directory', { mode: 0o700 })], file('d/add', 'a')])),
    ], t);
    expect(readlinkSync(join(t, 'a'))).toBe('d');
    expect(lstatSync(join(t, 'b')).isDirectory()).toBe(true);
    expect(lstatSync(join(t, 'c')).isDirectory()).toBe(true);
    expect(list(join(t, 'd'))).toEqual(['add', 'keep']);
    expect(lstatSync(join(t, 'd')).mode & 0o777).toBe(0o700);
  });
});

describe('whiteouts', () => {
  let work: string;
  beforeEach(() => { work = mkdtempSync(join(tmpdir(), 'skiff-unpack-wh-')); });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const lower = () => tarOf([
    [h('keep', 'directory')], file('keep/a', 'a'), file('keep/b', 'b'),
    [h('gone', 'directory')], file('gone/x', 'x'),
    [h('op', 'directory')], file('op/old1', '1'), [h('op/sub', 'directory')], file('op/sub/old2', '2'),
    [h('op2', 'directory')], file('op2/old', 'o'),
    file('f', 'f'),
    [h('dev/tty', 'char', { devmajor: 5, devminor: 0 })],
    [h('dev/gone', 'char', { devmajor: 1, devminor: 1 })],
    [h('op/dev', 'char', { devmajor: 1, devminor: 2 })],
  ]);
  const upper = () => tarOf([
    file('keep/.wh.a', ''),
    file('.wh.gone', ''),
    file('.wh.f', ''),
    [h('op', 'directory')],
    file('op/.wh..wh..opq', ''), // before the layer's own entries
    file('op/new', 'n'),
    [h('op2', 'directory')],
    [h('op2/sub', 'directory')], file('op2/sub/mine', 'm'), file('op2/mine', 'm'),
    file('op2/.wh..wh..opq', ''), // after them: still hides only the lower ones
    file('dev/.wh.gone', ''),
    file('.wh..wh.plnk/123', 'aufs'), // aufs bookkeeping: skipped
    file('.wh.never-existed', ''),
  ]);

  it("'apply' deletes lower files and empties opaque dirs, whatever the marker's place", async () => {
    const t = join(work, 't');
    const r = await unpackLayers([bytesStream(await lower()), { stream: async () => bytesStream(await upper()) }], t);
    expect(list(t)).toEqual(['dev', 'keep', 'keep/b', 'op', 'op/new', 'op2', 'op2/mine', 'op2/sub', 'op2/sub/mine']);
    // Devices still standing at the end: not the whited-out one, nor the one under the opaque dir.
    expect(r.devices.map((d) => d.path)).toEqual(['dev/tty']);
    expect(r.whiteouts).toEqual([]);
  });

  it("'record' deletes nothing and returns whiteouts and opaque dirs", async () => {
    const t = join(work, 't');
    await unpackLayer(bytesStream(await lower()), t);
    const before = snapshot(t);
    const up = join(work, 'upper');
    const r = await unpackLayer(bytesStream(await upper()), up, { whiteouts: 'record' });
    expect(r.whiteouts).toEqual(['keep/a', 'gone', 'f', 'dev/gone', 'never-existed']);
    expect(r.opaqueDirs).toEqual(['op', 'op2']);
    expect(list(up)).toEqual(['dev', 'keep', 'op', 'op/new', 'op2', 'op2/mine', 'op2/sub', 'op2/sub/mine']);
    // Recording into the lower tree itself touches nothing below either.
    const r2 = await unpackLayer(bytesStream(await tarOf([file('keep/.wh.a', ''), file('op/.wh..wh..opq', '')])), t, { whiteouts: 'record' });
    expect(r2).toMatchObject({ whiteouts: ['keep/a'], opaqueDirs: ['op'] });
    expect(snapshot(t)).toEqual(before);
  });

  it('a whiteout in the same layer as its target leaves the layer\'s own file', async () => {
    const t = join(work, 't');
    await unpackLayer(bytesStream(await tarOf([file('x', 'lower')])), t);
    await unpackLayer(bytesStream(await tarOf([file('x', 'mine'), file('.wh.x', '')])), t);
    expect(readFileSync(join(t, 'x'), 'utf8')).toBe('mine');
  });

  it('refuses a bare .wh. entry', async () => {
    await expect(unpackLayer(bytesStream(await tarOf([file('a/.wh.', '')])), join(work, 't'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('a/.wh.') });
  });
});

describe('unpack of a big gzip layer (GNU tar made it)', () => {
  it('matches GNU tar -x file for file', async () => {
    const work = mkdtempSync(join(tmpdir(), 'skiff-unpack-gnu-'));
    try {
      const src = join(work, 'src');
      for (let d = 0; d < 20; d++) {
        mkdirSync(join(src, `d${d}`, 'sub'), { recursive: true });
        for (let f = 0; f < 20; f++) writeFileSync(join(src, `d${d}`, f % 2 ? 'sub' : '', `f${f}`), 'x'.repeat((d * 997 + f * 131) % 20000));
      }
      writeFileSync(join(src, 'large'), Buffer.alloc(5 << 20, 1));
      execFileSync('tar', ['-C', src, '--numeric-owner', '-czf', join(work, 'l.tgz'), '.']);
      mkdirSync(join(work, 'gnu'));
      execFileSync('tar', ['-xzf', join(work, 'l.tgz'), '-C', join(work, 'gnu')]);
      const blob = Readable.toWeb(createReadStream(join(work, 'l.tgz'))) as ReadableStream<Uint8Array>;
      await unpackLayer(blob, join(work, 'ours'), { mediaType: MediaType.OciLayerGzip });
      const a = snapshot(join(work, 'ours'));
      expect(Object.keys(a).length).toBe(20 * 22 + 1);
      expect(a).toEqual(snapshot(join(work, 'gnu')));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('native gunzip', () => {
  it('cancels the blob when the unpack stops early', async () => {
    const { decompressLayerNode } = await import('./unpack-decompress.js');
    let cancelled = false;
    const gz = new Uint8Array(gzipSync(Buffer.alloc(4 << 20, 'a')));
    let sent = false;
    const blob = new ReadableStream<Uint8Array>({
      pull(c) { if (!sent) { c.enqueue(gz.subarray(0, 1000)); sent = true; } },
      cancel() { cancelled = true; },
    });
    const r = decompressLayerNode(blob, MediaType.OciLayerGzip).getReader();
    expect((await r.read()).value?.length).toBeGreaterThan(0);
    await r.cancel();
    await new Promise((res) => setTimeout(res, 50));
    expect(cancelled).toBe(true);
  });

  it('fails when the blob fails', async () => {
    const { decompressLayerNode } = await import('./unpack-decompress.js');
    const gz = new Uint8Array(gzipSync(Buffer.alloc(1 << 20, 'a')));
    const blob = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(gz.subarray(0, 100)); c.error(new Error('network gone')); } });
    await expect(collect(decompressLayerNode(blob, MediaType.OciLayerGzip))).rejects.toThrow(/network gone/);
  });
});
