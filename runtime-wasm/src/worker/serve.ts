/**
 * The worker's side: one container per worker, run by the in-process
 * WasmBackend (the same code, limits and exit statuses as in-process mode),
 * bridged to the host:
 * - layer blobs are read from the host's store through comlink;
 * - output goes out as events on a port, chunk by chunk, while the guest runs;
 * - stdin comes from a shared ring buffer the guest blocks on (or as bytes);
 * - a volume held in the host's memory is mounted as a copy whose changes
 *   are reported back (volume-bridge.ts);
 * - requests made while the guest runs (exec, docker cp) are served inside its blocked
 *   waits, where the entry gives a synchronous receive (requests.ts, exec.ts).
 * Isomorphic: the entries (node-entry.ts, browser-entry.ts) add the endpoint
 * and, in Node, node:fs for bind mounts and on-disk volumes.
 */
import * as Comlink from 'comlink';
import {
  SkiffError, digestOf, type BlobInfo, type ContainerSpec, type FsLike, type Mount, type ProcessStats, type Provider, type Resources, type Stdio,
} from '@skiff/sdk';
import type { ContainerFsProvider } from '../container-fs.js';
import { createWasmBackend } from '../factory.js';
import { ModuleCache, type ModuleKey } from '../module-cache.js';
import { setWaitService } from '../wasi/clock.js';
import { carryInputFd } from '../wasi/stdio.js';
import type { WasmBackend, WasmContainer } from '../backend.js';
import { NestedExecs } from './exec.js';
import { FileRequests } from './files.js';
import { MemoryFs } from './memory-fs.js';
import type { BlobSource, ContainerWorkerApi, CreateRequest, ModuleShare, StartRequest, WorkerEvent, WorkerSpec } from './protocol.js';
import { portable, RequestServer, type ReceiveNow } from './requests.js';
import { SharedInputFd } from './stdin-channel.js';

export interface ContainerWorkerOptions {
  /** The container file system (default: the one registered with the factory, skiff's layered fs). */
  fs?: ContainerFsProvider;
  /** node:fs, in Node workers: bind mounts and volumes on disk. */
  hostFs?: FsLike;
  /** Node's receiveMessageOnPort: requests (exec) are served while a guest is blocked. */
  receiveNow?: ReceiveNow;
}

/** A Provider over the host's store: what the runtime needs to index layers. */
class RemoteProvider implements Provider {
  constructor(private readonly blobs: Comlink.Remote<BlobSource>) {}

  async info(digest: string): Promise<BlobInfo | undefined> {
    const b = await this.readBytes(digest);
    return { digest, size: b.length };
  }

  readBytes(digest: string): Promise<Uint8Array> {
    return this.blobs.readBytes(digest);
  }

  readStream(digest: string): ReadableStream<Uint8Array> {
    return new ReadableStream({
      pull: async (c) => {
        c.enqueue(await this.readBytes(digest));
        c.close();
      },
    });
  }
}

/**
 * Modules compiled by any worker are kept by the host, so the next container
 * of an image does not compile. Across workers a module is named by the
 * digest of its (memory-limited) bytes: the file system's own keys are
 * objects of this worker's heap.
 */
class SharedModuleCache extends ModuleCache {
  private readonly local = new Map<ModuleKey, Map<number, Promise<WebAssembly.Module>>>();
  /** The modules of `local` that are ready, for compileNow. */
  private readonly ready = new Map<ModuleKey, Map<number, WebAssembly.Module>>();

  constructor(private readonly share: Comlink.Remote<ModuleShare>) {
    super();
  }

  override get(key: ModuleKey, limitPages: number, bytes: () => Uint8Array): Promise<WebAssembly.Module> {
    let slot = this.local.get(key);
    if (!slot) this.local.set(key, (slot = new Map()));
    let p = slot.get(limitPages);
    if (!p) {
      p = (async () => {
        const b = bytes();
        const digest = digestOf(b);
        const shared = await this.share.get(digest, limitPages).catch(() => undefined);
        if (shared) return shared;
        this.compiles++;
        const m = await WebAssembly.compile(b as Uint8Array<ArrayBuffer>);
        void this.share.put(digest, limitPages, m).catch(() => {});
        return m;
      })();
      slot.set(limitPages, p);
      const s = slot;
      p.then((m) => this.keep(key, limitPages, m), () => s.delete(limitPages));
    }
    return p;
  }

