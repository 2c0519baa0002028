import { describe, expect, it } from 'vitest';
import { isWasm, limitMemory, MemoryLimitError } from './wasm-binary.js';

// (module (memory 2) (export "memory" (memory 0)))  and  (memory 1 10)
const moduleWith = (limits: number[]) =>
  Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, limits.length + 1, 0x01, ...limits, 0x07, 0x0a, 0x01, 0x06, ...new TextEncoder().encode('memory'), 0x02, 0x00]);

const maximum = (bytes: Uint8Array) => {
  const mem = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).exports['memory'] as WebAssembly.Memory;
  let pages = mem.buffer.byteLength / 65536;
  while (pages < 70000) {
    try {
      mem.grow(1);
      pages++;
    } catch {
      return pages;
    }
  }
  return pages;
};

describe('limitMemory', () => {
  it('recognises WebAssembly', () => {
    expect(isWasm(moduleWith([0x00, 0x02]))).toBe(true);
    expect(isWasm(new TextEncoder().encode('#!/bin/sh\n'))).toBe(false);
  });

  it('adds a maximum to a memory without one', () => {
    const out = limitMemory(moduleWith([0x00, 0x02]), 5);
    expect(maximum(out)).toBe(5);
  });

  it('lowers a higher maximum and keeps a lower one', () => {
    expect(maximum(limitMemory(moduleWith([0x01, 0x01, 0x0a]), 4))).toBe(4);
    const low = moduleWith([0x01, 0x01, 0x03]);
    expect(limitMemory(low, 8)).toBe(low);
  });

  it('refuses a module that needs more at start than the limit', () => {
    expect(() => limitMemory(moduleWith([0x00, 0x08]), 4)).toThrow(MemoryLimitError);
  });

  it('handles multi-byte LEB128 sizes', () => {
    // min 200 pages (0xc8 0x01), limit 300 (0xac 0x02 when written)
    expect(maximum(limitMemory(moduleWith([0x00, 0xc8, 0x01]), 300))).toBe(300);
  });
});
