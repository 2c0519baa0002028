/** Sources for random_get: the platform's CSPRNG, or a seeded generator for deterministic runs. */

export interface RandomSource {
  fill(out: Uint8Array): void;
}

export const cryptoRandom: RandomSource = {
  fill(out) {
    // getRandomValues takes at most 65536 bytes and refuses views of shared memory.
    for (let i = 0; i < out.length; i += 65536) {
      const part = out.subarray(i, Math.min(out.length, i + 65536));
      if (part.buffer instanceof ArrayBuffer) {
        crypto.getRandomValues(part as Uint8Array<ArrayBuffer>);
      } else {
        const tmp = new Uint8Array(part.length);
        crypto.getRandomValues(tmp);
        part.set(tmp);
      }
    }
  },
};

/** xoshiro128** seeded through splitmix32: fast, and the same bytes for the same seed everywhere. */
export class SeededRandom implements RandomSource {
  private s = new Uint32Array(4);

  constructor(seed = 0) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  private next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  fill(out: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const v = this.next();
      out[i] = v & 0xff;
      out[i + 1] = (v >>> 8) & 0xff;
      out[i + 2] = (v >>> 16) & 0xff;
      out[i + 3] = v >>> 24;
    }
    if (i < out.length) {
      let v = this.next();
      for (; i < out.length; i++, v >>>= 8) out[i] = v & 0xff;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
