/**
 * A layer's two names in one pass: the diffID (sha256 of the uncompressed
 * tar, which the image config lists) and the digest (sha256 of the blob,
 * which the manifest lists).
 */
import { createSha256 } from '../image/digest.js';
import { MediaType, layerCompression } from '../image/media-types.js';
import { decompress, gzip } from './compression.js';
import { cancelled } from '../errors/index.js';

export interface LayerDigests {
  /** sha256 of the blob as stored and pushed. */
  digest: string;
  /** Size of the blob in bytes. */
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Size of the uncompressed tar in bytes. */
  diffSize: number;
  mediaType: string;
}

export interface CompressedLayer {
  /** The blob; read it to the end (e.g. into a content store). */
  blob: ReadableStream<Uint8Array>;
  /** Settles once `blob` has been read to its end (or failed). */
  done: Promise<LayerDigests>;
}

/** A pass-through that hashes and counts, and reports at the end. */
function tap(onEnd: (digest: string, size: number) => void): TransformStream<Uint8Array, Uint8Array> {
  const h = createSha256();
  let size = 0;
  return new TransformStream({
    transform(chunk, ctl) {
      h.update(chunk);
      size += chunk.length;
      ctl.enqueue(chunk);
    },
    flush() {
      onEnd(`sha256:${h.hex()}`, size);
    },
  });
}

/**
 * Compresses a tar into a layer blob (gzip unless `compression: 'none'`),
 * hashing both sides as the bytes flow. Output is deterministic for the same
 * tar on the same runtime (the gzip header carries no time or name).
 */
export function compressLayer(tar: ReadableStream<Uint8Array>, options: { compression?: 'gzip' | 'none' } = {}): CompressedLayer {
  const compression = options.compression ?? 'gzip';
  let diff: { digest: string; size: number } | undefined;
  let resolve!: (d: LayerDigests) => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<LayerDigests>((res, rej) => { resolve = res; reject = rej; });
  done.catch(() => {}); // a caller may watch only the blob stream
  let source = tar.pipeThrough(tap((digest, size) => { diff = { digest, size }; }));
  if (compression === 'gzip') source = source.pipeThrough(gzip());
  const reader = source.getReader();
  const h = createSha256();
  let size = 0;
  const blob = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const r = await reader.read();
        if (r.done) {
          ctl.close();
          resolve({ digest: `sha256:${h.hex()}`, size, diffId: diff!.digest, diffSize: diff!.size, mediaType: compression === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayer });
          return;
        }
        h.update(r.value);
        size += r.value.length;
        ctl.enqueue(r.value);
      } catch (err) {
        reject(err);
        ctl.error(err);
      }
    },
    cancel(reason) {
      reject(cancelled('the layer blob was cancelled before its end', reason));
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return { blob, done };
}

/**
 * The digests of an existing blob: its digest and size, and the diffID of
 * what it decompresses to, reading it once.
 */
export async function measureLayer(blob: ReadableStream<Uint8Array>, mediaType: string): Promise<LayerDigests> {
  let outer: { digest: string; size: number } | undefined;
  let inner: { digest: string; size: number } | undefined;
  const counted = blob.pipeThrough(tap((digest, size) => { outer = { digest, size }; }));
  const unpacked = decompress(counted, layerCompression(mediaType)).pipeThrough(tap((digest, size) => { inner = { digest, size }; }));
  const r = unpacked.getReader();
  while (!(await r.read()).done) { /* hashed by the taps */ }
  return { digest: outer!.digest, size: outer!.size, diffId: inner!.digest, diffSize: inner!.size, mediaType };
}