  /**
   * A module without waiting (for an exec served inside a blocked guest):
   * one this worker has, else compiled synchronously, which a worker may do
   * for any size. The host's share is not asked (that needs a round trip).
   */
  compileNow(key: ModuleKey, limitPages: number, bytes: () => Uint8Array): WebAssembly.Module {
    const have = this.ready.get(key)?.get(limitPages);
    if (have) return have;
    const b = bytes();
    this.compiles++;
    const m = new WebAssembly.Module(b as Uint8Array<ArrayBuffer>);
    this.keep(key, limitPages, m);
    let slot = this.local.get(key);
    if (!slot) this.local.set(key, (slot = new Map()));
    if (!slot.has(limitPages)) slot.set(limitPages, Promise.resolve(m));
    void this.share.put(digestOf(b), limitPages, m).catch(() => {});
    return m;
  }

  private keep(key: ModuleKey, limitPages: number, m: WebAssembly.Module): void {
    let r = this.ready.get(key);
    if (!r) this.ready.set(key, (r = new Map()));
    r.set(limitPages, m);
  }

  override has(key: ModuleKey, limitPages = 0): boolean {
    return this.local.get(key)?.has(limitPages) ?? false;
  }
}

/**
 * A WritableStream whose writer posts each chunk at once. A guest holds the
 * thread while it runs, so a real stream's queue would only advance when the
 * guest ends; posting from write() itself streams output as it is made.
 */
class PostingStream extends WritableStream<Uint8Array> {
  constructor(private readonly post: (chunk: Uint8Array) => void) {
    super();
  }

  override getWriter(): WritableStreamDefaultWriter<Uint8Array> {
    const done = Promise.resolve();
    const writer = {
      closed: done,
      desiredSize: 1,
      ready: done,
      write: (chunk: Uint8Array) => {
        this.post(chunk);
        return done;
      },
      close: () => done,
      abort: () => done,
      releaseLock: () => {},
    };
    return writer as unknown as WritableStreamDefaultWriter<Uint8Array>;
  }
}

async function guarded<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw portable(err);
  }
}

