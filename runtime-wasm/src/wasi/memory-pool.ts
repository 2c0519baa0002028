/**
 * Linear memories reused between guests, as wasmtime's pooling allocator
 * reuses them: making a WebAssembly.Memory (a large address reservation) is
 * most of what a new instance of a small module costs.
 *
 * A module whose memory importMemory (wasm-binary.ts) turned into an import
 * gets one from here at instantiation. When the guest ends, a memory that
 * never grew is zeroed and kept for the next guest with the same limits, so
 * a guest sees exactly what a fresh memory gives: its initial size, all
 * zeros but for the module's data segments (written at instantiation). A
 * memory that grew is dropped (it cannot shrink back).
 */
import { PAGE_BYTES, POOLED_MEMORY_MODULE, POOLED_MEMORY_NAME, pooledMemoryLimits, type MemoryLimits } from '../wasm-binary.js';

/** Memories kept per kind of limits; a process runs few guests at once, so a few are enough. */
const KEEP_PER_LIMITS = 4;
/** Memories bigger than this at start are not kept (their zeroing would cost more than a fresh one). */
const KEEP_MAX_BYTES = 16 * 1024 * 1024;

const limitsOf = new WeakMap<WebAssembly.Module, MemoryLimits | null>();
const free = new Map<string, WebAssembly.Memory[]>();

/** A memory lent to one instance. */
export interface MemoryLease {
  /** The import object entry the module needs. */
  readonly imports: WebAssembly.Imports;
  readonly memory: WebAssembly.Memory;
  /** Gives the memory back (zeroed, if it can be reused); the guest must have ended. */
  release(): void;
}

/** A memory for an instance of `module`, or undefined when the module has its own. */
export function leaseMemory(module: WebAssembly.Module): MemoryLease | undefined {
  let limits = limitsOf.get(module);
  if (limits === undefined) {
    limits = pooledMemoryLimits(module) ?? null;
    limitsOf.set(module, limits);
  }
  if (!limits) return undefined;
  const key = limits.maximum === undefined ? `${limits.initial}` : `${limits.initial}:${limits.maximum}`;
  const memory = free.get(key)?.pop() ?? new WebAssembly.Memory(limits.maximum === undefined ? { initial: limits.initial } : { initial: limits.initial, maximum: limits.maximum });
  const bytes = limits.initial * PAGE_BYTES;
  let released = false;
  return {
    imports: { [POOLED_MEMORY_MODULE]: { [POOLED_MEMORY_NAME]: memory } },
    memory,
    release() {
      if (released) return;
      released = true;
      const buf = memory.buffer;
      if (buf.byteLength !== bytes || bytes > KEEP_MAX_BYTES) return;
      let list = free.get(key);
      if (!list) free.set(key, (list = []));
      if (list.length >= KEEP_PER_LIMITS) return;
      new Uint8Array(buf).fill(0);
      list.push(memory);
    },
  };
}
