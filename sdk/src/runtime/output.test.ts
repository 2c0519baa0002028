import { describe, expect, it } from 'vitest';
import { LOG_PART_MAX, LogLineHolder, OutputHub } from './output.js';
import { MemoryLogStore, type LogEntry } from './logs.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('LogLineHolder: what the log stores of output, as docker', () => {
  it('holds a line written in pieces until its newline', () => {
    const h = new LogLineHolder();
    expect(h.take(enc('abc')).map(dec)).toEqual([]);
    expect(h.take(enc('def\nghi\nj')).map(dec)).toEqual(['abcdef\nghi\n']);
    expect(h.peek() && dec(h.peek()!)).toBe('j');
    expect(dec(h.rest()!)).toBe('j');
    expect(h.rest()).toBeUndefined();
  });

  it('logs lines longer than 16 KiB in pieces of 16 KiB, whether written at once or in parts', () => {
    const long = 'y'.repeat(2 * LOG_PART_MAX + 100) + '\n';
    const h = new LogLineHolder();
    expect(h.take(enc(`a\n${long}b\n`)).map((p) => p.length)).toEqual([2, LOG_PART_MAX, LOG_PART_MAX, 101, 2]);
    const parts = new LogLineHolder();
    const pieces = [...parts.take(enc('x'.repeat(10_000))), ...parts.take(enc('x'.repeat(10_000))), ...parts.take(enc('\n'))];
    expect(pieces.map((p) => p.length)).toEqual([LOG_PART_MAX, 20_000 - LOG_PART_MAX + 1]);
  });
});

describe('OutputHub', () => {
  it('gives readers output as it comes and the log whole lines; the unfinished last line goes to the log at the end', async () => {
    const logs = new MemoryLogStore();
    const hub = new OutputHub('c1', logs);
    const seen: string[] = [];
    hub.subscribe((e) => { if (e) seen.push(dec(e.data)); });
    const w = hub.writable('stdout').getWriter();
    await w.write(enc('abc'));
    expect(hub.held().map((e) => dec(e.data))).toEqual(['abc']);
    await w.write(enc('def\nlast'));
    await hub.flushed();
    expect((await logs.read('c1')).map((e) => dec(e.data))).toEqual(['abcdef\n']);
    await hub.close();
    expect(seen).toEqual(['abc', 'def\nlast']);
    expect((await logs.read('c1')).map((e) => dec(e.data))).toEqual(['abcdef\n', 'last']);
  });

  it('stores the very entry readers got when a chunk is whole lines (logs -f tells them apart by it)', async () => {
    const logs = new MemoryLogStore();
    const hub = new OutputHub('c2', logs);
    let got: LogEntry | undefined;
    hub.subscribe((e) => { if (e) got = e; });
    await hub.writable('stderr').getWriter().write(enc('one\ntwo\n'));
    await hub.flushed();
    expect((await logs.read('c2'))[0]).toBe(got);
  });

  it('holds nothing for the log when the backend writes it, but still knows the unfinished line', async () => {
    const logs = new MemoryLogStore();
    const hub = new OutputHub('c3', logs, false);
    await hub.writable('stdout').getWriter().write(enc('done\npart'));
    expect(hub.held().map((e) => dec(e.data))).toEqual(['part']);
    await hub.close();
    expect(await logs.read('c3')).toEqual([]);
  });
});
