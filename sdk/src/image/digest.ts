import { invalidArgument, dataLoss } from '../errors/index.js';
import { Sha256 } from './sha256.js';

/** An incremental hash; `hex()` may be called once. */
export interface Hasher {
  update(data: Uint8Array): void;
  hex(): string;
}

let factory: () => Hasher = () => {
  const h = new Sha256();
  return { update: (d) => void h.update(d), hex: () => toHex(h.digest()) };
};

/** Node's entry installs node:crypto here; browsers use the portable one. */
export function setHasherFactory(f: () => Hasher): void {
  factory = f;
}

export function createSha256(): Hasher {
  return factory();
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

/** Checks a digest string; skiff stores and verifies sha256 only. */
export function assertDigest(s: string): string {
  if (!DIGEST_RE.test(s)) {
    if (/^sha512:[a-f0-9]{128}$/.test(s)) throw invalidArgument(`digest ${s.slice(0, 20)}…: only sha256 digests are supported`);
    throw invalidArgument(`invalid digest "${s}": expected sha256: followed by 64 lowercase hex digits`);
  }
  return s;
}

export function digestOf(data: Uint8Array): string {
  const h = createSha256();
  h.update(data);
  return `sha256:${h.hex()}`;
}

/** The hex part of a digest, used as a blob's file name. */
export function digestHex(digest: string): string {
  return assertDigest(digest).slice('sha256:'.length);
}

/**
 * A pass-through stream that hashes and counts what flows through it and, at the
 * end, fails the stream if the content does not match what was expected.
 */
export function verifyingStream(expected: { digest?: string; size?: number }, what = 'content'): {
  stream: TransformStream<Uint8Array, Uint8Array>;
  result: () => { digest: string; size: number };
} {
  const h = createSha256();
  let size = 0;
  let digest = '';
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      size += chunk.length;
      if (expected.size !== undefined && size > expected.size) {
        ctl.error(dataLoss(`${what}: more than the expected ${expected.size} bytes arrived; the source is corrupt or does not match its descriptor`));
        return;
      }
      h.update(chunk);
      ctl.enqueue(chunk);
    },
    flush(ctl) {
      digest = `sha256:${h.hex()}`;
      if (expected.size !== undefined && size !== expected.size) {
        ctl.error(dataLoss(`${what}: got ${size} bytes, expected ${expected.size}; the source is truncated or does not match its descriptor`));
        return;
      }
      if (expected.digest !== undefined && digest !== expected.digest) {
        ctl.error(dataLoss(`${what}: digest mismatch: expected ${expected.digest}, got ${digest}; refusing corrupt content`));
      }
    },
  });
  return { stream, result: () => ({ digest, size }) };
}
