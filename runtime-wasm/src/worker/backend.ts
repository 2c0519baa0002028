/**
 * WorkerWasmBackend: the WASI backend with each container in a worker of its
 * own (worker_threads in Node, a Web Worker in browsers), driven through
 * comlink. Inside the worker the in-process WasmBackend runs the container,
 * so images, file systems, exit codes and limits are the same; what the
 * worker adds is isolation from the host's thread:
 *
 * - `kill` ends a guest at once, even one that never makes a syscall: the
 *   worker is terminated. The container's writable layer lived in that
 *   worker and goes with it; the next start begins again from the image
 *   (volumes keep their data).
 * - A time limit (`timeoutMs`) ends the run at the guest's first syscall past
 *   it, and by terminating the worker shortly after if the guest makes none.
 * - A memory limit caps the guest's linear memory (allocations past it fail
 *   inside the guest) and, in Node, the worker's own heap (resourceLimits).
 * - A trap, a crash of the worker or its running out of memory ends the run
 *   with an exit status; the host carries on.
 * - stdin streams while the guest runs where threads can share memory (Node;
 *   browsers when cross-origin isolated): the guest blocks on a shared ring
 *   buffer. Elsewhere stdin is read to EOF before the start, as in-process.
 * - stdout and stderr stream out chunk by chunk (batched as in-process: at
 *   64 KiB, before the guest blocks, at exit).
 *
 * - `exec` runs the program inside the worker, over the container's own file
 *   system, while the main process is blocked (a sleep, a read of stdin):
 *   nested in that host call, to its end, after which the main process
 *   resumes its wait (exec.ts): the main process is paused while an exec
 *   runs (one thread, a stack of guests). A main process that computes without
 *   blocking holds the exec until it next blocks; after `execWaitMs` the
 *   exec fails with DEADLINE_EXCEEDED. Killing an exec ends it at its next
 *   host call (at once when blocked), not the container. Node only: it
 *   needs a synchronous receive in the worker; in browsers exec is
 *   UNSUPPORTED (capabilities.exec is false).
 * - docker cp into and out of a running container (importFiles,
 *   exportChanges) goes the same way: served inside the main process's
 *   blocked call, with the same wait and DEADLINE_EXCEEDED; a copy in that
 *   was given up never happens. In browsers it is CONFLICT while the
 *   container runs.
 */
import * as Comlink from 'comlink';
import {
  collect, conflict, deadlineExceeded, failedPrecondition, SkiffError, unavailable, unsupported, WASI_PLATFORM,
  type Backend, type BackendCapabilities, type BackendContainer, type BackendContext, type BackendProcess,
  type ContainerSpec, type ErrorCode, type ExitStatus, type FsLike, type ProcessSpec, type ProcessStats, type Provider, type Resources, type Stdio,
} from '@skiff/sdk';
import { runningMemoryChange } from '../resources.js';
import type { CopyInOptions } from '@skiff/sdk';
import { PAGE_BYTES } from '../wasm-binary.js';
import { CONTROL_BYTES, KILLED as EXEC_KILLED, type ExecRequest } from './exec.js';
import type { BlobSource, ContainerWorkerApi, ModuleShare, StdinSource, WorkerEvent, WorkerMount, WorkerSpec } from './protocol.js';
import type { ImportRequest } from './files.js';
import { createBell, createClaim, giveUpClaim, RequestSender, ring } from './requests.js';
import { canShareMemory, createStdinBuffer, pumpStdin, StdinWriter } from './stdin-channel.js';
import { applyChange, snapshotOf } from './volume-bridge.js';

/** How a worker died on its own. */
export interface WorkerDeath {
  reason: string;
  outOfMemory: boolean;
}

/** A started worker running the container worker entry (serve.ts). */
export interface WorkerHandle {
  endpoint: Comlink.Endpoint;
  terminate(): void;
  /** Registers the listener for a death the host did not ask for (crash, out of memory). */
  onDeath(listener: (death: WorkerDeath) => void): void;
  /** Node: lets the process exit while this worker idles (ref: keeps it alive while a guest runs). */
  ref?(): void;
  unref?(): void;
}

export interface WorkerLimits {
  /** The container's memory limit, if any. */
  memoryBytes?: number;
}

