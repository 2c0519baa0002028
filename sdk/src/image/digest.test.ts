import { describe, it, expect } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Sha256 } from './sha256.js';
import { toHex, verifyingStream, assertDigest } from './digest.js';

describe('portable sha256', () => {
  it('matches node:crypto for many sizes and chunkings', () => {
    for (const size of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 65537]) {
      const data = new Uint8Array(randomBytes(size));
      const h = new Sha256();
      for (let o = 0; o < size; o += 37) h.update(data.subarray(o, o + 37));
      expect(toHex(h.digest())).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('verifies streams and refuses mismatches', async () => {
    const data = new TextEncoder().encode('hello');
    const good = 'sha256:' + createHash('sha256').update(data).digest('hex');
    const pass = async (expected: { digest?: string; size?: number }) => {
      const v = verifyingStream(expected);
      const out = new Response(new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(v.stream));
      await out.arrayBuffer();
      return v.result();
    };
    expect(await pass({ digest: good, size: 5 })).toEqual({ digest: good, size: 5 });
    await expect(pass({ digest: 'sha256:' + '0'.repeat(64) })).rejects.toMatchObject({ code: 'DATA_LOSS' });
    await expect(pass({ size: 4 })).rejects.toMatchObject({ code: 'DATA_LOSS' });
    await expect(pass({ size: 6 })).rejects.toMatchObject({ code: 'DATA_LOSS' });
    expect(() => assertDigest('md5:abc')).toThrowError(/sha256/);
  });
});
