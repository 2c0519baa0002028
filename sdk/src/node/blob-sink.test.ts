import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSkiffError } from '../errors/index.js';
import { InlineSink, WRITE_BACKLOG, type BlobSink } from './blob-sink.js';
import { WorkerSink } from './blob-sink-worker.js';

let tmp: string;
beforeEach(() => { tmp = mkdtempSync(join(tmpdir(), 'skiff-sink-')); });
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Chunks of many sizes (odd ones, ones across the 1 MiB batch boundary, some larger than a batch), each with its own content. */
function parts(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 60; i++) {
    const n = i % 17 === 0 ? (1 << 20) * 2 + 13 * i : i % 5 === 0 ? (1 << 20) - 7 : 1 + ((i * 7919) % 90_000);
    const p = new Uint8Array(n);
    for (let j = 0; j < n; j += 4096) p[j] = (i * 31 + j) & 0xff;
    p.fill(i & 0xff, 0, Math.min(n, 100));
    out.push(p);
  }
  return out;
}

const sinks: Array<[string, (path: string) => Promise<BlobSink>]> = [
  ['InlineSink', (p) => InlineSink.create(p)],
  ['WorkerSink', (p) => WorkerSink.create(p)],
];

describe.each(sinks)('%s', (_name, make) => {
  it('writes every chunk in order, hashes them, and waits for the disk when the backlog is full', async () => {
    const path = join(tmp, 'blob');
    const sink = await make(path);
    const all = parts();
    let waits = 0;
    for (const p of all) {
      const w = sink.write(p);
      if (w) {
        waits++;
        await w;
      }
    }
    const digest = await sink.finish();
    const whole = Buffer.concat(all);
    expect(whole.length).toBeGreaterThan(2 * WRITE_BACKLOG);
    expect(waits).toBeGreaterThan(0);
    expect(digest).toBe(hex(whole));
    expect(readFileSync(path).equals(whole)).toBe(true);
  });

  it('an empty blob is an empty file with the empty digest', async () => {
    const path = join(tmp, 'empty');
    const sink = await make(path);
    expect(await sink.finish()).toBe(hex(new Uint8Array()));
    expect(readFileSync(path).length).toBe(0);
  });

  it('aborts: the file is closed and keeps no more than was written', async () => {
    const path = join(tmp, 'blob');
    const sink = await make(path);
    await sink.write(new Uint8Array(3 << 20).fill(7));
    await sink.abort();
    await sink.abort(); // twice is harmless
    expect(readFileSync(path).length).toBeLessThanOrEqual(3 << 20);
    rmSync(path);
    // Nothing written after the abort recreates it.
    await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(path)).toBe(false);
  });

  it('a file that cannot be created is UNAVAILABLE, naming the operation, the path and errno', async () => {
    const path = join(tmp, 'no-such-dir', 'blob');
    const err = await make(path).then(() => undefined, (e: unknown) => e);
    expect(isSkiffError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toBe(`create ${path}: ENOENT`);
  });
});

describe('WorkerSink', () => {
  it('keeps several blobs apart when they are written at the same time', async () => {
    const blobs = [0, 1, 2, 3].map((k) => parts().map((p) => p.map((b) => (b + k) & 0xff)));
    const digests = await Promise.all(blobs.map(async (chunks, k) => {
      const sink = await WorkerSink.create(join(tmp, `b${k}`));
      for (const c of chunks) {
        await sink.write(c);
        await new Promise((r) => setImmediate(r)); // interleave with the other writers
      }
      return sink.finish();
    }));
    blobs.forEach((chunks, k) => {
      const whole = Buffer.concat(chunks);
      expect(digests[k]).toBe(hex(whole));
      expect(readFileSync(join(tmp, `b${k}`)).equals(whole)).toBe(true);
    });
  });

  it('does not take the caller\'s chunks: they stay readable after write()', async () => {
    const sink = await WorkerSink.create(join(tmp, 'blob'));
    const chunk = new Uint8Array(3 << 20).fill(9);
    await sink.write(chunk);
    expect(chunk.length).toBe(3 << 20);
    expect(chunk[chunk.length - 1]).toBe(9);
    expect(await sink.finish()).toBe(hex(chunk));
  });
});