export interface WorkerSpawner {
  (limits: WorkerLimits): WorkerHandle;
  /** The worker has node:fs: bind mounts and on-disk volumes work. */
  readonly hostFs?: boolean;
  /** The worker can take a message while its thread is blocked (Node's receiveMessageOnPort): exec works. */
  readonly receivesWhileBlocked?: boolean;
}

export interface WorkerWasmBackendOptions {
  spawn: WorkerSpawner;
  /** After a time limit passes, how long a guest that makes no syscall gets before its worker is terminated (ms). */
  timeoutGraceMs?: number;
  /** Compiled modules kept for all workers (by layer and path): at most this many. */
  maxModules?: number;
  /** How long an exec waits for the main process to block so it can run (ms; default 10 s). */
  execWaitMs?: number;
}

const KILLED: ExitStatus = { exitCode: 137, signal: 'SIGKILL', error: 'killed (SIGKILL)' };
const TIME_LIMIT = 'the run passed its time limit';
/** A request's wait ran out (whileRunning). */
const LATE: unique symbol = Symbol('late');

/** A comlink call that fails the way the worker said, with its code. */
function rethrow(err: unknown): never {
  const e = err as { skiffError?: boolean; code?: string; message?: string } | undefined;
  if (e?.skiffError) throw new SkiffError(e.code as ErrorCode, e.message ?? 'the worker failed');
  throw err;
}

/** Compiled modules by key, shared with every worker (WebAssembly.Module crosses threads without compiling again). */
class HostModuleShare implements ModuleShare {
  private readonly modules = new Map<string, WebAssembly.Module>();
  constructor(private readonly max: number) {}

  async get(key: string, limitPages: number): Promise<WebAssembly.Module | undefined> {
    return this.modules.get(`${limitPages}:${key}`);
  }

  async put(key: string, limitPages: number, module: WebAssembly.Module): Promise<void> {
    const k = `${limitPages}:${key}`;
    if (!this.modules.has(k) && this.modules.size >= this.max) this.modules.delete(this.modules.keys().next().value!);
    this.modules.set(k, module);
  }
}

export class WorkerWasmBackend implements Backend {
  readonly name = 'wasm';
  readonly platforms = [WASI_PLATFORM];
  readonly capabilities: BackendCapabilities;
  readonly spawn: WorkerSpawner;
  readonly timeoutGraceMs: number;
  readonly execWaitMs: number;
  readonly modules: ModuleShare;
  private content: Provider | undefined;
  private blobs: BlobSource | undefined;

  constructor(options: WorkerWasmBackendOptions) {
    this.spawn = options.spawn;
    this.timeoutGraceMs = options.timeoutGraceMs ?? 50;
    this.execWaitMs = options.execWaitMs ?? 10_000;
    this.modules = new HostModuleShare(options.maxModules ?? 256);
    this.capabilities = {
      signals: false,
      exec: options.spawn.receivesWhileBlocked === true && canShareMemory(),
      tty: false,
      bindMounts: options.spawn.hostFs === true,
      memoryLimit: true,
      cpuLimit: false,
      pidsLimit: false,
      users: false,
      hostname: false,
      network: false,
      publishPorts: false,
    };
  }

  async init(ctx: BackendContext): Promise<void> {
    const content = ctx.content;
    this.content = content;
    // A copy crosses to the worker: never transfer, the store may hand out its own buffer.
    this.blobs = { readBytes: (digest) => content.readBytes(digest) };
  }

  async create(spec: ContainerSpec): Promise<BackendContainer> {
    if (!this.content || !this.blobs) throw failedPrecondition('the wasm worker backend was not initialised: call init() first');
    for (const m of spec.mounts) {
      if (m.type === 'bind' && !this.spawn.hostFs) throw unsupported(`the wasm backend does not support bind mounts here (no host file system; mount ${m.target})`);
    }
    const c = new WorkerContainer(spec, this, this.blobs);
    await c.prepare();
    return c;
  }

  async restore(): Promise<BackendContainer | undefined> {
    return undefined;
  }
}

interface LiveWorker {
  handle: WorkerHandle;
  api: Comlink.Remote<ContainerWorkerApi>;
  events: MessagePort;
  /** Requests served while a guest runs; absent where threads cannot share memory. */
  requests?: RequestSender;
  dead: boolean;
  /** Rejects when the worker dies: every call races it. */
  death: Promise<never>;
}

