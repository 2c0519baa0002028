/**
 * A guest's stdin across threads: a ring buffer in a SharedArrayBuffer that
 * the host fills from a stream while the guest, in its worker, blocks on it
 * with Atomics.wait. A guest waiting for input then sleeps instead of
 * spinning, and a prompt-and-answer dialogue works while the guest runs.
 *
 * Layout: an Int32Array header (write count, read count, closed flag and a
 * sequence number that every write and the close bump, which is what the
 * reader waits on), then the ring itself (a power of two).
 *
 * Where SharedArrayBuffer does not exist (a page that is not cross-origin
 * isolated) there is no channel: the host reads stdin to EOF before the guest
 * starts and sends the bytes along, as in-process mode does.
 */
import { InputFd } from '../wasi/stdio.js';
import { waitService } from '../wasi/clock.js';
import { ring } from './requests.js';

const WRITTEN = 0;
const READ = 1;
const CLOSED = 2;
const SEQ = 3;
const HEADER_BYTES = 16;
export const DEFAULT_STDIN_RING_BYTES = 64 * 1024;

/** True where threads can share memory (Node always; browsers when cross-origin isolated). */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  const g = globalThis as { crossOriginIsolated?: boolean };
  return g.crossOriginIsolated !== false;
}

/** Makes the shared buffer of a new channel; `ringBytes` is rounded up to a power of two. */
export function createStdinBuffer(ringBytes = DEFAULT_STDIN_RING_BYTES): SharedArrayBuffer {
  let size = 1024;
  while (size < ringBytes) size *= 2;
  return new SharedArrayBuffer(HEADER_BYTES + size);
}

/** The host's end: copies chunks in, waiting for room when the guest reads slowly. */
export class StdinWriter {
  private readonly header: Int32Array;
  private readonly ring: Uint8Array;
  private readonly mask: number;
  private stopped = false;

  /** `bell`: the worker's request bell (requests.ts), rung with every change, which a reader waits on where the worker serves requests while blocked. */
  constructor(readonly buffer: SharedArrayBuffer, private readonly bell?: Int32Array) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.ring = new Uint8Array(buffer, HEADER_BYTES);
    this.mask = this.ring.length - 1;
  }

  /** Copies `chunk` in whole, waiting while the ring is full; returns early once stopped. */
  async write(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length && !this.stopped) {
      const written = Atomics.load(this.header, WRITTEN) >>> 0;
      const read = Atomics.load(this.header, READ) >>> 0;
      const used = (written - read) >>> 0;
      const free = this.ring.length - used;
      if (free === 0) {
        await this.roomAfter(read);
        continue;
      }
      const n = Math.min(free, chunk.length - off);
      const at = written & this.mask;
      const first = Math.min(n, this.ring.length - at);
      this.ring.set(chunk.subarray(off, off + first), at);
      if (n > first) this.ring.set(chunk.subarray(off + first, off + n), 0);
      off += n;
      Atomics.store(this.header, WRITTEN, (written + n) | 0);
      this.bump();
    }
  }

  /** End of input: the guest reads what is left, then EOF. */
  close(): void {
    Atomics.store(this.header, CLOSED, 1);
    this.bump();
  }

  /** Gives up (the guest is gone): pending and later writes return at once. */
  stop(): void {
    this.stopped = true;
  }

  private bump(): void {
    Atomics.add(this.header, SEQ, 1);
    Atomics.notify(this.header, SEQ);
    if (this.bell) ring(this.bell);
  }

  /** Resolves when the reader has moved past `read`. */
  private async roomAfter(read: number): Promise<void> {
    const waitAsync = (Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number, t?: number) => { async: boolean; value: Promise<string> | string } }).waitAsync;
    if (waitAsync) {
      const r = waitAsync(this.header, READ, read | 0, 50);
      if (r.async) await r.value;
      return;
    }
    await new Promise((res) => setTimeout(res, 2));
  }
}

/** Pumps a stream into a channel and closes it at the stream's end (or error). */
export async function pumpStdin(stream: ReadableStream<Uint8Array> | undefined, writer: StdinWriter): Promise<void> {
  if (!stream) return writer.close();
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
  } catch {
    /* a failing stdin ends like a closed one */
  } finally {
    writer.close();
    reader.releaseLock();
  }
}

/**
 * The guest's end, as an Fd: a read blocks until bytes or EOF arrive.
 * `available` (what poll_oneoff asks) blocks the same way, so polling stdin
 * waits for input; a clock subscription in the same poll does not cut that
 * wait short.
 */
export class SharedInputFd extends InputFd {
  private readonly header: Int32Array;
  private readonly ring: Uint8Array;
  private readonly mask: number;

  constructor(buffer: SharedArrayBuffer) {
    super();
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.ring = new Uint8Array(buffer, HEADER_BYTES);
    this.mask = this.ring.length - 1;
  }

  /**
   * Blocks until there are bytes to read or the input ended; returns how many
   * are buffered. Where the thread has a wait service (worker mode in Node),
   * it waits on the service's bell, which the writer also rings, and serves
   * requests (an exec) while it waits.
   */
  private waitForInput(): number {
    for (;;) {
      const service = waitService();
      const [cell, index] = service ? [service.bell, 0] : [this.header, SEQ];
      const seen = Atomics.load(cell, index);
      const n = ((Atomics.load(this.header, WRITTEN) >>> 0) - (Atomics.load(this.header, READ) >>> 0)) >>> 0;
      if (n > 0 || Atomics.load(this.header, CLOSED)) return n;
      service?.serve();
      Atomics.wait(cell, index, seen);
    }
  }

  override get available(): number {
    return this.waitForInput();
  }

  override fd_read(size: number): { ret: number; data: Uint8Array } {
    const n = Math.min(size, this.waitForInput());
    if (n === 0) return { ret: 0, data: new Uint8Array(0) };
    const read = Atomics.load(this.header, READ) >>> 0;
    const at = read & this.mask;
    const out = new Uint8Array(n);
    const first = Math.min(n, this.ring.length - at);
    out.set(this.ring.subarray(at, at + first));
    if (n > first) out.set(this.ring.subarray(0, n - first), first);
    Atomics.store(this.header, READ, (read + n) | 0);
    Atomics.notify(this.header, READ);
    return { ret: 0, data: out };
  }
}
