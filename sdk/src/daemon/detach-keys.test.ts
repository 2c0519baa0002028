import { describe, expect, it } from 'vitest';
import { parseDetachKeys, watchDetachKeys } from './detach-keys.js';

const enc = new TextEncoder();

async function through(chunks: string[], keys = 'ctrl-p,ctrl-q') {
  const src = new ReadableStream<Uint8Array>({ start(c) { for (const s of chunks) c.enqueue(enc.encode(s)); c.close(); } });
  const w = watchDetachKeys(src, parseDetachKeys(keys));
  let text = '';
  const reader = w.input.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  return { text, detached: await w.detached };
}

describe('detach keys', () => {
  it('parses docker\'s spelling', () => {
    expect([...parseDetachKeys('ctrl-p,ctrl-q')]).toEqual([0x10, 0x11]);
    expect([...parseDetachKeys('a,ctrl-@,ctrl-_')]).toEqual([0x61, 0, 0x1f]);
    expect(() => parseDetachKeys('ctrl-1')).toThrow(/invalid detach keys/);
  });

  it('ends the input at the sequence, which is not passed on', async () => {
    expect(await through(['ab\x10', '\x11cd'])).toEqual({ text: 'ab', detached: true });
  });

  it('passes a prefix that does not complete, and input that has none', async () => {
    expect(await through(['a\x10b', '\x10\x10\x11'])).toEqual({ text: 'a\x10b\x10', detached: true });
    expect(await through(['plain', ' input\x10'])).toEqual({ text: 'plain input\x10', detached: false });
  });
});
