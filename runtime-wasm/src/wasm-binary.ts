/**
 * Small edits to a WebAssembly binary before it is compiled.
 *
 * A memory limit works by lowering the maximum of the module's own memory:
 * `memory.grow` past it then fails inside the guest (malloc returns NULL), as
 * an allocation fails under a cgroup limit, and the host is never at risk.
 */

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
export const PAGE_BYTES = 65536;
const MAX_PAGES_32 = 65536;

export function isWasm(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && MAGIC.every((b, i) => bytes[i] === b);
}

export class MemoryLimitError extends Error {
  override readonly name = 'MemoryLimitError';
}

/**
 * Returns `bytes` with every defined memory's maximum at most `maxPages`.
 * Throws MemoryLimitError when a memory needs more than that at start.
 * Returns the input unchanged when there is nothing to lower.
 */
export function limitMemory(bytes: Uint8Array, maxPages: number): Uint8Array {
  if (!isWasm(bytes)) throw new Error('not a WebAssembly binary');
  const out: Uint8Array[] = [bytes.subarray(0, 8)];
  let changed = false;
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const [size, sizeLen] = readU32(bytes, pos + 1);
    const start = pos + 1 + sizeLen;
    const end = start + size;
    if (end > bytes.length) throw new Error('truncated WebAssembly section');
    if (id === 5) {
      const body = rewriteMemories(bytes.subarray(start, end), maxPages);
      if (body) {
        out.push(Uint8Array.of(5), writeU32(body.length), body);
        changed = true;
        pos = end;
        continue;
      }
    }
    out.push(bytes.subarray(pos, end));
    pos = end;
  }
  if (!changed) return bytes;
  let total = 0;
  for (const p of out) total += p.length;
  const result = new Uint8Array(total);
  let off = 0;
  for (const p of out) {
    result.set(p, off);
    off += p.length;
  }
  return result;
}

function rewriteMemories(body: Uint8Array, maxPages: number): Uint8Array | undefined {
  let pos = 0;
  const [count, n] = readU32(body, pos);
  pos += n;
  const parts: Uint8Array[] = [writeU32(count)];
  let changed = false;
  for (let i = 0; i < count; i++) {
    const flags = body[pos++]!;
    if (flags & 0x04) throw new MemoryLimitError('the module uses 64-bit memory, which this runtime does not limit');
    const [min, minLen] = readU32(body, pos);
    pos += minLen;
    let max: number | undefined;
    if (flags & 0x01) {
      const [m, maxLen] = readU32(body, pos);
      pos += maxLen;
      max = m;
    }
    if (min > maxPages) {
      throw new MemoryLimitError(`the module needs ${mib(min)} of memory at start, more than the ${mib(maxPages)} limit`);
    }
    const newMax = Math.min(max ?? MAX_PAGES_32, maxPages);
    if (newMax !== max) changed = true;
    parts.push(Uint8Array.of(flags | 0x01), writeU32(min), writeU32(newMax));
  }
  if (!changed) return undefined;
  parts.push(body.subarray(pos));
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function mib(pages: number): string {
  const bytes = pages * PAGE_BYTES;
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(bytes % (1 << 20) ? 1 : 0)} MiB` : `${bytes / 1024} KiB`;
}

function readU32(b: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    const byte = b[pos + i];
    if (byte === undefined) throw new Error('truncated LEB128 number');
    result += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return [result, i + 1];
    shift += 7;
  }
  throw new Error('LEB128 number too long');
}

function writeU32(v: number): Uint8Array {
  const out: number[] = [];
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return Uint8Array.from(out);
}
