/**
 * A pass-through that hashes every byte, including what follows the tar's
 * end blocks: when the tar reader stops early (cancel), the rest is drained
 * into the hash, so the digest is that of the whole uncompressed layer.
 */
import { createHash } from 'node:crypto';

export function hashingStream(upstream: ReadableStream<Uint8Array>): { stream: ReadableStream<Uint8Array>; digest: () => Promise<string> } {
  const h = createHash('sha256');
  const reader = upstream.getReader();
  let done!: (d: string) => void;
  let failed!: (e: unknown) => void;
  const result = new Promise<string>((res, rej) => { done = res; failed = rej; });
  result.catch(() => {});
  let finished = false;
  const finish = () => { if (!finished) { finished = true; done(`sha256:${h.digest('hex')}`); } };
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const { done: end, value } = await reader.read();
        if (end) { finish(); ctl.close(); return; }
        h.update(value);
        ctl.enqueue(value);
      } catch (err) {
        failed(err);
        ctl.error(err);
      }
    },
    async cancel() {
      try {
        for (;;) {
          const { done: end, value } = await reader.read();
          if (end) break;
          h.update(value);
        }
        finish();
      } catch (err) {
        failed(err);
      }
    },
  }, { highWaterMark: 0 });
  return { stream, digest: () => result };
}
