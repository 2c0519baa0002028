/**
 * Fans a running container's stdout and stderr out to the log store and to
 * every attached reader. Readers attached before start see everything. When
 * the backend writes the log itself (`store: false`), the hub only fans out.
 */
import type { LogEntry, LogLimits, LogStore, StreamName } from './logs.js';
import { concat } from '../content/util.js';

type Listener = (e: LogEntry | null) => void;

/** docker's log copier holds a line's start up to 16 KiB until its newline (runtime-linux's shim does the same). */
export const LOG_PART_MAX = 16 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * What of a stream's output the log stores, and when: whole lines (a line
 * written in pieces is one entry), lines longer than 16 KiB in pieces of
 * 16 KiB, and the start of an unfinished line held until its newline, 16 KiB
 * of it, or the end of the output (rest()).
 */
export class LogLineHolder {
  private held = EMPTY;

  /** The pieces of output to store now, in order; each is whole lines or a 16 KiB piece of one (whole lines may be `chunk` itself). */
  take(chunk: Uint8Array): Uint8Array[] {
    const data = this.held.length ? concat([this.held, chunk]) : chunk;
    // Mostly: whole lines, none of them long.
    if (data.length <= LOG_PART_MAX && data[data.length - 1] === 10) {
      this.held = EMPTY;
      return [data];
    }
    const out: Uint8Array[] = [];
    let lineStart = 0;
    let runStart = 0; // consecutive lines of at most 16 KiB go out as one piece
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, lineStart)) {
      const end = nl + 1;
      if (end - lineStart > LOG_PART_MAX) {
        if (lineStart > runStart) out.push(data.slice(runStart, lineStart));
        for (let p = lineStart; p < end; p += LOG_PART_MAX) out.push(data.slice(p, Math.min(end, p + LOG_PART_MAX)));
        runStart = end;
      }
      lineStart = end;
    }
    if (lineStart > runStart) out.push(runStart === 0 && lineStart === data.length ? data : data.slice(runStart, lineStart));
    let rest = lineStart;
    for (; data.length - rest >= LOG_PART_MAX; rest += LOG_PART_MAX) out.push(data.slice(rest, rest + LOG_PART_MAX));
    this.held = data.slice(rest);
    return out;
  }

  /** The held start of a line, if any, left held. */
  peek(): Uint8Array | undefined {
    return this.held.length ? this.held.slice() : undefined;
  }

  /** The held start of a line, at the end of the output. */
  rest(): Uint8Array | undefined {
    const r = this.held;
    this.held = EMPTY;
    return r.length ? r : undefined;
  }
}

export class OutputHub {
  private listeners = new Set<Listener>();
  private holders: Array<{ stream: StreamName; holder: LogLineHolder }> = [];
  private pending: Promise<void> = Promise.resolve();
  private closed = false;

  /** `limits`: the rotation of the stored log (the container's log config). */
  constructor(private readonly id: string, private readonly logs: LogStore, private readonly store = true, private readonly limits?: LogLimits) {}

  writable(stream: StreamName): WritableStream<Uint8Array> {
    const holder = new LogLineHolder();
    this.holders.push({ stream, holder });
    return new WritableStream({
      write: (chunk) => {
        if (chunk.length === 0) return;
        const time = Date.now();
        // Readers get output as it comes; the log gets it by lines, as docker's
        // (the holder runs also when the backend writes the log: held() mirrors what it holds).
        const entry: LogEntry = { stream, time, data: chunk.slice() };
        for (const l of this.listeners) l(entry);
        const pieces = holder.take(chunk);
        if (!this.store) return;
        // Whole lines, as mostly: the very entry readers got (logs -f tells them apart by identity).
        if (pieces.length === 1 && pieces[0]!.length === chunk.length) return this.append(entry);
        for (const data of pieces) this.append({ stream, time, data });
      },
      close: () => this.storeRest(stream, holder),
    });
  }

  private append(entry: LogEntry): void {
    this.pending = this.pending.then(() => this.logs.append(this.id, entry, this.limits)).catch(() => {});
  }

  private storeRest(stream: StreamName, holder: LogLineHolder): void {
    if (!this.store) return;
    const data = holder.rest();
    if (data) this.append({ stream, time: Date.now(), data });
  }

  /** The start of each stream's unfinished line, which the log holds until its newline (for logs -f). */
  held(): LogEntry[] {
    const time = Date.now();
    return this.holders.flatMap(({ stream, holder }) => {
      const data = holder.peek();
      return data ? [{ stream, time, data }] : [];
    });
  }

  /** Entries from now until the container exits. */
  subscribe(listener: Listener): () => void {
    if (this.closed) {
      listener(null);
      return () => {};
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Entries as a stream that ends when the process exits. */
  stream(): ReadableStream<LogEntry> {
    let unsubscribe = () => {};
    return new ReadableStream<LogEntry>({
      start: (ctl) => {
        unsubscribe = this.subscribe((e) => (e ? ctl.enqueue(e) : ctl.close()));
      },
      cancel: () => unsubscribe(),
    });
  }

  /** Waits for log writes to land, then ends every reader. */
  async close(): Promise<void> {
    for (const { stream, holder } of this.holders) this.storeRest(stream, holder);
    await this.pending;
    this.closed = true;
    for (const l of this.listeners) l(null);
    this.listeners.clear();
  }

  flushed(): Promise<void> {
    return this.pending;
  }
}
