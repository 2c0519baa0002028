/**
 * Where the bytes of a blob being stored go: a temp file that the sink hashes
 * and writes, in order, and syncs to disk when finished. FsImageLayout checks
 * sizes, digests and names; a sink only turns chunks into a durable file and
 * its SHA-256.
 *
 * Two sinks: InlineSink hashes on the calling thread and writes on libuv's
 * pool (cheap to start, for small blobs), and WorkerSink (blob-sink-worker.ts)
 * does both on a worker thread, so a large download's hashing runs beside the
 * thread that parses HTTP instead of after it.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { unavailable } from '../errors/index.js';
import { errno } from './errno.js';

export interface BlobSink {
  /**
   * Takes a chunk; the sink may keep it until it is written, so the caller
   * must not reuse its memory. Returns a promise when the sink wants the
   * caller to wait (its backlog is full: a slow disk slows the download
   * instead of filling memory), else undefined. A failed write shows here or
   * in finish().
   */
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** Writes what is left, fsyncs and closes the file; the SHA-256 (hex) of all bytes written. */
  finish(): Promise<string>;
  /** Stops and closes the file (the caller removes it); never throws. */
  abort(): Promise<void>;
}

/** Bytes handed to a sink and not yet written before write() asks the caller to wait. */
export const WRITE_BACKLOG = 8 << 20;

/**
 * Hashes on this thread; writes in the background as one writev of every
 * chunk that arrived meanwhile, while the next ones are read and hashed.
 */
export class InlineSink implements BlobSink {
  private readonly hash = createHash('sha256');
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  private active = false;
  private writing: Promise<void> | undefined;
  private failure: unknown;

  private constructor(private readonly path: string, private readonly fh: FileHandle) {}

  static async create(path: string): Promise<InlineSink> {
    try {
      return new InlineSink(path, await open(path, 'w', 0o644));
    } catch (err) {
      throw unavailable(`create ${path}: ${errno(err)}`, err);
    }
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.hash.update(chunk);
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
    if (!this.active) this.writing = this.drain().catch((err: unknown) => { this.failure ??= unavailable(`write ${this.path}: ${errno(err)}`, err); });
    return this.queuedBytes >= WRITE_BACKLOG ? this.writing!.then(() => this.check()) : undefined;
  }

  async finish(): Promise<string> {
    await this.writing;
    if (this.queued.length > 0 && this.failure === undefined) await this.drain().catch((err: unknown) => { this.failure ??= unavailable(`write ${this.path}: ${errno(err)}`, err); });
    this.check();
    try {
      await this.fh.sync();
    } catch (err) {
      throw unavailable(`fsync ${this.path}: ${errno(err)}`, err);
    }
    await this.fh.close();
    return this.hash.digest('hex');
  }

  async abort(): Promise<void> {
    await this.writing;
    await this.fh.close().catch(() => {});
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private async drain(): Promise<void> {
    this.active = true;
    try {
      while (this.queued.length > 0) {
        const parts = this.queued;
        const total = this.queuedBytes;
        this.queued = [];
        this.queuedBytes = 0;
        await writeAll(this.fh, parts, total);
      }
    } finally {
      this.active = false;
    }
  }
}

/** Writes every part, in order, with as few calls as the kernel allows. */
async function writeAll(fh: FileHandle, parts: Uint8Array[], total: number): Promise<void> {
  const { bytesWritten } = await fh.writev(parts);
  if (bytesWritten === total) return;
  // A short write (rare on regular files): the rest one part at a time.
  let skip = bytesWritten;
  for (const p of parts) {
    if (skip >= p.length) { skip -= p.length; continue; }
    for (let o = skip; o < p.length; ) o += (await fh.write(p, o, p.length - o)).bytesWritten;
    skip = 0;
  }
}
