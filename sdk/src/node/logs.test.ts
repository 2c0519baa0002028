import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsLogStore } from './logs.js';
import type { LogEntry } from '../runtime/logs.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function store() {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-logs-'));
  dirs.push(dir);
  return new FsLogStore(dir);
}

/** A line as the Linux shim writes it. */
function line(stream: string, time: number, text: string): string {
  return `${JSON.stringify({ stream, time, log: Buffer.from(text).toString('base64') })}\n`;
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
});
