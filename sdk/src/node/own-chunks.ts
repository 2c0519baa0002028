/**
 * Node byte streams as web streams without a copy per chunk.
 */
import type { Readable } from 'node:stream';

/**
 * A byte stream whose chunks are never reused by their producer (zlib's
 * output: slices of a buffer it lets go once full; fs.ReadStream's reads,
 * each a buffer of its own) as a web stream, chunks handed on as they are.
 * Readable.toWeb copies every chunk (Node 20, in case it shares a pooled
 * buffer): for a layer, its whole size again in fresh ArrayBuffers and a
 * memcpy of every byte.
 */
export function ownChunksToWeb(src: Readable, highWaterMark: number): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>({
    start(ctl) {
      src.pause();
      src.on('data', (chunk: Buffer) => {
        if (settled) return;
        ctl.enqueue(chunk);
        if ((ctl.desiredSize ?? 0) <= 0) src.pause();
      });
      src.once('end', () => {
        if (settled) return;
        settled = true;
        ctl.close();
      });
      src.once('error', (err) => {
        if (settled) return;
        settled = true;
        ctl.error(err);
      });
      src.once('close', () => {
        if (settled) return;
        settled = true;
        ctl.error(Object.assign(new Error('the stream closed before its end'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
      });
    },
    pull() {
      src.resume();
    },
    cancel(reason) {
      settled = true;
      src.destroy(reason instanceof Error ? reason : undefined);
    },
  }, { highWaterMark });
}
