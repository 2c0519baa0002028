/**
 * Standard streams of a guest, as Fds of the shim's kind.
 *
 * Output is batched: a guest that prints 10,000 lines makes a handful of host
 * writes, not 10,000. Buffered bytes go out when they pass a threshold, when
 * the guest syncs the fd, before it blocks (sleep, stdin) and when it exits.
 *
 * Input is a buffer: an in-process guest runs synchronously and cannot wait
 * for a stream, so the backend reads stdin to EOF before the guest starts.
 * (Worker mode gives a guest real blocking reads from a live stream.)
 */
import { Fd, Inode, wasi as shimDefs } from '@bjorn3/browser_wasi_shim';
import { Errno, Filetype } from './defs.js';

export const DEFAULT_FLUSH_BYTES = 64 * 1024;

type Sink = (chunk: Uint8Array) => void;

/** Where a guest's output goes. `broken` makes further writes fail with EPIPE. */
export class OutputFd extends Fd {
  /** Bytes not yet handed over, at the front of `buf` (1 KiB at first, then the threshold). */
  private buf: Uint8Array | undefined;
  private pending = 0;
  readonly ino = Inode.issue_ino();
  broken = false;
  /** Host writes made so far (one per flush that had bytes). */
  hostWrites = 0;

  constructor(private readonly sink: Sink, private readonly threshold = DEFAULT_FLUSH_BYTES) {
    super();
  }

  /**
   * Another stream whose buffered bytes go out before this one's (stdout and
   * stderr of one process): batching never reorders what the guest wrote.
   */
  sibling: OutputFd | undefined;

  get pendingBytes(): number {
    return this.pending;
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    if (this.broken) return { ret: Errno.PIPE, nwritten: 0 };
    this.append(data, 0, data.length);
    this.written();
    return { ret: 0, nwritten: data.length };
  }

  /** The end of one guest write (all its iovecs): the batch goes out if it is full. */
  written(): void {
    if (this.pending >= this.threshold) this.flush();
  }

  /**
   * Takes `src[start, end)` (the guest's memory, straight from its iovecs):
   * one copy into the batch, none per write besides. False when broken
   * (EPIPE). Call `written()` after the last iovec of a write.
   */
  append(src: Uint8Array, start: number, end: number): boolean {
    if (this.broken) return false;
    const n = end - start;
    if (n <= 0) return true;
    if (this.sibling && this.sibling.pending) this.sibling.flush();
    const need = this.pending + n;
    let buf = this.buf;
    if (!buf || need > buf.length) {
      // Small at first (most guests print a line or two), a whole batch once more comes.
      const grown = new Uint8Array(Math.max(need, buf ? this.threshold : Math.min(1024, this.threshold)));
      if (buf && this.pending) grown.set(buf.subarray(0, this.pending));
      this.buf = buf = grown;
    }
    // A short line is copied by hand: making a view for set() costs more than the bytes.
    if (n <= 32) {
      for (let i = 0, at = this.pending; i < n; i++) buf[at + i] = src[start + i]!;
    } else {
      buf.set(src.subarray(start, end), this.pending);
    }
    this.pending = need;
    return true;
  }

  flush(): void {
    if (this.pending === 0) return;
    const chunk = this.buf!.subarray(0, this.pending);
    // The chunk is the sink's now: the next write starts a new buffer.
    this.buf = undefined;
    this.pending = 0;
    this.hostWrites++;
    this.sink(chunk);
  }

  override fd_sync(): number {
    this.flush();
    return 0;
  }

  override fd_close(): number {
    this.flush();
    return 0;
  }

  override fd_filestat_get(): { ret: number; filestat: shimDefs.Filestat } {
    return { ret: 0, filestat: new shimDefs.Filestat(this.ino, Filetype.UNKNOWN, 0n) };
  }

  override fd_fdstat_get(): { ret: number; fdstat: shimDefs.Fdstat } {
    return { ret: 0, fdstat: new shimDefs.Fdstat(Filetype.UNKNOWN, 0) };
  }
}

/** Stdin from bytes known up front; EOF after them. */
export class InputFd extends Fd {
  private pos = 0;
  readonly ino = Inode.issue_ino();

  constructor(private readonly data: Uint8Array = new Uint8Array(0)) {
    super();
  }

  /** Bytes left before EOF. */
  get available(): number {
    return this.data.length - this.pos;
  }

  override fd_read(size: number): { ret: number; data: Uint8Array } {
    const n = Math.min(size, this.data.length - this.pos);
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return { ret: 0, data: out };
  }

  override fd_filestat_get(): { ret: number; filestat: shimDefs.Filestat } {
    return { ret: 0, filestat: new shimDefs.Filestat(this.ino, Filetype.UNKNOWN, 0n) };
  }

  override fd_fdstat_get(): { ret: number; fdstat: shimDefs.Fdstat } {
    return { ret: 0, fdstat: new shimDefs.Fdstat(Filetype.UNKNOWN, 0) };
  }
}

const carried = new WeakMap<ReadableStream<Uint8Array>, InputFd>();

/**
 * Marks a stdin stream as standing for `fd`: a backend gives the guest the Fd
 * instead of reading the stream to EOF before the start. Worker mode uses it
 * for a stdin the guest reads live from shared memory (worker/stdin-channel.ts).
 */
export function carryInputFd(stream: ReadableStream<Uint8Array>, fd: InputFd): ReadableStream<Uint8Array> {
  carried.set(stream, fd);
  return stream;
}

export function carriedInputFd(stream: ReadableStream<Uint8Array>): InputFd | undefined {
  return carried.get(stream);
}

/**
 * A sink that hands chunks to a WritableStream without waiting (the guest
 * cannot), and a `drain()` that resolves when every chunk has been taken.
 */
export function streamSink(stream: WritableStream<Uint8Array>, onBroken: () => void): { sink: Sink; drain: () => Promise<void> } {
  const writer = stream.getWriter();
  let last: Promise<void> = Promise.resolve();
  return {
    sink: (chunk) => {
      last = writer.write(chunk).catch(() => onBroken());
    },
    drain: async () => {
      await last;
      writer.releaseLock();
    },
  };
}
