import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { filterLog, jsonLogLines, parseLogLine, splitLines, type LogEntry, type LogLimits, type LogReadOptions, type LogStore } from '../runtime/logs.js';

/** How often a followed log file is checked for new lines. */
const FOLLOW_POLL_MS = 50;

/**
 * Logs beside each record (`containers/<id>/container.log`) in docker's
 * json-file format, one line per line of output (runtime/logs.ts
 * jsonLogLines), so tools that read docker's logs (promtail, fluent-bit) read
 * them at the container's LogPath. The Linux backend's shim appends the same
 * lines itself (pathOf), so output is kept after the Node process that
 * started a container has gone.
 * Rotation (append's limits, or the shim's own) renames container.log to
 * container.log.1, .1 to .2 and so on; reads and follows go across them,
 * oldest first.
 */
export class FsLogStore implements LogStore {
  constructor(private readonly dir: string) {}

  private file(id: string) {
    return join(this.dir, id, 'container.log');
  }

  pathOf(id: string): string {
    return this.file(id);
  }

  async append(id: string, e: LogEntry, limits?: LogLimits): Promise<void> {
    mkdirSync(join(this.dir, id), { recursive: true });
    const path = this.file(id);
    if (limits && sizeOf(path) >= limits.maxSize) {
      try {
        rotateLogFiles(path, limits.maxFiles);
      } catch {
        // The log stays where it is and grows, as the shim's does: losing output would be worse.
      }
    }
    appendFileSync(path, jsonLogLines(e));
  }

  async read(id: string, options: LogReadOptions = {}): Promise<LogEntry[]> {
    // Newest file first: a tail is often found without reading the older ones.
    const files = openLogFiles(this.file(id)).reverse();
    const parts: LogEntry[][] = [];
    let lines = 0;
    try {
      for (const f of files) {
        const entries = parseLines(readFrom(f.fd, 0));
        parts.unshift(entries);
        if (options.tail !== undefined && options.tail >= 0 && (lines += splitLines(filterLog(entries, { ...options, tail: undefined })).length) >= options.tail) break;
      }
    } finally {
      for (const f of files) closeSync(f.fd);
    }
    return filterLog(parts.flat(), options);
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
          tail.close();
          ctl.close();
        });
      },
      cancel() {
        if (timer) clearInterval(timer);
        timer = undefined;
        tail.close();
      },
    });
  }

  async delete(id: string): Promise<void> {
    const path = this.file(id);
    for (const f of rotatedNames(path)) rmSync(f, { force: true });
    rmSync(path, { force: true });
  }
}

/**
 * One rotation as docker's json-file driver does it: PATH.(n-2) -> PATH.(n-1),
 * ..., PATH -> PATH.1, the oldest overwritten; with one file the current one
 * is removed. The writer then starts a new PATH.
 */
