import { describe, it, expect } from 'vitest';
import { readTar, readTarBytes } from './tar-reader.js';
import { TarWriter, tarBytes, type TarHeader } from './tar-writer.js';
import { collect, bytesStream } from '../content/util.js';
import { verifyingStream } from '../image/digest.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Writes with TarWriter; when every body is in memory, tarBytes must give the same bytes (or the same error). */
export async function write(entries: Array<[TarHeader, (Uint8Array | ReadableStream<Uint8Array>)?]>): Promise<Uint8Array> {
  const w = new TarWriter();
  const out = collect(w.readable);
  let result: Uint8Array | undefined;
  let failure: unknown;
  try {
    for (const [h, b] of entries) await w.add(h, b);
    await w.finish();
    result = await out;
  } catch (err) {
    failure = err;
    await out.catch(() => {});
  }
  if (entries.every(([, b]) => b === undefined || b instanceof Uint8Array)) {
    const sync = (() => { try { return tarBytes(entries.map(([header, body]) => ({ header, ...(body ? { body: body as Uint8Array } : {}) }))); } catch (err) { return err; } })();
    if (failure) expect(sync).toMatchObject({ code: (failure as { code?: string }).code });
    else expect(sync).toEqual(result);
  }
  if (failure) throw failure;
  return result!;
}

/** Reads with readTar; for bytes in memory, readTarBytes must give the same entries (or the same error). */
async function read(tar: Uint8Array | ReadableStream<Uint8Array>) {
  const out: Array<{ header: TarHeader; body: string }> = [];
  let failure: unknown;
  try {
    for await (const e of readTar(tar instanceof Uint8Array ? bytesStream(tar) : tar)) out.push({ header: e.header, body: dec.decode(await e.bytes()) });
  } catch (err) {
    failure = err;
  }
  if (tar instanceof Uint8Array) {
    const sync: typeof out = [];
    let syncFailure: unknown;
    try {
      for (const e of readTarBytes(tar)) sync.push({ header: e.header, body: dec.decode(e.body) });
    } catch (err) {
      syncFailure = err;
    }
    if (failure) expect(syncFailure).toMatchObject({ code: (failure as { code?: string }).code });
    else expect(sync).toEqual(out);
  }
  if (failure) throw failure;
  return out;
}

const h = (path: string, type: TarHeader['type'], extra: Partial<TarHeader> = {}): TarHeader => ({ path, type, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1700000000, ...extra });

/** A raw 512-byte header, for archives our writer would never make. */
function rawHeader(f: { name: string; flag: string; size?: number | Uint8Array; mode?: string; magic?: string; version?: string; prefix?: string; linkname?: string; mtime?: Uint8Array; uid?: Uint8Array; badSum?: boolean; signedSum?: boolean }): Uint8Array {
  const b = new Uint8Array(512);
  const put = (off: number, s: string) => b.set(enc.encode(s), off);
  put(0, f.name);
  put(100, f.mode ?? '0000644\0');
  if (f.uid) b.set(f.uid, 108); else put(108, '0000000\0');
  put(116, '0000000\0');
  if (f.size instanceof Uint8Array) b.set(f.size, 124);
  else put(124, (f.size ?? 0).toString(8).padStart(11, '0') + '\0');
  if (f.mtime) b.set(f.mtime, 136); else put(136, '14540000000\0');
  b[156] = f.flag.charCodeAt(0);
  if (f.linkname) put(157, f.linkname);
  if (f.magic !== undefined) put(257, f.magic);
  if (f.version !== undefined) put(263, f.version);
  if (f.prefix) put(345, f.prefix);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += f.signedSum && b[i]! > 127 ? b[i]! - 256 : b[i]!;
  put(148, ((f.badSum ? sum + 1 : sum) >>> 0).toString(8).padStart(6, '0') + '\0 ');
  if (f.signedSum) put(148, (sum < 0 ? sum + 0o1000000 : sum).toString(8).padStart(6, '0') + '\0 ');
  return b;
}

