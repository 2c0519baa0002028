import { describe, expect, it } from 'vitest';
import { encodeFrames, FrameDecoder } from './stdcopy.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('multiplexed stream frames', () => {
  it('encodes the 8-byte header docker clients read', () => {
    const f = encodeFrames('stderr', enc.encode('hi'));
    expect([...f]).toEqual([2, 0, 0, 0, 0, 0, 0, 2, 104, 105]);
  });

  it('splits big writes into frames of at most 32 KiB', () => {
    const data = new Uint8Array(70_000).fill(7);
    const f = encodeFrames('stdout', data);
    const frames = new FrameDecoder().push(f);
    expect(frames.map((x) => x.data.length)).toEqual([32768, 32768, 4464]);
    expect(frames.every((x) => x.stream === 'stdout')).toBe(true);
  });

  it('decodes frames cut anywhere, in order', () => {
    const all = new Uint8Array([...encodeFrames('stdout', enc.encode('one\n')), ...encodeFrames('stderr', enc.encode('two\n')), ...encodeFrames('stdout', new Uint8Array())]);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new FrameDecoder();
      const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(frames.map((f) => `${f.stream}:${dec.decode(f.data)}`)).toEqual(['stdout:one\n', 'stderr:two\n', 'stdout:']);
      expect(d.pending).toBe(0);
    }
  });

  it('refuses bytes that are not frames (a TTY stream read as multiplexed)', () => {
    expect(() => new FrameDecoder().push(enc.encode('plain text output'))).toThrow(/not a multiplexed Docker stream/);
  });
});