interface RunState {
  id: number;
  out: WritableStreamDefaultWriter<Uint8Array>;
  err: WritableStreamDefaultWriter<Uint8Array>;
  lastOut: Promise<void>;
  lastErr: Promise<void>;
  stdin?: StdinWriter;
  timer?: ReturnType<typeof setTimeout>;
  finished: boolean;
  done: Promise<ExitStatus>;
  resolve: (s: ExitStatus) => void;
}

interface ExecState extends RunState {
  /** [KILLED], shared with the worker. */
  control: Int32Array;
}

class WorkerContainer implements BackendContainer {
  readonly id: string;
  private state: 'created' | 'running' | 'exited' | 'removed' = 'created';
  private worker: LiveWorker | undefined;
  private runs = 0;
  private current: RunState | undefined;
  private readonly execs = new Map<number, ExecState>();
  private lastStatus: ExitStatus | undefined;
  private nextExit: Array<(s: ExitStatus) => void> = [];
  /** Volumes held in the host's memory, by the index the worker reports changes under. */
  private readonly hostVolumes: Array<{ fs: FsLike; root: string }> = [];

  constructor(private spec: ContainerSpec, private readonly backend: WorkerWasmBackend, private readonly blobs: BlobSource) {
    this.id = spec.id;
  }

  private get memoryLimit(): number | undefined {
    return this.spec.resources?.memoryBytes;
  }

  /** Makes the worker and the container in it, so a bad spec fails `create`. */
  async prepare(): Promise<void> {
    await this.ensureWorker();
  }

  private workerSpec(): WorkerSpec {
    this.hostVolumes.length = 0;
    const mounts = this.spec.mounts.map((m): WorkerMount => {
      if (m.type !== 'volume') return m;
      const v = m.volume;
      if (v.fs) {
        const root = v.fsRoot ?? '/';
        const index = this.hostVolumes.push({ fs: v.fs, root }) - 1;
        return { type: 'volume', volume: { name: v.name, snapshot: snapshotOf(v.fs, root), index }, target: m.target, readOnly: m.readOnly };
      }
      return { type: 'volume', volume: { name: v.name, ...(v.hostPath !== undefined ? { hostPath: v.hostPath } : {}) }, target: m.target, readOnly: m.readOnly };
    });
    return { ...this.spec, mounts };
  }

  private async ensureWorker(): Promise<LiveWorker> {
    if (this.worker && !this.worker.dead) return this.worker;
    const handle = this.backend.spawn(this.memoryLimit ? { memoryBytes: this.memoryLimit } : {});
    const channel = new MessageChannel();
    let die!: (err: Error) => void;
    const death = new Promise<never>((_, reject) => (die = reject));
    death.catch(() => {});
    const live: LiveWorker = { handle, api: Comlink.wrap<ContainerWorkerApi>(handle.endpoint), events: channel.port1, dead: false, death };
    let requests: { port: MessagePort; bell: SharedArrayBuffer } | undefined;
    if (canShareMemory()) {
      const rc = new MessageChannel();
      const bell = createBell();
      live.requests = new RequestSender(rc.port1, new Int32Array(bell));
      requests = { port: rc.port2, bell };
    }
    handle.onDeath((d) => {
      if (live.dead) return;
      live.dead = true;
      live.events.close();
      const why = `the container's worker ended: ${d.reason}`;
      die(unavailable(why));
      live.requests?.close(unavailable(why));
      if (this.worker === live) {
        const status: ExitStatus = { exitCode: 137, signal: 'SIGKILL', error: why, ...(d.outOfMemory ? { oomKilled: true } : {}) };
        this.endExecs(status);
        if (this.current && !this.current.finished) void this.finish(this.current, status);
      }
    });
    channel.port1.addEventListener('message', (e: MessageEvent<WorkerEvent>) => this.onEvent(live, e.data));
    channel.port1.start();
    (channel.port1 as unknown as { unref?: () => void }).unref?.();
    this.worker = live;
    try {
      const transfer = [channel.port2, ...(requests ? [requests.port] : [])] as unknown as Transferable[];
      const request = Comlink.transfer({ spec: this.workerSpec(), events: channel.port2, ...(requests ? { requests } : {}) }, transfer);
      await this.call(live, () => live.api.create(request, Comlink.proxy(this.blobs), Comlink.proxy(this.backend.modules)));
    } catch (err) {
      this.endWorker(live);
      throw err;
    }
    handle.unref?.();
    return live;
  }

