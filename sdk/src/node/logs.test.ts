import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsLogStore, rotateLogFiles } from './logs.js';
import { logLineSize, type LogEntry } from '../runtime/logs.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function store() {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-logs-'));
  dirs.push(dir);
  return new FsLogStore(dir);
}

/** A line of docker's json-file log, as dockerd (and the Linux shim) writes it. */
function line(stream: string, time: number, text: string): string {
  return `${JSON.stringify({ log: text, stream, time: new Date(time).toISOString().replace('Z', '123456Z') })}\n`;
}

async function collect(s: ReadableStream<LogEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of s as unknown as AsyncIterable<LogEntry>) out.push(`${e.stream}:${Buffer.from(e.data).toString()}`);
  return out;
}

describe('FsLogStore', () => {
  it('gives the file a writer outside the store appends to (pathOf), and reads its lines', async () => {
    const s = store();
    await s.append('c1', { stream: 'stdout', time: 1, data: new TextEncoder().encode('a\n') });
    appendFileSync(s.pathOf('c1'), line('stderr', 2, 'b\n'));
    expect((await s.read('c1')).map((e) => e.stream)).toEqual(['stdout', 'stderr']);
  });

  it("keeps docker's json-file lines, one per line of output; bytes that are not UTF-8 come back exact; reads the base64 lines of earlier versions", async () => {
    const s = store();
    await s.append('c1', { stream: 'stdout', time: Date.parse('2026-11-29T09:45:03.786Z'), data: new TextEncoder().encode('hi "there"\n\ttab\n') });
    const bytes = new Uint8Array([0x6e, 0x6f, 0xe9, 0x78, 0x0a]);
    await s.append('c1', { stream: 'stderr', time: Date.parse('2026-11-29T09:45:04Z'), data: bytes });
    appendFileSync(s.pathOf('c1'), `${JSON.stringify({ stream: 'stdout', time: 1_795_945_505_000, log: Buffer.from('old\n').toString('base64') })}\n`);
    // Exactly dockerd's lines (its file from a container printing the same), apart from the time's precision and the exact bytes.
    expect(readFileSync(s.pathOf('c1'), 'utf8').split('\n').slice(0, 3)).toEqual([
      '{"log":"hi \\"there\\"\\n","stream":"stdout","time":"2026-11-29T09:45:03.786Z"}',
      '{"log":"\\ttab\\n","stream":"stdout","time":"2026-11-29T09:45:03.786Z"}',
      `{"log":"no\ufffdx\\n","stream":"stderr","time":"2026-11-29T09:45:04.000Z","raw":"${Buffer.from(bytes).toString('base64')}"}`,
    ]);
    const got = await s.read('c1');
    expect(got.map((e) => [e.stream, e.time, Buffer.from(e.data).toString('latin1')])).toEqual([
      ['stdout', Date.parse('2026-11-29T09:45:03.786Z'), 'hi "there"\n'],
      ['stdout', Date.parse('2026-11-29T09:45:03.786Z'), '\ttab\n'],
      ['stderr', Date.parse('2026-11-29T09:45:04Z'), 'no\xe9x\n'],
      ['stdout', 1_795_945_505_000, 'old\n'],
    ]);
  });

  it('follows the file: stored lines (filtered), lines appended later, a line written in two parts, the last ones when done settles', async () => {
    const s = store();
    await s.append('c1', { stream: 'stdout', time: 1, data: new TextEncoder().encode('old 1\n') });
    await s.append('c1', { stream: 'stdout', time: 2, data: new TextEncoder().encode('old 2\n') });
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const got = collect(s.follow('c1', { tail: 1 }, done));
    const path = s.pathOf('c1');
    await new Promise((r) => setTimeout(r, 80));
    const half = line('stderr', 3, 'new\n');
    appendFileSync(path, half.slice(0, 10));
    await new Promise((r) => setTimeout(r, 80));
    appendFileSync(path, half.slice(10));
    appendFileSync(path, line('stdout', 4, 'last\n'));
    finish();
    expect(await got).toEqual(['stdout:old 2\n', 'stderr:new\n', 'stdout:last\n']);
  });

  const text = (i: number) => `line ${String(i).padStart(4, '0')}\n`;
  const entry = (i: number): LogEntry => ({ stream: i % 2 ? 'stderr' : 'stdout', time: 1_700_000_000_000 + i, data: new TextEncoder().encode(text(i)) });
  const texts = (entries: LogEntry[]) => entries.map((e) => Buffer.from(e.data).toString());

  it('rotates by size: container.log, .1, .2 of whole lines, the oldest dropped; read gives the retained tail in order', async () => {
    const s = store();
    const lineLen = logLineSize(entry(0));
    const limits = { maxSize: lineLen * 10, maxFiles: 3 };
    for (let i = 0; i < 100; i++) await s.append('c1', entry(i), limits);
    const path = s.pathOf('c1');
    expect(readdirSync(join(path, '..')).sort()).toEqual(['container.log', 'container.log.1', 'container.log.2']);
    for (const f of [path, `${path}.1`, `${path}.2`]) expect(statSync(f).size).toBe(lineLen * 10);
    const all = await s.read('c1');
    expect(texts(all)).toEqual(Array.from({ length: 30 }, (_, i) => text(70 + i)));
    expect(all[0]!.stream).toBe('stdout');
    expect(texts(await s.read('c1', { tail: 12 }))).toEqual(Array.from({ length: 12 }, (_, i) => text(88 + i)));
    expect(await s.read('c1', { tail: 1000 })).toHaveLength(30);
    expect(await s.read('c1', { tail: 0 })).toEqual([]);
    expect(texts(await s.read('c1', { tail: 5, until: entry(79).time }))).toEqual(Array.from({ length: 5 }, (_, i) => text(75 + i)));
    await s.delete('c1');
    expect(readdirSync(join(path, '..'))).toEqual([]);
  });

  it('with max-file 1 starts the file again', async () => {
    const s = store();
    const lineLen = logLineSize(entry(0));
    for (let i = 0; i < 25; i++) await s.append('c1', entry(i), { maxSize: lineLen * 10, maxFiles: 1 });
    expect(existsSync(`${s.pathOf('c1')}.1`)).toBe(false);
    expect(texts(await s.read('c1'))).toEqual(Array.from({ length: 5 }, (_, i) => text(20 + i)));
  });

  it('follows across rotations, its own and those of a writer outside the store (renames, as the shim does), losing and repeating nothing', async () => {
    const s = store();
    const path = s.pathOf('c1');
    const lineLen = logLineSize(entry(0));
    const limits = { maxSize: lineLen * 4, maxFiles: 3 };
    for (let i = 0; i < 6; i++) await s.append('c1', entry(i), limits); // container.log.1 (0-3) and container.log (4-5)
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const got = collect(s.follow('c1', {}, done));
    const pause = () => new Promise((r) => setTimeout(r, 70));
    await pause();
    for (let i = 6; i < 10; i++) await s.append('c1', entry(i), limits); // one rotation, between polls or not
    await pause();
    // Two rotations between two polls, by another writer.
    appendFileSync(path, line('stdout', 10, text(10)));
    rotateLogFiles(path, 3);
    appendFileSync(path, line('stdout', 11, text(11)));
    rotateLogFiles(path, 3);
    appendFileSync(path, line('stdout', 12, text(12)));
    await pause();
    // Rotated while the new file is not made yet, then made.
    rotateLogFiles(path, 3);
    await pause();
    appendFileSync(path, line('stdout', 13, text(13)));
    finish();
    const out = (await got).map((l) => l.slice(l.indexOf(':') + 1));
    expect(out).toEqual(Array.from({ length: 14 }, (_, i) => text(i)));
  });

  it('reads a log rotated by a writer outside the store in order', async () => {
    const s = store();
    const path = s.pathOf('c1');
    await s.append('c1', entry(0));
    renameSync(path, `${path}.1`);
    await s.append('c1', entry(1));
    expect(texts(await s.read('c1'))).toEqual([text(0), text(1)]);
  });
});
