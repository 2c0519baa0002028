/** Container logs: each chunk of stdout/stderr with its time, like docker's json-file driver. */
import type { LogLimits } from './log-config.js';
import { fromBase64, toBase64 } from '../content/base64.js';

export type { LogLimits };

export type StreamName = 'stdout' | 'stderr';

export interface LogEntry {
  stream: StreamName;
  /** Milliseconds since the epoch. */
  time: number;
  /** The nanoseconds within that millisecond, when the log kept them (the Linux shim writes nanoseconds). */
  nanos?: number;
  data: Uint8Array;
}

/** An entry's time as docker prints log timestamps: RFC 3339 with nanoseconds. */
export function logTimestamp(e: Pick<LogEntry, 'time' | 'nanos'>): string {
  return new Date(e.time).toISOString().replace(/Z$/, `${String(e.nanos ?? 0).padStart(6, '0')}Z`);
}

export interface LogReadOptions {
  /** Only entries at or after this time (ms). */
  since?: number;
  until?: number;
  /** Only the last N lines. */
  tail?: number;
}

export interface LogStore {
  /**
   * Adds an entry. With limits, the log is rotated as docker's json-file
   * driver does: before an entry is written, a current file that has reached
   * maxSize becomes the newest rotated one and the oldest beyond maxFiles is
   * dropped; an entry is never split across files.
   */
  append(id: string, entry: LogEntry, limits?: LogLimits): Promise<void>;
  read(id: string, options?: LogReadOptions): Promise<LogEntry[]>;
  delete(id: string): Promise<void>;
  /**
   * The file a backend may append to itself in this store's format
   * (BackendCapabilities.writesLogs). With rotation the backend renames it to
   * `PATH.1`, `PATH.1` to `PATH.2` and so on, as the store itself does.
   */
  pathOf?(id: string): string;
  /**
   * The stored entries (filtered as by read), then entries as others append
   * them, until `done` settles: how logs are followed when a backend writes
   * them, from any process.
   */
  follow?(id: string, options: LogReadOptions, done: Promise<unknown>): ReadableStream<LogEntry>;
}

/** Keeps each container's "files" as lists of entries, rotated by their size as JSON lines. */
export class MemoryLogStore implements LogStore {
  private logs = new Map<string, { files: LogEntry[][]; size: number }>();
  async append(id: string, entry: LogEntry, limits?: LogLimits): Promise<void> {
    let l = this.logs.get(id);
    if (!l) this.logs.set(id, (l = { files: [[]], size: 0 }));
    if (limits && l.size >= limits.maxSize) {
      l.files.push([]);
      l.size = 0;
      while (l.files.length > limits.maxFiles) l.files.shift();
    }
    l.files[l.files.length - 1]!.push(entry);
    l.size += logLineSize(entry);
  }
  async read(id: string, options: LogReadOptions = {}): Promise<LogEntry[]> {
    return filterLog(this.logs.get(id)?.files.flat() ?? [], options);
  }
  async delete(id: string): Promise<void> { this.logs.delete(id); }
}

/**
 * The entry as lines of docker's json-file log, one per line of output, as
 * the file stores keep it (and the Linux shim writes it):
 * {"log":"hi\n","stream":"stdout","time":"2026-11-29T09:45:03.786Z"}. Bytes
 * that are not UTF-8 show as U+FFFD in "log", as docker writes them; then the
 * exact bytes follow as "raw" (base64), which docker's readers ignore.
 */
export function jsonLogLines(e: LogEntry): string {
  const time = new Date(e.time).toISOString();
  let out = '';
  for (const line of splitLines([e])) {
    let log: string;
    let raw: string | undefined;
    try {
      log = strictUtf8.decode(line.data);
    } catch {
      log = looseUtf8.decode(line.data);
      raw = toBase64(line.data);
    }
    out += JSON.stringify(raw === undefined ? { log, stream: e.stream, time } : { log, stream: e.stream, time, raw }) + '\n';
  }
  return out;
}

/** One line of a log file as an entry (docker's json-file lines; the base64 lines of earlier skiff versions too); undefined when it is not one. */
export function parseLogLine(line: string): LogEntry | undefined {
  try {
    const j = JSON.parse(line) as { stream?: unknown; time?: unknown; log?: unknown; raw?: unknown };
    if ((j.stream !== 'stdout' && j.stream !== 'stderr') || typeof j.log !== 'string') return undefined;
    // Before the json-file format: {"stream","time":ms,"log":"base64"}.
    if (typeof j.time === 'number') return { stream: j.stream, time: j.time, data: fromBase64(j.log) };
    const time = typeof j.time === 'string' ? Date.parse(j.time) : NaN;
    if (!Number.isFinite(time)) return undefined;
    // Date keeps milliseconds; the digits after them (docker's and the shim's nanoseconds) are kept apart.
    const sub = /\.\d{3}(\d{1,6})/.exec(j.time as string)?.[1];
    const data = typeof j.raw === 'string' ? fromBase64(j.raw) : utf8.encode(j.log);
    return sub ? { stream: j.stream, time, nanos: Number(sub.padEnd(6, '0')), data } : { stream: j.stream, time, data };
  } catch {
    return undefined; // a line cut short by a crash, or still being written
  }
}

/** The size of an entry in a log file (its json-file lines), for rotation by max-size. */
export function logLineSize(e: LogEntry): number {
  return utf8.encode(jsonLogLines(e)).length;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const looseUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Splits entries into lines and applies since/until/tail. */
export function filterLog(entries: LogEntry[], options: LogReadOptions): LogEntry[] {
  let out = entries.filter((e) => (options.since === undefined || e.time >= options.since) && (options.until === undefined || e.time <= options.until));
  if (options.tail !== undefined && options.tail >= 0) {
    const lines = splitLines(out);
    out = options.tail === 0 ? [] : lines.slice(-options.tail);
  }
  return out;
}

export function splitLines(entries: LogEntry[]): LogEntry[] {
  const out: LogEntry[] = [];
  for (const e of entries) {
    let start = 0;
    for (let i = 0; i < e.data.length; i++) {
      if (e.data[i] === 10) { out.push({ ...e, data: e.data.subarray(start, i + 1) }); start = i + 1; }
    }
    if (start < e.data.length) out.push({ ...e, data: e.data.subarray(start) });
  }
  return out;
}