export function containerWorkerApi(options: ContainerWorkerOptions = {}): ContainerWorkerApi {
  let backend: WasmBackend | undefined;
  let container: WasmContainer | undefined;
  let events: MessagePort | undefined;
  /** The main process runs (from start until its exit is posted): execs are served only then. */
  let running = false;

  const post = (e: WorkerEvent, transfer: Transferable[] = []) => events!.postMessage(e, transfer);

  /** Requests while a guest runs (exec, docker cp in and out), nested in the blocked guest's wait. */
  const serveRequests = (req: CreateRequest, modules: SharedModuleCache | undefined) => {
    if (!req.requests) return;
    const server = new RequestServer(req.requests.port, req.requests.bell, post, options.receiveNow);
    const files = new FileRequests(() => container);
    server.on('importFiles', files.importFiles);
    server.on('exportChanges', files.exportChanges);
    if (!options.receiveNow) return;
    const execs = modules
      ? new NestedExecs(() => (running ? container : undefined), modules.compileNow.bind(modules), {
        out: (run, fd, data) => post({ t: 'out', run, fd, data }),
        exit: (run, status) => post({ t: 'exit', run, status }),
      })
      : undefined;
    if (execs) server.on('exec', execs.handle);
    setWaitService({
      bell: server.bell,
      serve: () => {
        server.serveNow();
        execs?.checkKilled();
      },
    });
  };

  const mountsFor = (spec: WorkerSpec): Mount[] =>
    spec.mounts.map((m): Mount => {
      if (m.type !== 'volume' || !('snapshot' in m.volume)) return m as Mount;
      const { name, snapshot, index } = m.volume;
      const fs = MemoryFs.fromSnapshot(snapshot, { onChange: (change) => post({ t: 'volume', index, change }) });
      return { type: 'volume', volume: { name, fs: fs as unknown as FsLike, fsRoot: '/' }, target: m.target, readOnly: m.readOnly };
    });

  return {
    create: (req: CreateRequest, blobs: BlobSource, share?: ModuleShare) =>
      guarded(async () => {
        events = req.events;
        const modules = share ? new SharedModuleCache(share as unknown as Comlink.Remote<ModuleShare>) : undefined;
        backend = createWasmBackend({
          ...(options.fs ? { fs: options.fs } : {}),
          ...(options.hostFs ? { hostFs: options.hostFs } : {}),
          ...(modules ? { modules } : {}),
          // Every guest write goes out at once: output streams while the guest runs.
          flushBytes: 1,
        });
        await backend.init({ content: new RemoteProvider(blobs as unknown as Comlink.Remote<BlobSource>) });
        const spec: ContainerSpec = { ...req.spec, mounts: mountsFor(req.spec) };
        container = await backend.create(spec);
        serveRequests(req, modules);
      }),

    start: (req: StartRequest) =>
      guarded(async () => {
        if (!container) throw new SkiffError('FAILED_PRECONDITION', 'the worker has no container: create it first');
        const run = req.run;
        const out = (fd: 1 | 2) => new PostingStream((data) => post({ t: 'out', run, fd, data }));
        const stdio: Stdio = { stdout: out(1), stderr: out(2) };
        if (req.stdin.kind === 'shared') stdio.stdin = carryInputFd(new ReadableStream<Uint8Array>(), new SharedInputFd(req.stdin.buffer));
        else if (req.stdin.kind === 'bytes') {
          const data = req.stdin.data;
          stdio.stdin = new ReadableStream<Uint8Array>({ start: (c) => { c.enqueue(data); c.close(); } });
        }
        const c = container;
        await c.start(stdio);
        running = true;
        void c.wait().then(
          (status) => {
            running = false;
            post({ t: 'exit', run, status });
          },
          (err) => {
            running = false;
            post({ t: 'exit', run, status: { exitCode: 134, error: `the run failed in its worker: ${(err as Error).message}` } });
          },
        );
      }),

    exportChanges: () =>
      guarded(async () => {
        if (!container) throw new SkiffError('FAILED_PRECONDITION', 'the worker has no container');
        const parts: Uint8Array[] = [];
        const reader = container.exportChanges().getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parts.push(value);
        }
        const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          out.set(p, o);
          o += p.length;
        }
        return Comlink.transfer(out, [out.buffer]);
      }),

    importFiles: (dir: string, tar: Uint8Array, o: { noOverwriteDirNonDir?: boolean }) =>
      guarded(async () => {
        if (!container) throw new SkiffError('FAILED_PRECONDITION', 'the worker has no container');
        if (typeof container.importFiles !== 'function') throw new SkiffError('UNSUPPORTED', 'this container cannot take files');
        await container.importFiles(dir, new ReadableStream<Uint8Array>({ start: (c) => { if (tar.length) c.enqueue(tar); c.close(); } }), o);
      }),

    stats: (): Promise<ProcessStats> =>
      guarded(async () => {
        if (!container) return {};
        return container.stats();
      }),

    updateResources: (resources: Resources) =>
      guarded(async () => {
        if (!container) throw new SkiffError('FAILED_PRECONDITION', 'the worker has no container');
        await container.updateResources(resources);
      }),

    remove: () =>
      guarded(async () => {
        await container?.remove();
        container = undefined;
      }),
  };
}

/** Serves one container on `endpoint` (a worker's own scope, or Node's parentPort through an adapter). */
export function serveContainerWorker(endpoint: Comlink.Endpoint, options: ContainerWorkerOptions = {}): void {
  Comlink.expose(containerWorkerApi(options), endpoint);
}
