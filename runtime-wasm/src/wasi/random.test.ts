import { describe, expect, it } from 'vitest';
import { SeededRandom, cryptoRandom } from './random.js';

describe('random sources', () => {
  it('gives the same bytes for the same seed, other bytes for another', () => {
    const a = new Uint8Array(37), b = new Uint8Array(37), c = new Uint8Array(37);
    new SeededRandom(1).fill(a);
    new SeededRandom(1).fill(b);
    new SeededRandom(2).fill(c);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(a.some((x) => x !== 0)).toBe(true);
  });

  it('fills more than 65536 bytes from the platform CSPRNG', () => {
    const big = new Uint8Array(200_000);
    cryptoRandom.fill(big);
    expect(big.subarray(150_000).some((x) => x !== 0)).toBe(true);
  });
});
