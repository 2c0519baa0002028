import { dataLoss, cancelled } from '../errors/index.js';
import type { BlobInfo, Expected } from './types.js';

export function checkExpected(got: BlobInfo, expected: Expected, what = 'blob'): void {
  if (expected.size !== undefined && got.size !== expected.size) {
    throw dataLoss(`${what} ${expected.digest ?? got.digest}: size ${got.size} does not match the expected ${expected.size}; refusing corrupt content`);
  }
  if (expected.digest !== undefined && got.digest !== expected.digest) {
    throw dataLoss(`${what}: digest mismatch: expected ${expected.digest}, got ${got.digest}; refusing corrupt content`);
  }
}

/** Reads a whole stream into one buffer. */
export async function collect(stream: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) throw cancelled('cancelled while reading', signal.reason);
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      total += value.length;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
  return concat(parts, total);
}

export function concat(parts: Uint8Array[], total = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

export function bytesStream(data: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({ start(c) { c.enqueue(data); c.close(); } });
}

const enc = new TextEncoder();
const dec = new TextDecoder();
export const utf8 = (s: string) => enc.encode(s);
export const fromUtf8 = (b: Uint8Array) => dec.decode(b);
