/**
 * A BlobSink that hashes and writes on a worker thread. A pull's main thread
 * parses HTTP and moves bytes; SHA-256 was a fifth of its time, and doing it
 * here lets a second core take it (Go's skopeo hashes on its own threads too).
 *
 * One worker per process, started on first use and shared by every sink; it
 * holds the process open only while a sink is in use. Chunks are copied into
 * 1 MiB batches whose memory is transferred, not cloned, to the worker and
 * back for reuse: a copy here costs far less than one message per 64 KiB
 * chunk, and the caller's chunks stay the caller's. (Batches in a
 * SharedArrayBuffer, which need no transfer, took a third more CPU per pull:
 * V8 copies into shared memory the slow, race-safe way.) The worker
 * acknowledges each batch once written, which is how write() knows when to
 * make the download wait.
 */
import { Worker } from 'node:worker_threads';
import { internal, unavailable } from '../errors/index.js';
import { WRITE_BACKLOG, type BlobSink } from './blob-sink.js';

const BATCH = 1 << 20;

type ToWorker =
  | ['open', number, string]
  | ['data', number, ArrayBuffer, number]
  | ['end', number]
  | ['abort', number];

type FromWorker =
  | ['opened', number]
  | ['ack', number, number, ArrayBuffer]
  | ['done', number, string]
  | ['closed', number]
  | ['error', number, string, string];

/**
 * The worker's code. It runs from its source text (new Worker(..., { eval:
 * true })), so it must not use anything from this module's scope: it works
 * the same from the bundle and from the TypeScript sources tests run. It gets
 * `require` as a parameter because bundlers rewrite calls of `require` itself.
 * Writes are synchronous (this thread does nothing else); fsync goes to
 * libuv's pool, so one blob's flush does not hold up the others' bytes.
 */
function workerMain(load: (id: string) => unknown): void {
  const { parentPort } = load('node:worker_threads') as typeof import('node:worker_threads');
  const fs = load('node:fs') as typeof import('node:fs');
  const { createHash } = load('node:crypto') as typeof import('node:crypto');
  interface Job { fd: number; hash: import('node:crypto').Hash; path: string }
  const jobs = new Map<number, Job>();
  const port = parentPort!;
  const fail = (id: number, op: string, path: string, err: unknown) => {
    const job = jobs.get(id);
    jobs.delete(id);
    if (job) try { fs.closeSync(job.fd); } catch { /* already closed */ }
    const e = err as NodeJS.ErrnoException;
    port.postMessage(['error', id, op, `${op} ${path}: ${e.code ?? e.message}`]);
  };
  port.on('message', (m: ToWorker) => {
    const id = m[1];
    if (m[0] === 'open') {
      try {
        jobs.set(id, { fd: fs.openSync(m[2], 'w', 0o644), hash: createHash('sha256'), path: m[2] });
        port.postMessage(['opened', id]);
      } catch (err) {
        fail(id, 'create', m[2], err);
      }
      return;
    }
    const job = jobs.get(id);
    if (m[0] === 'abort') {
      jobs.delete(id);
      if (job) try { fs.closeSync(job.fd); } catch { /* already closed */ }
      port.postMessage(['closed', id]);
      return;
    }
    if (!job) return; // failed before; the error is on its way
    if (m[0] === 'data') {
      const bytes = new Uint8Array(m[2], 0, m[3]);
      try {
        job.hash.update(bytes);
        for (let o = 0; o < bytes.length; ) o += fs.writeSync(job.fd, bytes, o, bytes.length - o);
      } catch (err) {
        fail(id, 'write', job.path, err);
        return;
      }
      // The batch's memory goes back to be filled again.
      port.postMessage(['ack', id, bytes.length, m[2]], [m[2]]);
      return;
    }
    // 'end': the digest goes back only once the bytes are on disk. The job
    // leaves the table now, so only this callback ever closes its fd.
    jobs.delete(id);
    fs.fsync(job.fd, (err) => {
      if (err) {
        try { fs.closeSync(job.fd); } catch { /* already closed */ }
        port.postMessage(['error', id, 'fsync', `fsync ${job.path}: ${err.code ?? err.message}`]);
        return;
      }
      fs.close(job.fd, () => port.postMessage(['done', id, job.hash.digest('hex')]));
    });
  });
}

interface Pending {
  onMessage(m: FromWorker): void;
  onCrash(err: Error): void;
}

/** The process's ingest worker and the sinks using it. */
class IngestWorker {
  private readonly worker: Worker;
  private readonly sinks = new Map<number, Pending>();
  private nextId = 1;
  dead = false;

