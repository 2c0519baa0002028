/** Container logs: each chunk of stdout/stderr with its time, like docker's json-file driver. */

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
  append(id: string, entry: LogEntry): Promise<void>;
  read(id: string, options?: LogReadOptions): Promise<LogEntry[]>;
  delete(id: string): Promise<void>;
  /** The file a backend may append to itself in this store's format (BackendCapabilities.writesLogs). */
  pathOf?(id: string): string;
  /**
   * The stored entries (filtered as by read), then entries as others append
   * them, until `done` settles: how logs are followed when a backend writes
   * them, from any process.
   */
  follow?(id: string, options: LogReadOptions, done: Promise<unknown>): ReadableStream<LogEntry>;
}

export class MemoryLogStore implements LogStore {
  private logs = new Map<string, LogEntry[]>();
  async append(id: string, entry: LogEntry): Promise<void> {
    let l = this.logs.get(id);
    if (!l) this.logs.set(id, (l = []));
    l.push(entry);
  }
  async read(id: string, options: LogReadOptions = {}): Promise<LogEntry[]> {
    return filterLog(this.logs.get(id) ?? [], options);
  }
  async delete(id: string): Promise<void> { this.logs.delete(id); }
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