  /** Calls the worker, failing if it dies meanwhile, with the worker's own error codes. */
  private async call<T>(live: LiveWorker, f: () => Promise<T>): Promise<T> {
    live.handle.ref?.();
    try {
      return await Promise.race([f(), live.death]);
    } catch (err) {
      return rethrow(err);
    } finally {
      if (!this.current || this.current.finished) live.handle.unref?.();
    }
  }

  private endWorker(live: LiveWorker, status: ExitStatus = KILLED): void {
    if (live.dead) return;
    live.dead = true;
    live.events.close();
    live.requests?.close(unavailable('the container\'s worker was ended'));
    live.api[Comlink.releaseProxy]();
    live.handle.terminate();
    if (this.worker === live) {
      this.worker = undefined;
      this.endExecs(status);
    }
  }

  /** The worker is gone, and its execs with it. */
  private endExecs(status: ExitStatus): void {
    for (const e of this.execs.values()) void this.settle(e, status);
  }

  private onEvent(live: LiveWorker, e: WorkerEvent): void {
    if (live !== this.worker) return;
    if (e.t === 'volume') {
      const v = this.hostVolumes[e.index];
      try {
        if (v) applyChange(v.fs, v.root, e.change);
      } catch {
        // The original changed under the copy (another container, say): the copy's change is dropped.
      }
      return;
    }
    if (e.t === 'reply') {
      live.requests?.settle(e);
      return;
    }
    const main = this.current && this.current.id === e.run ? this.current : undefined;
    const run = main ?? this.execs.get(e.run);
    if (!run || run.finished) return;
    if (e.t === 'out') {
      if (e.fd === 1) run.lastOut = run.out.write(e.data).catch(() => {});
      else run.lastErr = run.err.write(e.data).catch(() => {});
    } else if (e.t === 'exit') {
      if (main) void this.finish(main, e.status);
      else void this.settle(run, e.status);
    }
  }

  async start(stdio: Stdio): Promise<void> {
    if (this.state === 'removed') throw failedPrecondition(`container ${this.id} was removed`);
    if (this.state === 'running') throw conflict(`container ${this.id} is already running`);
    const live = await this.ensureWorker();
    let stdin: StdinSource = { kind: 'none' };
    let stdinWriter: StdinWriter | undefined;
    if (stdio.stdin) {
      if (canShareMemory()) {
        const buffer = createStdinBuffer();
        stdinWriter = new StdinWriter(buffer, live.requests?.bell);
        stdin = { kind: 'shared', buffer };
      } else {
        stdin = { kind: 'bytes', data: await collect(stdio.stdin).catch(() => new Uint8Array(0)) };
      }
    }
    let resolve!: (s: ExitStatus) => void;
    const done = new Promise<ExitStatus>((r) => (resolve = r));
    const run: RunState = {
      id: ++this.runs, out: stdio.stdout.getWriter(), err: stdio.stderr.getWriter(), lastOut: Promise.resolve(), lastErr: Promise.resolve(),
      finished: false, done, resolve, ...(stdinWriter ? { stdin: stdinWriter } : {}),
    };
    this.current = run;
    this.state = 'running';
    live.handle.ref?.();
    if (stdinWriter) void pumpStdin(stdio.stdin, stdinWriter);
    const limit = this.spec.timeoutMs;
    if (limit !== undefined) run.timer = setTimeout(() => this.killRun(run, { ...KILLED, error: TIME_LIMIT }), limit + this.backend.timeoutGraceMs);
    try {
      await this.call(live, () => live.api.start({ run: run.id, stdin }));
    } catch (err) {
      if (!run.finished) {
        run.finished = true;
        clearTimeout(run.timer);
        run.stdin?.stop();
        run.out.releaseLock();
        run.err.releaseLock();
        this.current = undefined;
        this.state = this.lastStatus ? 'exited' : 'created';
        live.handle.unref?.();
      }
      throw err;
    }
  }

  private async finish(run: RunState, status: ExitStatus): Promise<void> {
    if (run.finished) return;
    await this.settle(run);
    if (this.state !== 'removed') this.state = 'exited';
    this.lastStatus = status;
    this.worker?.handle.unref?.();
    run.resolve(status);
    for (const w of this.nextExit.splice(0)) w(status);
  }

  /** A run or exec is over: its streams are released once its output is written; an exec resolves here too. */
  private async settle(run: RunState, execStatus?: ExitStatus): Promise<void> {
    if (run.finished) return;
    run.finished = true;
    clearTimeout(run.timer);
    run.stdin?.stop();
    await Promise.all([run.lastOut, run.lastErr]);
    run.out.releaseLock();
    run.err.releaseLock();
    if (execStatus) {
      this.execs.delete(run.id);
      run.resolve(execStatus);
    }
  }

