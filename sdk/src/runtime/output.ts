/**
 * Fans a running container's stdout and stderr out to the log store and to
 * every attached reader. Readers attached before start see everything. When
 * the backend writes the log itself (`store: false`), the hub only fans out.
 */
import type { LogEntry, LogLimits, LogStore, StreamName } from './logs.js';

type Listener = (e: LogEntry | null) => void;

export class OutputHub {
  private listeners = new Set<Listener>();
  private pending: Promise<void> = Promise.resolve();
  private closed = false;

  /** `limits`: the rotation of the stored log (the container's log config). */
  constructor(private readonly id: string, private readonly logs: LogStore, private readonly store = true, private readonly limits?: LogLimits) {}

  writable(stream: StreamName): WritableStream<Uint8Array> {
    return new WritableStream({
      write: (chunk) => {
        if (chunk.length === 0) return;
        const entry: LogEntry = { stream, time: Date.now(), data: chunk.slice() };
        for (const l of this.listeners) l(entry);
        if (this.store) this.pending = this.pending.then(() => this.logs.append(this.id, entry, this.limits)).catch(() => {});
      },
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
    await this.pending;
    this.closed = true;
    for (const l of this.listeners) l(null);
    this.listeners.clear();
  }

  flushed(): Promise<void> {
    return this.pending;
  }
}
