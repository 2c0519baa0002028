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
  if (c === 'zstd') throw unsupported('zstd-compressed layers are not supported yet; re-push the image with gzip layers');
  return stream;
}

/** Decompresses whatever the first bytes say (for archives of unknown type). */
export async function autoDecompress(stream: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = stream.getReader();
  const first = await reader.read();
  const head = first.done ? new Uint8Array() : first.value;
  const rest = new ReadableStream<Uint8Array>({
    start(c) {
      if (head.length) c.enqueue(head);
      if (first.done) c.close();
    },
    async pull(c) {
      const x = await reader.read();
      if (x.done) c.close();
      else c.enqueue(x.value);
    },
    cancel: (why) => reader.cancel(why),
  });
  return decompress(rest, sniffCompression(head));
}
