import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { TarWriter, type TarHeader } from './tar-writer.js';
import { gzip, gunzip, decompressLayer, autoDecompress, sniffCompression, peek } from './compression.js';
import { compressLayer, measureLayer } from './diff.js';
import { classifyWhiteout, isWhiteoutMeta, whiteoutPath } from './whiteout.js';
import { cleanEntryPath, resolveInside, parentOf } from './paths.js';
import { collect, bytesStream } from '../content/util.js';
import { MediaType } from '../image/media-types.js';

const enc = new TextEncoder();
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function tarOf(entries: Array<[TarHeader, Uint8Array?]>): Promise<Uint8Array> {
  const w = new TarWriter();
  const out = collect(w.readable);
  for (const [h, b] of entries) await w.add(h, b);
  await w.finish();
  return out;
}

function chunked(data: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let o = 0;
  return new ReadableStream({ pull(c) { if (o >= data.length) return c.close(); c.enqueue(data.slice(o, o + size)); o += size; } });
}

describe('compression', () => {
  it('gzips and gunzips, picks by media type, and sniffs', async () => {
    const tar = await tarOf([[{ path: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: 0 }, enc.encode('abc')]]);
    const gz = await collect(bytesStream(tar).pipeThrough(gzip()));
    expect(sniffCompression(gz)).toBe('gzip');
    expect(sniffCompression(tar)).toBe('none');
    expect(sniffCompression(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0]))).toBe('zstd');
    expect(await collect(decompressLayer(bytesStream(gz), MediaType.OciLayerGzip))).toEqual(tar);
    expect(await collect(decompressLayer(bytesStream(gz), MediaType.DockerLayerGzip))).toEqual(tar);
    expect(await collect(decompressLayer(bytesStream(tar), MediaType.OciLayer))).toEqual(tar);
    // GNU gzip's output reads too, and unknown archives are sniffed even when the first chunk is tiny.
    const gnu = execFileSync('gzip', ['-c'], { input: tar });
    expect(await collect(await autoDecompress(chunked(new Uint8Array(gnu), 1)))).toEqual(tar);
    expect(await collect(await autoDecompress(chunked(tar, 3)))).toEqual(tar);
    expect(await collect(await autoDecompress(bytesStream(new Uint8Array())))).toEqual(new Uint8Array());
  });

  it('refuses zstd with UNSUPPORTED and says what to do', () => {
    expect(() => decompressLayer(bytesStream(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd])), MediaType.OciLayerZstd)).toThrowError(expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/zstd.*gzip/) }));
  });

  it('peek keeps every byte', async () => {
    const data = new Uint8Array(1000).map((_, i) => i & 0xff);
    const { head, stream } = await peek(chunked(data, 3), 10);
    expect([...head]).toEqual([...data.subarray(0, 10)]);
    expect(await collect(stream)).toEqual(data);
  });

  it('gunzips a large stream in bounded memory', async () => {
    const total = 200 << 20;
    const block = new Uint8Array(1 << 20);
    let made = 0;
    const zeros = new ReadableStream<Uint8Array>({
      pull(c) {
        if (made >= total) return c.close();
        c.enqueue(block);
        made += block.length;
      },
    }, { highWaterMark: 0 });
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    let seen = 0;
    const r = zeros.pipeThrough(gzip()).pipeThrough(gunzip()).getReader();
    for (;;) {
      const { done, value } = await r.read();
      if (done) break;
      seen += value.length;
      if ((seen & 0xffffff) < value.length) peak = Math.max(peak, process.memoryUsage().rss);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(seen).toBe(total);
    expect(peak - before).toBeLessThan(64 << 20);
  });
});

