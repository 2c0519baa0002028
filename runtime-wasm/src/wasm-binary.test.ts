import { describe, expect, it } from 'vitest';
import { importMemory, isWasm, limitMemory, MemoryLimitError, POOLED_MEMORY_MODULE, pooledMemoryLimits } from './wasm-binary.js';

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

describe('importMemory', () => {
  const samples = new URL('../samples/bin/', import.meta.url);
  const sample = async (name: string) => new Uint8Array(await import('node:fs').then((fs) => fs.readFileSync(new URL(name, samples))));

  it('turns the one memory into a skiff:pool import with the same limits, recorded in a custom section', () => {
    const out = importMemory(moduleWith([0x01, 0x02, 0x0a]));
    const m = new WebAssembly.Module(out as Uint8Array<ArrayBuffer>);
    expect(WebAssembly.Module.imports(m)).toEqual([{ module: POOLED_MEMORY_MODULE, name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(m)).toEqual([{ name: 'memory', kind: 'memory' }]);
    expect(pooledMemoryLimits(m)).toEqual({ initial: 2, maximum: 10 });
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 10 });
    const inst = new WebAssembly.Instance(m, { [POOLED_MEMORY_MODULE]: { memory } });
    expect(inst.exports['memory']).toBe(memory);
    expect(pooledMemoryLimits(new WebAssembly.Module(importMemory(moduleWith([0x00, 0x03])) as Uint8Array<ArrayBuffer>))).toEqual({ initial: 3 });
  });

  it('keeps a real program working, after its own imports, and leaves other modules alone', async () => {
    const hello = await sample('hello.wasm');
    const m = new WebAssembly.Module(importMemory(hello) as Uint8Array<ArrayBuffer>);
    const before = WebAssembly.Module.imports(new WebAssembly.Module(hello as Uint8Array<ArrayBuffer>));
    expect(WebAssembly.Module.imports(m)).toEqual([...before, { module: POOLED_MEMORY_MODULE, name: 'memory', kind: 'memory' }]);
    const shared = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x04, 0x01, 0x03, 0x01, 0x02]);
    expect(importMemory(shared)).toBe(shared);
    const noMemory = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    expect(importMemory(noMemory)).toBe(noMemory);
    expect(pooledMemoryLimits(new WebAssembly.Module(moduleWith([0x00, 0x01]) as Uint8Array<ArrayBuffer>))).toBeUndefined();
  });
});
