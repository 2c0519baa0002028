/** Layer compression through CompressionStream / DecompressionStream. */
import { unsupported } from '../errors/index.js';
import { layerCompression, type LayerCompression } from '../image/media-types.js';

type Bytes = TransformStream<Uint8Array, Uint8Array>;

export function gzip(): Bytes {
  return new CompressionStream('gzip') as unknown as Bytes;
}

export function gunzip(): Bytes {
  return new DecompressionStream('gzip') as unknown as Bytes;
}

/** The compression of a blob from its first bytes (4 are enough). */
export function sniffCompression(head: Uint8Array): LayerCompression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** The uncompressed tar of a layer blob, by its media type. */
export function decompressLayer(stream: ReadableStream<Uint8Array>, mediaType: string): ReadableStream<Uint8Array> {
  return decompress(stream, layerCompression(mediaType));
}

export function decompress(stream: ReadableStream<Uint8Array>, c: LayerCompression): ReadableStream<Uint8Array> {
  if (c === 'gzip') return stream.pipeThrough(gunzip());
  if (c === 'zstd') {
    void stream.cancel().catch(() => {});
    throw unsupported('zstd-compressed layers are not supported yet (no zstd decoder in this runtime); re-push the image with gzip layers, e.g. `docker buildx build --output type=image,compression=gzip,force-compression=true`');
  }
  return stream;
}

/**
 * Splits off the first `n` bytes of a stream (fewer if it is shorter) and
 * gives back a stream that still yields everything.
 */
export async function peek(stream: ReadableStream<Uint8Array>, n: number): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = stream.getReader();
  const seen: Uint8Array[] = [];
  let have = 0;
  let ended = false;
  while (have < n) {
    const r = await reader.read();
    if (r.done) { ended = true; break; }
    seen.push(r.value);
    have += r.value.length;
  }
  const head = new Uint8Array(Math.min(n, have));
  let o = 0;
  for (const s of seen) {
    if (o >= head.length) break;
    const part = s.subarray(0, head.length - o);
    head.set(part, o);
    o += part.length;
  }
  const rest = new ReadableStream<Uint8Array>({
    start(c) {
      for (const s of seen) c.enqueue(s);
      if (ended) c.close();
    },
    async pull(c) {
      const x = await reader.read();
      if (x.done) c.close();
      else c.enqueue(x.value);
    },
    cancel: (why) => reader.cancel(why),
  }, { highWaterMark: 0 });
  return { head, stream: rest };
}

/** Decompresses whatever the first bytes say (for archives of unknown type). */
export async function autoDecompress(stream: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const { head, stream: all } = await peek(stream, 4);
  return decompress(all, sniffCompression(head));
}