function body(data: Uint8Array | string): Uint8Array {
  const d = typeof data === 'string' ? enc.encode(data) : data;
  const out = new Uint8Array(Math.ceil(d.length / 512) * 512);
  out.set(d);
  return out;
}

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function paxData(records: Record<string, string>): Uint8Array {
  let s = '';
  for (const [k, v] of Object.entries(records)) {
    const base = enc.encode(`${k}=${v}\n`).length + 1;
    let len = base + String(base).length;
    if (String(len).length !== String(base).length) len = base + String(len).length;
    s += `${len} ${k}=${v}\n`;
  }
  return enc.encode(s);
}

/** A stream that hands out `data` in chunks of `size` bytes. */
function chunked(data: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let o = 0;
  return new ReadableStream({
    pull(c) {
      if (o >= data.length) return c.close();
      c.enqueue(data.slice(o, o + size));
      o += size;
    },
  });
}

describe('tar writer and reader', () => {
  it('round-trips every entry kind with long names, pax fields and xattrs', async () => {
    const long = 'd/' + 'x'.repeat(150) + '/' + 'y'.repeat(120) + '.txt';
    const tar = await write([
      [h('dir', 'directory', { mode: 0o755 })],
      [h('dir/file.txt', 'file', { size: 5, uid: 1000, gid: 1000, uname: 'u', gname: 'g' }), enc.encode('hello')],
      [h(long, 'file', { size: 2, mtime: 1700000000.25 }), enc.encode('hi')],
      [h('dir/link', 'symlink', { linkname: '../' + 'z'.repeat(200) })],
      [h('dir/hard', 'hardlink', { linkname: 'dir/file.txt' })],
      [h('dev/null', 'char', { devmajor: 1, devminor: 3, mode: 0o666 })],
      [h('dev/sda', 'block', { devmajor: 8, devminor: 0 })],
      [h('fifo', 'fifo', { mode: 0o4755 })],
      [h('ünïcode', 'file', { size: 1, xattrs: { 'user.k': enc.encode('v'), 'security.capability': new Uint8Array([1, 0, 0, 2, 0xff, 0]) }, uid: 3_000_000, uname: 'ü' }), enc.encode('u')],
    ]);
    expect(tar.length % 512).toBe(0);
    const got = await read(tar);
    expect(got.map((e) => e.header.path)).toEqual(['dir/', 'dir/file.txt', long, 'dir/link', 'dir/hard', 'dev/null', 'dev/sda', 'fifo', 'ünïcode']);
    expect(got.map((e) => e.header.type)).toEqual(['directory', 'file', 'file', 'symlink', 'hardlink', 'char', 'block', 'fifo', 'file']);
    expect(got[0]!.header.mode).toBe(0o755);
    expect(got[1]).toMatchObject({ body: 'hello', header: { uid: 1000, gid: 1000, uname: 'u', gname: 'g', size: 5, mode: 0o644, mtime: 1700000000 } });
    expect(got[2]).toMatchObject({ body: 'hi', header: { mtime: 1700000000.25 } });
    expect(got[3]!.header.linkname).toBe('../' + 'z'.repeat(200));
    expect(got[4]!.header).toMatchObject({ type: 'hardlink', linkname: 'dir/file.txt', size: 0 });
    expect(got[5]!.header).toMatchObject({ type: 'char', devmajor: 1, devminor: 3, mode: 0o666 });
    expect(got[6]!.header).toMatchObject({ type: 'block', devmajor: 8, devminor: 0 });
    expect(got[7]!.header.mode).toBe(0o4755);
    expect(got[8]!.header.xattrs).toEqual({ 'user.k': enc.encode('v'), 'security.capability': new Uint8Array([1, 0, 0, 2, 0xff, 0]) });
    expect(got[8]!.header).toMatchObject({ uid: 3_000_000, uname: 'ü', size: 1 });
    expect(got[8]!.body).toBe('u');
  });

  it('keeps times exactly (fractions, before 1970, past the ustar range)', async () => {
    const times = [1700000000.1, 1700000000.123456789, 0, -1.5, -86400, 2 ** 33 + 0.5, 1e-7];
    const tar = await write(times.map((t, i) => [h(`f${i}`, 'file', { mtime: t }), new Uint8Array()]));
    expect((await read(tar)).map((e) => e.header.mtime)).toEqual(times);
  });

  it('writes plain ustar (no pax) when everything fits, and the same bytes for the same input', async () => {
    const entries = (): Array<[TarHeader, Uint8Array?]> => [[h('a/' + 'b'.repeat(99), 'file', { size: 1, uname: 'root' }), enc.encode('a')], [h('p'.repeat(150) + '/n', 'directory')]];
    const one = await write(entries());
    expect(one.length).toBe(512 + 512 + 512 + 1024);
    expect(dec.decode(one).includes('PaxHeaders')).toBe(false);
    expect(one).toEqual(await write(entries()));
    // pax appears only for what does not fit.
    const pax = await write([[h('a', 'file', { mtime: 1.5 }), new Uint8Array()]]);
    expect(pax.length).toBe(512 * 3 + 1024);
    expect(dec.decode(pax.subarray(512, 1024))).toMatch(/^\d+ mtime=1\.5\n/);
  });

  it('streams bodies with backpressure: the writer waits for the reader', async () => {
    const total = 64 << 20;
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(c) {
        if (produced >= total) return c.close();
        c.enqueue(new Uint8Array(256 << 10));
        produced += 256 << 10;
        maxAhead = Math.max(maxAhead, produced - consumed);
      },
    }, { highWaterMark: 0 });
    const w = new TarWriter();
    const added = w.add(h('big', 'file', { size: total }), source).then(() => w.finish());
    let seen = 0;
    for await (const e of readTar(w.readable)) {
      seen++;
      const r = e.stream().getReader();
      for (;;) {
        const { done, value } = await r.read();
        if (done) break;
        consumed += value.length;
        if (consumed % (8 << 20) === 0) await new Promise((res) => setTimeout(res, 1));
      }
    }
    await added;
    expect(seen).toBe(1);
    expect(consumed).toBe(total);
    expect(maxAhead).toBeLessThan(4 << 20);
  });

  it('refuses bad entries and a body of the wrong size, erroring the stream', async () => {
    const w = new TarWriter();
    const out = collect(w.readable);
    await expect(w.add(h('', 'file'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(w.add(h('s', 'symlink'))).rejects.toThrow(/linkname/);
    await expect(w.add(h('a', 'file', { size: 3 }), enc.encode('ab'))).rejects.toThrow(/3 bytes/);
    await expect(w.add(h('a', 'file', { size: 3 }), bytesStream(enc.encode('abcd')))).rejects.toThrow(/longer than its size/);
    await expect(out).rejects.toThrow(/longer than its size/);
    await expect(w.add(h('b', 'file'), new Uint8Array())).rejects.toThrow(/longer/);
  });

  it('serializes adds that are not awaited one by one', async () => {
    const w = new TarWriter();
    const out = collect(w.readable);
    const adds = ['a', 'b', 'c'].map((n) => w.add(h(n, 'file', { size: 600 }), chunked(new Uint8Array(600).fill(n.charCodeAt(0)), 100)));
    void w.finish();
    await Promise.all(adds);
    const got = await read(await out);
    expect(got.map((e) => [e.header.path, e.body[0], e.body.length])).toEqual([['a', 'a', 600], ['b', 'b', 600], ['c', 'c', 600]]);
  });
});

describe('tar reader', () => {
  it('skips unread bodies, and reads across any chunking', async () => {
    const tar = await write([
      [h('a', 'file', { size: 1000 }), new Uint8Array(1000).fill(1)],
      [h('p'.repeat(120), 'file', { size: 3, mtime: 1.25 }), enc.encode('xyz')],
      [h('b', 'file', { size: 1 }), enc.encode('b')],
    ]);
    for (const size of [1, 7, 511, 512, 513, 4096, tar.length]) {
      const names: string[] = [];
      const bodies: string[] = [];
      for await (const e of readTar(chunked(tar, size))) {
        names.push(e.header.path);
        if (e.header.path !== 'a') bodies.push(dec.decode(await e.bytes()));
      }
      expect(names, `chunks of ${size}`).toEqual(['a', 'p'.repeat(120), 'b']);
      expect(bodies).toEqual(['xyz', 'b']);
    }
  });

  it('refuses to read a body after moving on', async () => {
    const tar = await write([[h('a', 'file', { size: 3 }), enc.encode('abc')], [h('b', 'file')]]);
    const it = readTar(bytesStream(tar))[Symbol.asyncIterator]();
    const a = (await it.next()).value!;
    await it.next();
    await expect(a.bytes()).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await it.return?.();
  });

  it('reads pax global headers, local overrides, and bsdtar xattrs', async () => {
    const g = paxData({ uname: 'global-user', mtime: '1234.5', comment: 'x' });
    const x = paxData({ path: 'über/long/path', uname: 'local', 'LIBARCHIVE.xattr.user.a%3Db': btoa('val'), 'SCHILY.xattr.user.raw': 'r', mtime: '' });
    const tar = cat(
      rawHeader({ name: 'pax_global_header', flag: 'g', size: g.length, magic: 'ustar', version: '00' }), body(g),
      rawHeader({ name: 'first', flag: '0', magic: 'ustar', version: '00' }),
      rawHeader({ name: 'PaxHeaders/x', flag: 'x', size: x.length, magic: 'ustar', version: '00' }), body(x),
      rawHeader({ name: 'ignored', flag: '0', size: 2, magic: 'ustar', version: '00' }), body('ok'),
      new Uint8Array(1024),
    );
    const got = await read(tar);
    expect(got[0]!.header).toMatchObject({ path: 'first', uname: 'global-user', mtime: 1234.5 });
    // mtime= (empty) in the local header unsets the global one: the ustar field applies.
    expect(got[1]!.header).toMatchObject({ path: 'über/long/path', uname: 'local', mtime: 0o14540000000, size: 2 });
    expect(got[1]!.header.xattrs).toEqual({ 'user.a=b': enc.encode('val'), 'user.raw': enc.encode('r') });
    expect(got[1]!.body).toBe('ok');
  });

  it('reads base-256 numbers, GNU long names and links, prefixes, and v7 directories', async () => {
    const big = new Uint8Array(12);
    big[0] = 0x80;
    big[11] = 5; // size 5 in base-256
    const negTime = new Uint8Array(12).fill(0xff); // -1
    const uid = new Uint8Array(8);
    uid[0] = 0x80;
    uid.set([0x01, 0x00, 0x00, 0x00], 4); // 2^24
    const longName = 'n'.repeat(300);
    const longLink = 't'.repeat(200);
    const tar = cat(
      rawHeader({ name: 'b256', flag: '0', size: big, mtime: negTime, uid, magic: 'ustar ', version: ' \0' }), body('12345'),
      rawHeader({ name: '././@LongLink', flag: 'L', size: longName.length + 1, magic: 'ustar ', version: ' \0' }), body(longName + '\0'),
      rawHeader({ name: '././@LongLink', flag: 'K', size: longLink.length, magic: 'ustar ', version: ' \0' }), body(longLink),
      rawHeader({ name: 'short', flag: '2', linkname: 'short-target', magic: 'ustar ', version: ' \0' }),
      rawHeader({ name: 'name', prefix: 'pre/fix', flag: '0', magic: 'ustar', version: '00' }),
      rawHeader({ name: 'v7dir/', flag: '\0' }),
      rawHeader({ name: 'gnu-ignores-prefix', prefix: 'not-a-prefix', flag: '0', magic: 'ustar ', version: ' \0' }),
      rawHeader({ name: 'sparse', flag: 'S', size: 3 }), body('abc'),
      rawHeader({ name: 'signed', flag: '0', signedSum: true, linkname: '\xff' }),
      new Uint8Array(1024),
    );
    const got = await read(tar);
    expect(got.map((e) => e.header.path)).toEqual(['b256', longName, 'pre/fix/name', 'v7dir/', 'gnu-ignores-prefix', 'signed']);
    expect(got[0]).toMatchObject({ body: '12345', header: { size: 5, mtime: -1, uid: 2 ** 24 } });
    expect(got[1]!.header).toMatchObject({ type: 'symlink', linkname: longLink });
    expect(got[3]!.header.type).toBe('directory');
  });

  it('fails on corrupt and truncated archives with DATA_LOSS naming the place', async () => {
    const tar = await write([[h('first', 'file', { size: 600 }), new Uint8Array(600)], [h('second', 'file', { size: 10 }), new Uint8Array(10)]]);
    const bad = tar.slice();
    bad[1536 + 10] ^= 0xff; // inside the second header
    await expect(read(bad)).rejects.toMatchObject({ code: 'DATA_LOSS', message: expect.stringMatching(/checksum .*offset 1536 \(after entry "first"\)/) });
    await expect(read(tar.slice(0, 700))).rejects.toMatchObject({ code: 'DATA_LOSS', message: expect.stringMatching(/body of "first" \(600 bytes from offset 512\)/) });
    await expect(read(tar.slice(0, 1536 + 100))).rejects.toMatchObject({ code: 'DATA_LOSS', message: expect.stringMatching(/header at offset 1536 .* cut short/) });
    await expect(read(enc.encode('not a tar file at all'.repeat(40)))).rejects.toMatchObject({ code: 'DATA_LOSS', message: expect.stringMatching(/first entry/) });
    // Skipping an unread body past the end fails too.
    const skipped = async () => { for await (const _ of readTar(bytesStream(tar.slice(0, 700)))) { /* unread */ } };
    await expect(skipped()).rejects.toMatchObject({ code: 'DATA_LOSS' });
    // A bad pax record and a metadata record too big to buffer.
    const junk = enc.encode('99 path=x\n');
    await expect(read(cat(rawHeader({ name: 'x', flag: 'x', size: junk.length, magic: 'ustar' }), body(junk), new Uint8Array(1024)))).rejects.toThrow(/bad pax record/);
    const huge = rawHeader({ name: 'L', flag: 'L', size: 1 << 30, magic: 'ustar ' });
    await expect(read(cat(huge, new Uint8Array(1024)))).rejects.toThrow(/larger than the/);
    // A size field that lies does not make bytes() allocate it.
    await expect(read(cat(rawHeader({ name: 'liar', flag: '0', size: 2 ** 33 }), body('x')))).rejects.toThrow(/body of "liar"/);
  });

  it('reads the stream to its end, so a digest check upstream runs', async () => {
    const tar = cat(await write([[h('a', 'file', { size: 1 }), enc.encode('a')]]), new Uint8Array(8192));
    const ok = verifyingStream({ size: tar.length });
    await read(bytesStream(tar).pipeThrough(ok.stream));
    expect(ok.result().size).toBe(tar.length);
    const wrong = verifyingStream({ digest: 'sha256:' + '0'.repeat(64) });
    await expect(read(bytesStream(tar).pipeThrough(wrong.stream))).rejects.toMatchObject({ code: 'DATA_LOSS', message: expect.stringMatching(/digest mismatch/) });
  });

  it('cancels the source when the caller stops early', async () => {
    let cancelledWith: unknown = 'not cancelled';
    const tar = await write([[h('a', 'file')], [h('b', 'file')]]);
    const src = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(tar); }, cancel(r) { cancelledWith = r; } });
    for await (const e of readTar(src)) if (e.header.path === 'a') break;
    expect(cancelledWith).toBeUndefined();
  });
});