  constructor() {
    this.worker = new Worker(`(${workerMain.toString()})(require)`, { eval: true, name: 'skiff-blob-sink' });
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => this.sinks.get(m[1])?.onMessage(m));
    const crash = (err: Error) => {
      this.dead = true;
      for (const s of this.sinks.values()) s.onCrash(err);
      this.sinks.clear();
    };
    this.worker.on('error', (err) => crash(err));
    this.worker.on('exit', (code) => crash(new Error(`the worker exited with code ${code}`)));
  }

  add(p: Pending): number {
    const id = this.nextId++;
    // Kept open while a sink waits on it: nothing else may hold the event loop while an fsync runs there.
    if (this.sinks.size === 0) this.worker.ref();
    this.sinks.set(id, p);
    return id;
  }

  remove(id: number): void {
    if (this.sinks.delete(id) && this.sinks.size === 0) {
      this.worker.unref();
      releaseSpareLater();
    }
  }

  post(m: ToWorker, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(m, transfer);
  }
}

let shared: IngestWorker | undefined;

/**
 * Batch buffers the worker is done with, for reuse: enough for three sinks'
 * backlogs. Fresh memory costs a page fault per 4 KiB on first touch, which
 * made filling new batches several times slower than refilling old ones.
 * Given back after a few idle seconds.
 */
const spare: ArrayBuffer[] = [];
const MAX_SPARE = 3 * (WRITE_BACKLOG / BATCH + 2);
const SPARE_IDLE_MS = 5000;
let spareTimer: ReturnType<typeof setTimeout> | undefined;

function batchBuffer(): Uint8Array<ArrayBuffer> {
  if (spareTimer !== undefined) clearTimeout(spareTimer);
  spareTimer = undefined;
  return new Uint8Array(spare.pop() ?? new ArrayBuffer(BATCH));
}

function releaseSpareLater(): void {
  if (spareTimer !== undefined) clearTimeout(spareTimer);
  spareTimer = setTimeout(() => { spare.length = 0; spareTimer = undefined; }, SPARE_IDLE_MS);
  spareTimer.unref();
}

function ingestWorker(): IngestWorker {
  if (!shared || shared.dead) shared = new IngestWorker();
  return shared;
}

export class WorkerSink implements BlobSink {
  private readonly w = ingestWorker();
  private readonly id: number;
  private batch = batchBuffer();
  private filled = 0;
  /** Bytes sent and not yet acknowledged. */
  private inFlight = 0;
  private failure: Error | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  private ended: { resolve: (hex: string) => void; reject: (err: Error) => void } | undefined;
  private aborted: (() => void) | undefined;
  private opened: (() => void) | undefined;

  private constructor(path: string) {
    this.id = this.w.add({ onMessage: (m) => this.onMessage(m), onCrash: (err) => this.fail(internal(`the blob writer thread failed while writing ${path}: ${err.message}`, err)) });
  }

  /** Creates the file (on the worker, started if need be); fails as InlineSink.create does. */
  static async create(path: string): Promise<WorkerSink> {
    let sink: WorkerSink;
    try {
      sink = new WorkerSink(path);
    } catch (err) {
      throw internal(`cannot start the blob writer thread for ${path}: ${(err as Error).message}`, err);
    }
    return new Promise((resolve, reject) => {
      sink.opened = () => (sink.failure ? reject(sink.failure) : resolve(sink));
      sink.w.post(['open', sink.id, path]);
    });
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    for (let o = 0; o < chunk.length; ) {
      const n = Math.min(chunk.length - o, BATCH - this.filled);
      this.batch.set(chunk.subarray(o, o + n), this.filled);
      this.filled += n;
      o += n;
      if (this.filled === BATCH) this.send();
    }
    if (this.inFlight < WRITE_BACKLOG) return undefined;
    return new Promise<void>((resolve, reject) => {
      this.wake = () => (this.failure ? reject(this.failure) : resolve());
    });
  }

  finish(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.filled > 0) this.send();
    return new Promise<string>((resolve, reject) => {
      this.ended = { resolve, reject };
      this.w.post(['end', this.id]);
    });
  }

  abort(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.aborted = resolve;
      this.w.post(['abort', this.id]);
    });
  }

  private send(): void {
    const buf = this.batch.buffer;
    this.w.post(['data', this.id, buf, this.filled], [buf]);
    this.inFlight += this.filled;
    this.batch = batchBuffer();
    this.filled = 0;
  }

  private onMessage(m: FromWorker): void {
    switch (m[0]) {
      case 'opened':
        this.opened?.();
        return;
      case 'ack':
        this.inFlight -= m[2];
        if (spare.length < MAX_SPARE) spare.push(m[3]);
        if (this.inFlight < WRITE_BACKLOG) this.wakeWriter();
        return;
      case 'done':
        this.close();
        this.ended?.resolve(m[2]);
        return;
      case 'closed':
        this.close();
        this.aborted?.();
        return;
      case 'error':
        this.close();
        this.fail(unavailable(m[3]));
    }
  }

  /** The file is closed (or never opened): nothing more will come for this sink. */
  private close(): void {
    this.closed = true;
    this.w.remove(this.id);
  }

  private fail(err: Error): void {
    this.closed = true;
    this.failure ??= err;
    this.wakeWriter();
    this.ended?.reject(this.failure);
    this.aborted?.();
    this.opened?.();
  }

  private wakeWriter(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