  /** Ends the run now: the worker is terminated (with the container's writable layer). */
  private killRun(run: RunState, status: ExitStatus): void {
    if (run.finished) return;
    if (this.worker) this.endWorker(this.worker);
    void this.finish(run, status);
  }

  wait(): Promise<ExitStatus> {
    if (this.state === 'running' && this.current) return this.current.done;
    if (this.lastStatus && this.state !== 'created') return Promise.resolve(this.lastStatus);
    return new Promise((res) => this.nextExit.push(res));
  }

  async kill(signal = 'SIGKILL'): Promise<void> {
    if (!isKill(signal)) throw unsupported(`the wasm backend cannot deliver ${signal}; only SIGKILL`);
    const run = this.current;
    if (this.state !== 'running' || !run) return;
    this.killRun(run, KILLED);
    await run.done;
  }

  async exec(proc: ProcessSpec, stdio: Stdio): Promise<BackendProcess> {
    if (!this.backend.capabilities.exec) {
      throw unsupported('the wasm backend in worker mode can exec only in Node: the worker must take the request while its main process runs (no synchronous receive in browsers)');
    }
    if (this.state === 'removed') throw failedPrecondition(`container ${this.id} was removed`);
    const live = this.worker;
    if (this.state !== 'running' || !live || live.dead || !live.requests) throw conflict(`container ${this.id} is not running`);
    const requests = live.requests;
    let stdin: StdinSource = { kind: 'none' };
    let stdinWriter: StdinWriter | undefined;
    if (stdio.stdin) {
      const buffer = createStdinBuffer();
      stdinWriter = new StdinWriter(buffer, requests.bell);
      stdin = { kind: 'shared', buffer };
    }
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
    let resolve!: (s: ExitStatus) => void;
    const done = new Promise<ExitStatus>((r) => (resolve = r));
    const exec: ExecState = {
      id: ++this.runs, out: stdio.stdout.getWriter(), err: stdio.stderr.getWriter(), lastOut: Promise.resolve(), lastErr: Promise.resolve(),
      finished: false, done, resolve, control, ...(stdinWriter ? { stdin: stdinWriter } : {}),
    };
    this.execs.set(exec.id, exec);
    const kill = () => {
      Atomics.store(control, EXEC_KILLED, 1);
      ring(requests.bell);
    };
    if (stdinWriter) void pumpStdin(stdio.stdin, stdinWriter);
    const request: ExecRequest = { run: exec.id, proc, stdin, control: control.buffer as SharedArrayBuffer };
    try {
      await this.whileRunning(live, requests, 'exec', request, 'exec');
    } catch (err) {
      // Not started: if the worker takes it later, it sees the kill and never runs it.
      kill();
      void this.settle(exec, { exitCode: 126, error: (err as Error).message });
      throw err;
    }
    return {
      wait: () => exec.done,
      kill: async (signal = 'SIGKILL') => {
        if (!isKill(signal)) throw unsupported(`the wasm backend cannot deliver ${signal}; only SIGKILL`);
        if (!exec.finished) kill();
      },
    };
  }