export function rotateLogFiles(path: string, maxFiles: number): void {
  if (maxFiles <= 1) return void rmSync(path, { force: true });
  for (let i = maxFiles - 1; i >= 1; i--) {
    try {
      renameSync(i === 1 ? path : `${path}.${i - 1}`, `${path}.${i}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** PATH.N ... PATH.1 as they are on disk, oldest (highest N) first. */
function rotatedNames(path: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return [];
  }
  const prefix = basename(path) + '.';
  const ns = names.filter((n) => n.startsWith(prefix) && /^[1-9]\d*$/.test(n.slice(prefix.length))).map((n) => Number(n.slice(prefix.length)));
  return ns.sort((a, b) => b - a).map((n) => `${path}.${n}`);
}

interface OpenLog {
  fd: number;
  ino: number;
}

/**
 * The log's files open, oldest first, the current one last (when it exists).
 * They are opened newest first, so a rotation meanwhile shows a file under two
 * names (kept once, by inode) and never hides one that was retained.
 */
function openLogFiles(path: string): OpenLog[] {
  const out: OpenLog[] = [];
  const seen = new Set<number>();
  for (const p of [path, ...rotatedNames(path).reverse()]) {
    let fd: number;
    try {
      fd = openSync(p, 'r');
    } catch {
      continue;
    }
    const ino = fstatSync(fd).ino;
    if (seen.has(ino)) closeSync(fd);
    else {
      seen.add(ino);
      out.push({ fd, ino });
    }
  }
  return out.reverse();
}

function readFrom(fd: number, offset: number): Buffer {
  const size = fstatSync(fd).size;
  if (size <= offset) return Buffer.alloc(0);
  const buf = Buffer.alloc(size - offset);
  const n = readSync(fd, buf, 0, buf.length, offset);
  return buf.subarray(0, n);
}

/** The whole lines of a log file's bytes as entries (split at newlines first: JSON lines hold none, and a UTF-8 character is never cut). */
function parseLines(buf: Buffer): LogEntry[] {
  const entries: LogEntry[] = [];
  let start = 0;
  for (let nl = buf.indexOf(10); nl >= 0; start = nl + 1, nl = buf.indexOf(10, start)) {
    const e = nl > start ? parseLogLine(buf.toString('utf8', start, nl)) : undefined;
    if (e) entries.push(e);
  }
  if (start < buf.length) {
    const e = parseLogLine(buf.toString('utf8', start));
    if (e) entries.push(e);
  }
  return entries;
}

/**
 * Reads the whole lines appended to a log since the last call, across
 * rotations: it keeps the current file open, and when the name points to a
 * new file it reads the old one to its end (the writer renames only between
 * lines and never writes to it again), then the files rotated after it, then
 * the new current one. A reader slower than max-file rotations loses the
 * files dropped meanwhile, as with docker.
 */
class FileTail {
  private fd = -1;
  private ino = -1;
  private offset = 0;
  private partial: Buffer = Buffer.alloc(0);

  constructor(private readonly path: string) {}

  next(): LogEntry[] {
    const out: LogEntry[] = [];
    if (this.fd >= 0) {
      out.push(...this.readMore());
      if (inoOf(this.path) === this.ino) return out;
      // Rotated: what the writer put in this file is all there now.
      out.push(...this.readMore());
      closeSync(this.fd);
      this.fd = -1;
    }
    // On to the files after the last one read (all of them at first, or when it was dropped).
    const files = openLogFiles(this.path);
    const at = this.ino < 0 ? -1 : files.findIndex((f) => f.ino === this.ino);
    for (const f of files.slice(0, at + 1)) closeSync(f.fd);
    const newer = files.slice(at + 1);
    if (!newer.length) return out; // the writer has not made the next file yet
    for (const f of newer.slice(0, -1)) out.push(...this.readWhole(f.fd));
    this.use(newer[newer.length - 1]!);
    out.push(...this.readMore());
    return out;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = this.ino = -1;
  }

  private use(f: OpenLog): void {
    this.fd = f.fd;
    this.ino = f.ino;
    this.offset = 0;
    this.partial = Buffer.alloc(0);
  }

  private readWhole(fd: number): LogEntry[] {
    try {
      return parseLines(readFrom(fd, 0));
    } finally {
      closeSync(fd);
    }
  }

  private readMore(): LogEntry[] {
    if (fstatSync(this.fd).size < this.offset) { this.offset = 0; this.partial = Buffer.alloc(0); } // truncated in place
    const buf = readFrom(this.fd, this.offset);
    if (!buf.length) return [];
    this.offset += buf.length;
    // Whole lines only: the rest (a line being written, maybe cut inside a UTF-8 character) waits for the next read.
    const all = this.partial.length ? Buffer.concat([this.partial, buf]) : buf;
    const end = all.lastIndexOf(10) + 1;
    this.partial = Buffer.from(all.subarray(end));
    return parseLines(all.subarray(0, end));
  }
}

function inoOf(path: string): number {
  try {
    return statSync(path).ino;
  } catch {
    return -1;
  }
}
