import { describe, expect, it } from 'vitest';
import { Errno } from './defs.js';
import { GuestMemory } from './memory.js';

function memoryWith(bytes: number[] | Uint8Array, at = 16): GuestMemory {
  const memory = new WebAssembly.Memory({ initial: 1 });
  new Uint8Array(memory.buffer).set(bytes, at);
  const m = new GuestMemory();
  m.attach(memory);
  return m;
}

describe('GuestMemory.string', () => {
  it('reads ASCII, UTF-8 and long strings alike', () => {
    const enc = new TextEncoder();
    for (const s of ['tmp/w/f00001.txt', '', 'caf\u00e9/\u65e5\u672c', 'x'.repeat(300), `${'a'.repeat(255)}\u00e9`]) {
      const bytes = enc.encode(s);
      expect(memoryWith(bytes).string(16, bytes.length)).toEqual({ ok: true, value: s });
    }
  });

  it('answers ILSEQ for bytes that are not UTF-8, short or long', () => {
    expect(memoryWith([0x61, 0xff, 0x62]).string(16, 3)).toEqual({ ok: false, errno: Errno.ILSEQ });
    expect(memoryWith([...new Array(300).fill(0x61), 0xc3]).string(16, 301)).toEqual({ ok: false, errno: Errno.ILSEQ });
  });

  it('traps (RangeError) on a string past the end of memory', () => {
    expect(() => memoryWith([]).string(65530, 10)).toThrow(RangeError);
  });
});

describe('GuestMemory.scatter', () => {
  it('fills one large buffer or spreads over several', () => {
    const m = memoryWith([]);
    const data = new Uint8Array([1, 2, 3, 4, 5]);
    expect(m.scatter([{ ptr: 100, len: 8 }], data)).toBe(5);
    expect([...m.bytes().subarray(100, 106)]).toEqual([1, 2, 3, 4, 5, 0]);
    expect(m.scatter([{ ptr: 200, len: 2 }, { ptr: 300, len: 0 }, { ptr: 400, len: 2 }, { ptr: 500, len: 9 }], data)).toBe(5);
    expect([...m.bytes().subarray(200, 202), ...m.bytes().subarray(400, 402), ...m.bytes().subarray(500, 502)]).toEqual([1, 2, 3, 4, 5, 0]);
    expect(m.scatter([{ ptr: 600, len: 3 }], data)).toBe(3);
    expect([...m.bytes().subarray(600, 604)]).toEqual([1, 2, 3, 0]);
  });
});
