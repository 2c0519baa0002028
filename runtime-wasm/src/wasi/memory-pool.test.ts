import { describe, expect, it } from 'vitest';
import { importMemory } from '../wasm-binary.js';
import { leaseMemory } from './memory-pool.js';

// (module (memory 1 4) (export "memory" (memory 0))), its memory made an import
const module = () => new WebAssembly.Module(importMemory(Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x04, 0x01, 0x01, 0x01, 0x04,
  0x07, 0x0a, 0x01, 0x06, ...new TextEncoder().encode('memory'), 0x02, 0x00,
])) as Uint8Array<ArrayBuffer>);

describe('memory pool', () => {
  it('gives a released memory to the next guest zeroed, and never one that grew', () => {
    const m = module();
    const a = leaseMemory(m)!;
    new WebAssembly.Instance(m, a.imports);
    new Uint8Array(a.memory.buffer).fill(7, 100, 200);
    a.release();
    const b = leaseMemory(m)!;
    expect(b.memory).toBe(a.memory);
    const bytes = new Uint8Array(b.memory.buffer);
    expect(bytes.length).toBe(65536);
    expect(bytes.some((x) => x !== 0)).toBe(false);
    b.memory.grow(1);
    b.release();
    const c = leaseMemory(m)!;
    expect(c.memory).not.toBe(b.memory);
    expect(c.memory.buffer.byteLength).toBe(65536);
    c.release();
  });

  it('lends nothing for a module with its own memory', () => {
    const own = new WebAssembly.Module(Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01]));
    expect(leaseMemory(own)).toBeUndefined();
  });

  it('two guests at once get different memories', () => {
    const m = module();
    const a = leaseMemory(m)!, b = leaseMemory(m)!;
    expect(a.memory).not.toBe(b.memory);
    a.release();
    b.release();
  });
});