  /**
   * Sends a request served while the main process runs: the worker takes it
   * when the guest next blocks (a sleep, a read of stdin). A guest that
   * computes without blocking holds it; after `execWaitMs` it fails with
   * DEADLINE_EXCEEDED. With a `claim`, a request the worker has already
   * taken is waited for instead (it runs now; its answer is on the way).
   */
  private async whileRunning<T>(live: LiveWorker, requests: RequestSender, kind: string, body: unknown, what: string, o: { transfer?: Transferable[]; claim?: SharedArrayBuffer } = {}): Promise<T> {
    const answer = requests.send<T>(kind, body, o.transfer);
    answer.catch(() => {}); // it may be left behind below
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<typeof LATE>((r) => (timer = setTimeout(() => r(LATE), this.backend.execWaitMs)));
    try {
      const r = await this.call(live, () => Promise.race([answer, late]));
      if (r !== LATE) return r as T;
      if (o.claim && !giveUpClaim(o.claim)) return await this.call(live, () => answer);
      throw deadlineExceeded(
        `${what} in container ${this.id} gave up after ${this.backend.execWaitMs} ms: in worker mode it runs while the main process waits (sleeps or reads stdin), and the main process has not waited since (it computes)`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The request channel of a running container, for docker cp; undefined
   * when the container is not running (the worker is free: comlink).
   */
  private filesChannel(what: string): { live: LiveWorker; requests: RequestSender } | undefined {
    if (this.state !== 'running') return undefined;
    const live = this.worker;
    if (!this.backend.capabilities.exec || !live || live.dead || !live.requests) {
      throw conflict(`cannot ${what} container ${this.id.slice(0, 12)} while it runs here: the wasm backend in worker mode keeps its files in the worker thread that runs the guest, and only Node's workers can take a request while it runs; wait for it to exit (docker wait), or use in-process mode`);
    }
    return { live, requests: live.requests };
  }

  /**
   * The container's changes: from the worker, served inside the main
   * process's blocked call while it runs (files.ts). No worker (never
   * started, or killed): no changes survive, an empty layer.
   */
  exportChanges(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (c) => {
        const running = this.filesChannel('read the files of');
        const live = this.worker;
        let tar: Uint8Array;
        if (running) tar = await this.whileRunning<Uint8Array>(running.live, running.requests, 'exportChanges', undefined, 'reading the changes');
        else tar = live && !live.dead ? await this.call(live, () => live.api.exportChanges()) : new Uint8Array(1024);
        c.enqueue(tar);
        c.close();
      },
    });
  }

  /**
   * docker cp into the container: the tar crosses to the worker, whose
   * container extracts it into its writable layer (or a mount); while the
   * main process runs, inside its next blocked call (files.ts). A killed
   * container's next worker starts from the image, and takes the files then.
   */
  async importFiles(dir: string, tar: ReadableStream<Uint8Array>, options: CopyInOptions = {}): Promise<void> {
    if (this.state === 'removed') throw failedPrecondition(`container ${this.id} was removed`);
    try {
      this.filesChannel('copy files into');
    } catch (err) {
      await tar.cancel().catch(() => {});
      throw err;
    }
    const bytes = (await collect(tar)).slice(); // ours to transfer
    const noOverwriteDirNonDir = options.noOverwriteDirNonDir ?? false;
    // Asked again: the run may have started or ended while the tar arrived.
    const running = this.filesChannel('copy files into');
    if (running) {
      const claim = createClaim();
      const request: ImportRequest = { dir, tar: bytes, noOverwriteDirNonDir, claim };
      await this.whileRunning(running.live, running.requests, 'importFiles', request, 'the copy', { transfer: [bytes.buffer as ArrayBuffer], claim });
      return;
    }
    const live = await this.ensureWorker();
    await this.call(live, () => live.api.importFiles(dir, Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]), { noOverwriteDirNonDir }));
  }

  async stats(): Promise<ProcessStats> {
    const limit = this.memoryLimit ? { memoryLimitBytes: Math.floor(this.memoryLimit / PAGE_BYTES) * PAGE_BYTES } : {};
    const live = this.worker;
    // A running guest holds the worker's thread: answer from here.
    if (this.state === 'running' || !live || live.dead) return { pids: this.state === 'running' ? 1 + this.execs.size : 0, ...limit };
    return { ...(await this.call(live, () => live.api.stats())), ...limit };
  }

  /**
   * docker update: the guest's memory cap is fixed when it starts, so a
   * running one keeps it; otherwise the worker's container takes the new
   * limits for its next start (the worker's own heap limit stays as it was spawned).
   */
  async updateResources(resources: Resources): Promise<void> {
    if (this.state === 'removed') throw failedPrecondition(`container ${this.id} was removed`);
    if (this.state === 'running') {
      if (resources.memoryBytes !== this.memoryLimit) throw runningMemoryChange(this.id);
      this.spec = { ...this.spec, resources };
      return;
    }
    const live = this.worker;
    if (live && !live.dead) await this.call(live, () => live.api.updateResources(resources));
    this.spec = { ...this.spec, resources };
  }

  async remove(): Promise<void> {
    if (this.state === 'removed') return;
    if (this.state === 'running') throw conflict(`container ${this.id} is running: kill it before removing it`);
    this.state = 'removed';
    if (this.worker) this.endWorker(this.worker);
  }
}

function isKill(signal: string): boolean {
  const s = String(signal).toUpperCase();
  return s === 'SIGKILL' || s === 'KILL' || s === '9';
}
