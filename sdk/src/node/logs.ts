import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { filterLog, type LogEntry, type LogReadOptions, type LogStore } from '../runtime/logs.js';

/** How often a followed log file is checked for new lines. */
const FOLLOW_POLL_MS = 50;

/**
 * Logs as JSON lines beside each record (`containers/<id>/container.log`), like
 * docker's json-file driver: {"stream":"stdout","time":ms,"log":"base64"}.
 * The Linux backend's shim appends the same lines itself (pathOf), so output
 * is kept after the Node process that started a container has gone.
 */
export class FsLogStore implements LogStore {
  constructor(private readonly dir: string) {}

  private file(id: string) {
    return join(this.dir, id, 'container.log');
  }

  pathOf(id: string): string {
    return this.file(id);
  }

  async append(id: string, e: LogEntry): Promise<void> {
    mkdirSync(join(this.dir, id), { recursive: true });
    appendFileSync(this.file(id), JSON.stringify({ stream: e.stream, time: e.time, log: Buffer.from(e.data).toString('base64') }) + '\n');
  }

  async read(id: string, options: LogReadOptions = {}): Promise<LogEntry[]> {
    let text: string;
    try {
      text = readFileSync(this.file(id), 'utf8');
    } catch {
      return [];
    }
    return filterLog(parseLines(text.split('\n')), options);
  }

  follow(id: string, options: LogReadOptions, done: Promise<unknown>): ReadableStream<LogEntry> {
    const tail = new FileTail(this.file(id));
    const until = options.until;
    let timer: NodeJS.Timeout | undefined;
    return new ReadableStream<LogEntry>({
      start(ctl) {
        for (const e of filterLog(tail.next(), options)) ctl.enqueue(e);
        const more = () => { for (const e of tail.next()) if (until === undefined || e.time <= until) ctl.enqueue(e); };
        timer = setInterval(more, FOLLOW_POLL_MS);
        void done.catch(() => {}).then(() => {
          if (!timer) return;
          clearInterval(timer);
          timer = undefined;
          more(); // the writer finished before `done` settled: take its last lines
          ctl.close();
        });
      },
      cancel() {
        if (timer) clearInterval(timer);
        timer = undefined;
      },
    });
  }

  async delete(id: string): Promise<void> {
    rmSync(this.file(id), { force: true });
  }
}

function parseLines(lines: string[]): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of lines) {
    if (!line) continue;
    try {
      const j = JSON.parse(line) as { stream: 'stdout' | 'stderr'; time: number; log: string };
      entries.push({ stream: j.stream, time: j.time, data: new Uint8Array(Buffer.from(j.log, 'base64')) });
    } catch {
      // A line cut short by a crash: skip it.
    }
  }
  return entries;
}

/** Reads the whole lines appended to a file since the last call. */
class FileTail {
  private offset = 0;
  private partial = '';

  constructor(private readonly path: string) {}

  next(): LogEntry[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) { this.offset = 0; this.partial = ''; } // removed and written anew
      if (size === this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      // The lines are ASCII (JSON with base64), so a cut between reads never splits a character.
      const lines = (this.partial + buf.subarray(0, n).toString('latin1')).split('\n');
      this.partial = lines.pop() ?? '';
      return parseLines(lines);
    } finally {
      closeSync(fd);
    }
  }
}
