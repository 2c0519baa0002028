/** Container logs: each chunk of stdout/stderr with its time, like docker's json-file driver. */
import type { LogLimits } from './log-config.js';

export type { LogLimits };

export type StreamName = 'stdout' | 'stderr';

export interface LogEntry {
  stream: StreamName;
  /** Milliseconds since the epoch. */
  time: number;
  data: Uint8Array;
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

/** The length of an entry as a JSON line of the file stores, {"stream":"stdout","time":MS,"log":"BASE64"}\n, without making it. */
export function logLineSize(e: LogEntry): number {
  return 31 + e.stream.length + String(e.time).length + 4 * Math.ceil(e.data.length / 3);
}

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
