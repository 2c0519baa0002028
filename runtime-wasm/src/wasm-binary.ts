/**
 * Small edits to a WebAssembly binary before it is compiled.
 *
 * A memory limit works by lowering the maximum of the module's own memory:
 * `memory.grow` past it then fails inside the guest (malloc returns NULL), as
 * an allocation fails under a cgroup limit, and the host is never at risk.
 *
 * A module's own memory can also be turned into an import (importMemory), so
 * the host can hand each new instance a memory from a pool instead of having
 * the engine reserve a fresh one (wasi/memory-pool.ts).
 */
import { concat } from '@skiff/sdk';

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
  const out: Uint8Array[] = [bytes.subarray(0, 8)];
  let changed = false;
  for (const { id, pos, start, end } of sectionsOf(bytes)) {
    const body = id === 5 ? rewriteMemories(bytes.subarray(start, end), maxPages) : undefined;
    if (body) {
      out.push(Uint8Array.of(5), writeU32(body.length), body);
      changed = true;
    } else out.push(bytes.subarray(pos, end));
  }
  if (!changed) return bytes;
  return concat(out);
}

/** The module's sections in order: `pos` where the section starts, `start..end` its body. */
function sectionsOf(bytes: Uint8Array): Array<{ id: number; pos: number; start: number; end: number }> {
  if (!isWasm(bytes)) throw new Error('not a WebAssembly binary');
  const sections: Array<{ id: number; pos: number; start: number; end: number }> = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const [size, sizeLen] = readU32(bytes, pos + 1);
    const start = pos + 1 + sizeLen;
    const end = start + size;
    if (end > bytes.length) throw new Error('truncated WebAssembly section');
    sections.push({ id, pos, start, end });
    pos = end;
  }
  return sections;
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

/** The import a module made by importMemory takes its memory from. */
export const POOLED_MEMORY_MODULE = 'skiff:pool';
export const POOLED_MEMORY_NAME = 'memory';
/** The custom section that records the memory's limits (the JS API cannot read an import's type). */
export const POOLED_MEMORY_SECTION = 'skiff.pooled-memory';

export interface MemoryLimits {
  initial: number;
  maximum?: number;
}

/**
 * Returns `bytes` with its one defined memory made an import
 * (`skiff:pool`.`memory`, same limits) and the limits recorded in a custom
 * section; the memory keeps its index 0 and its exports. Returns the input
 * unchanged when the module does not have exactly one plain 32-bit memory of
 * its own (none, several, shared, 64-bit, or an imported one).
 */
export function importMemory(bytes: Uint8Array): Uint8Array {
  const sections = sectionsOf(bytes);
  const mem = sections.find((s) => s.id === 5);
  if (!mem) return bytes;
  const body = bytes.subarray(mem.start, mem.end);
  let p = 0;
  const [count, n] = readU32(body, p);
  p += n;
  if (count !== 1) return bytes;
  const flags = body[p++]!;
  if (flags & ~0x01) return bytes; // shared or 64-bit: left alone
  const [min, minLen] = readU32(body, p);
  p += minLen;
  let max: number | undefined;
  if (flags & 0x01) [max] = readU32(body, p);
  const limits = Uint8Array.from([flags, ...writeU32(min), ...(max !== undefined ? writeU32(max) : [])]);
  const imp = sections.find((s) => s.id === 2);
  if (imp && importsMemory(bytes.subarray(imp.start, imp.end)) !== false) return bytes;
  const entry = concat([name(POOLED_MEMORY_MODULE), name(POOLED_MEMORY_NAME), Uint8Array.of(0x02), limits]);
  let importBody: Uint8Array;
  if (imp) {
    const old = bytes.subarray(imp.start, imp.end);
    const [k, kLen] = readU32(old, 0);
    importBody = concat([writeU32(k + 1), old.subarray(kLen), entry]);
  } else {
    importBody = concat([writeU32(1), entry]);
  }
  const importSection = concat([Uint8Array.of(2), writeU32(importBody.length), importBody]);
  const record = concat([name(POOLED_MEMORY_SECTION), writeU32(min), writeU32(max === undefined ? 0 : max + 1)]);
  const out: Uint8Array[] = [bytes.subarray(0, 8)];
  let placed = false;
  for (const s of sections) {
    // The import section goes where it was, or before the first section that must follow it.
    if (!placed && (s === imp || (!imp && s.id !== 0 && s.id !== 1))) {
      out.push(importSection);
      placed = true;
      if (s === imp) continue;
    }
    if (s === mem) continue;
    out.push(bytes.subarray(s.pos, s.end));
  }
  if (!placed) out.push(importSection);
  out.push(Uint8Array.of(0), writeU32(record.length), record);
  return concat(out);
}

/** The limits importMemory recorded in `module`, or undefined when its memory is its own. */
export function pooledMemoryLimits(module: WebAssembly.Module): MemoryLimits | undefined {
  const [rec] = WebAssembly.Module.customSections(module, POOLED_MEMORY_SECTION);
  if (!rec) return undefined;
  const b = new Uint8Array(rec);
  const [initial, n] = readU32(b, 0);
  const [max] = readU32(b, n);
  return max === 0 ? { initial } : { initial, maximum: max - 1 };
}

/** Does the import section import a memory? undefined when it holds something this reader does not know. */
function importsMemory(body: Uint8Array): boolean | undefined {
  let p = 0;
  const [count, n] = readU32(body, p);
  p += n;
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < 2; k++) {
      const [len, l] = readU32(body, p);
      p += l + len;
    }
    const kind = body[p++]!;
    if (kind === 0x02) return true;
    if (kind === 0x00) p += readU32(body, p)[1]; // function: type index
    else if (kind === 0x01) { // table: reftype, limits
      p++;
      const f = body[p++]!;
      p += readU32(body, p)[1];
      if (f & 0x01) p += readU32(body, p)[1];
    } else if (kind === 0x03) { // global: a plain valtype, mutability
      if (body[p]! < 0x6f) return undefined;
      p += 2;
    }
    else if (kind === 0x04) { // tag: attribute, type index
      p++;
      p += readU32(body, p)[1];
    } else return undefined;
    if (p > body.length) return undefined;
  }
  return p === body.length ? false : undefined;
}

function name(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  return concat([writeU32(b.length), b]);
}