describe('layer digests', () => {
  it('computes digest and diffID in one pass, matching the bytes', async () => {
    const tar = await tarOf([[{ path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 5000, mtime: 0 }, new Uint8Array(5000).fill(7)]]);
    const { blob, done } = compressLayer(chunked(tar, 700));
    const bytes = await collect(blob);
    const d = await done;
    expect(d).toEqual({ digest: sha(bytes), size: bytes.length, diffId: sha(tar), diffSize: tar.length, mediaType: MediaType.OciLayerGzip });
    expect(await collect(bytesStream(bytes).pipeThrough(gunzip()))).toEqual(tar);
    // Deterministic for the same tar.
    const again = compressLayer(bytesStream(tar));
    expect(await collect(again.blob)).toEqual(bytes);
    // Uncompressed layers: digest == diffID.
    const plain = compressLayer(bytesStream(tar), { compression: 'none' });
    await collect(plain.blob);
    expect(await plain.done).toMatchObject({ digest: sha(tar), diffId: sha(tar), mediaType: MediaType.OciLayer });
    // measureLayer reads an existing blob once, GNU gzip's too.
    const gnu = new Uint8Array(gzipSync(tar, { level: 9 }));
    expect(await measureLayer(bytesStream(gnu), MediaType.OciLayerGzip)).toEqual({ digest: sha(gnu), size: gnu.length, diffId: sha(tar), diffSize: tar.length, mediaType: MediaType.OciLayerGzip });
    expect((await measureLayer(bytesStream(tar), MediaType.OciLayer)).diffId).toBe(sha(tar));
  });

  it('fails done when the tar stream fails or the blob is cancelled', async () => {
    const broken = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new Uint8Array(10)); c.error(new Error('disk gone')); } });
    const a = compressLayer(broken);
    await expect(collect(a.blob)).rejects.toThrow(/disk gone/);
    await expect(a.done).rejects.toThrow(/disk gone/);
    const b = compressLayer(bytesStream(new Uint8Array(100)));
    await b.blob.cancel('stop');
    await expect(b.done).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('paths and whiteouts', () => {
  it('cleans entry paths and refuses escapes, naming the entry', () => {
    expect(cleanEntryPath('./a//b/')).toBe('a/b');
    expect(cleanEntryPath('a/b')).toBe('a/b');
    expect(cleanEntryPath('/abs/x')).toBe('abs/x');
    expect(cleanEntryPath('a/./b/../c')).toBe('a/c');
    expect(cleanEntryPath('./')).toBe('');
    expect(cleanEntryPath('.')).toBe('');
    expect(cleanEntryPath('a/..b/c..')).toBe('a/..b/c..');
    for (const bad of ['../x', 'a/../../x', '..', './..', '/..']) {
      expect(() => cleanEntryPath(bad)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`"${bad}"`) }));
    }
    expect(() => cleanEntryPath('a\0b')).toThrowError(/NUL/);
    expect(resolveInside('a/b', '../c')).toBe('a/c');
    expect(resolveInside('a/b', '/etc/x')).toBe('etc/x');
    expect(() => resolveInside('a', '../../x')).toThrowError(/outside/);
    expect(parentOf('a/b/c')).toBe('a/b');
    expect(parentOf('a')).toBe('');
  });

  it('classifies whiteouts and opaque markers', () => {
    expect(classifyWhiteout('a/.wh.b')).toEqual({ kind: 'whiteout', target: 'a/b' });
    expect(classifyWhiteout('.wh.top')).toEqual({ kind: 'whiteout', target: 'top' });
    expect(classifyWhiteout('a/.wh..wh..opq')).toEqual({ kind: 'opaque', dir: 'a' });
    expect(classifyWhiteout('.wh..wh..opq')).toEqual({ kind: 'opaque', dir: '' });
    expect(classifyWhiteout('a/b')).toBeUndefined();
    expect(classifyWhiteout('a/x.wh.b')).toBeUndefined();
    expect(() => classifyWhiteout('a/.wh.')).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('a/.wh.') }));
    expect(() => classifyWhiteout('.wh...')).toThrowError(/whiteout/);
    expect(whiteoutPath('a/b')).toBe('a/.wh.b');
    expect(whiteoutPath('b')).toBe('.wh.b');
    expect(isWhiteoutMeta('.wh..wh.plnk')).toBe(true);
    expect(isWhiteoutMeta('.wh..wh.plnk/123.456')).toBe(true);
    expect(isWhiteoutMeta('a/.wh..wh..opq')).toBe(false);
    expect(isWhiteoutMeta('a/.wh.b')).toBe(false);
  });
});
