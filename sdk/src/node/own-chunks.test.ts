import { describe, it, expect } from 'vitest';
import { Readable } from 'node:stream';
import { collect } from '../content/util.js';
import { ownChunksToWeb } from './own-chunks.js';

describe('ownChunksToWeb', () => {
  it('hands chunks on without copying them, and only as fast as they are read', async () => {
    const chunks = Array.from({ length: 20 }, (_, i) => Buffer.from(`chunk ${i}`));
    let produced = 0;
    const src = new Readable({ highWaterMark: 1, read() { this.push(produced < chunks.length ? chunks[produced++] : null); } });
    const r = ownChunksToWeb(src, 1).getReader();
    const first = await r.read();
    expect(first.value).toBe(chunks[0]); // the very buffer, not a copy
    await new Promise((res) => setTimeout(res, 20));
    expect(produced).toBeLessThan(5); // paused while the reader is behind
    const rest: Uint8Array[] = [];
    for (let x = await r.read(); !x.done; x = await r.read()) rest.push(x.value);
    expect(rest).toEqual(chunks.slice(1));
  });

  it('passes on a failure and stops the source on cancel', async () => {
    const failing = new Readable({ read() { this.destroy(new Error('disk gone')); } });
    await expect(collect(ownChunksToWeb(failing, 1))).rejects.toThrow(/disk gone/);
    const endless = new Readable({ read() { this.push(Buffer.alloc(16)); } });
    const r = ownChunksToWeb(endless, 1).getReader();
    await r.read();
    await r.cancel();
    expect(endless.destroyed).toBe(true);
  });
});
