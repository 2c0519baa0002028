/**
 * The WASI Backend: wasip1 programs from layered OCI images, run in-process.
 *
 * An image's entrypoint/cmd names a .wasm file inside the image (found on PATH
 * like a shell would). The container's file system is the image's layers,
 * indexed once per diffID and shared, under a writable layer of its own.
 *
 * In-process limits (worker mode lifts them):
 * - a running guest holds the thread: `kill` ends a process that has not begun
 *   executing yet, or is a no-op once it has exited; a time limit is checked
 *   at the guest's syscalls, so a loop without syscalls runs to its end;
 * - stdin is read to EOF before the guest starts;
 * - signals other than SIGKILL, terminals, users, hostnames, CPU and process
 *   limits and networking do not exist: asking for them is UNSUPPORTED.
 * A memory limit caps the guest's linear memory (memory.grow fails past it).
 */
import {
  collect, conflict, failedPrecondition, invalidArgument, SkiffError, unsupported, WASI_PLATFORM,
  type Backend, type BackendCapabilities, type BackendContainer, type BackendContext, type BackendProcess,
  type ContainerSpec, type ExitStatus, type ProcessSpec, type ProcessStats, type Provider, type Resources, type Stdio,
} from '@skiff/sdk';
import type { CopyInOptions } from '@skiff/sdk';
import { guestPreopens, type ContainerFs } from './container-fs.js';
import { prepareProgram, prepareProgramNow, WasiProcess, type CompileNow, type Deterministic, type ProcessIO, type ProcessResult } from './process.js';
import { WasmRuntime, type WasmRuntimeOptions } from './runtime.js';
import { KILL_EXIT_CODE, TRAP_EXIT_CODE } from './wasi/run.js';
import { DETERMINISTIC_EPOCH_NS } from './wasi/clock.js';
import { carriedInputFd, streamSink, type InputFd } from './wasi/stdio.js';
import { PAGE_BYTES } from './wasm-binary.js';
import { runningMemoryChange } from './resources.js';

export interface WasmBackendOptions extends Partial<WasmRuntimeOptions> {
  /** Share caches with WasmSandbox or another backend. */
  runtime?: WasmRuntime;
}

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly platforms = [WASI_PLATFORM];
  readonly capabilities: BackendCapabilities;
  readonly runtime: WasmRuntime;
  private content: Provider | undefined;

  constructor(options: WasmBackendOptions) {
    if (options.runtime) this.runtime = options.runtime;
    else if (options.fs) this.runtime = new WasmRuntime({ ...options, fs: options.fs });
    else throw invalidArgument('WasmBackend needs a file system provider (options.fs) or a runtime');
    this.capabilities = {
      signals: false,
      exec: true,
      tty: false,
      bindMounts: this.runtime.hostFs !== undefined,
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
    this.content = ctx.content;
  }

  async create(spec: ContainerSpec): Promise<WasmContainer> {
    if (!this.content) throw failedPrecondition('the wasm backend was not initialised: call init() first');
    this.check(spec);
    const layers = await this.runtime.layerIndexes(this.content, spec.image.layers);
    // A deterministic container's files get a fixed time, like its clock's start.
    const det = spec.deterministic;
    const now = det ? () => det.timeNs ?? DETERMINISTIC_EPOCH_NS : undefined;
    const fs = this.runtime.createFs(layers, spec.mounts, spec.readOnlyRootfs ?? false, now);
    return new WasmContainer(spec, fs, this.runtime);
  }

  async restore(): Promise<BackendContainer | undefined> {
    // A container's writable layer lives in memory; nothing survives the process.
    return undefined;
  }

  /** Refuses what this backend cannot do rather than ignoring it. */
  private check(spec: ContainerSpec): void {
    const no = (what: string) => unsupported(`the wasm backend does not support ${what}`);
    const r = spec.resources ?? {};
    if (r.cpus !== undefined) throw no('CPU limits (--cpus)');
    if (r.pidsLimit !== undefined) throw no('process limits (--pids-limit)');
    if (r.memorySwapBytes !== undefined || r.memoryReservationBytes !== undefined) throw no('swap limits or memory reservations (--memory-swap, --memory-reservation)');
    if (r.cpuShares !== undefined || r.cpuQuotaUs !== undefined || r.cpuPeriodUs !== undefined || r.cpusetCpus !== undefined) throw no('CPU shares, quotas or sets (--cpu-shares, --cpu-quota, --cpu-period, --cpuset-cpus)');
    if (spec.process.tty) throw no('a terminal (-t)');
    if (spec.hostname !== undefined) throw no('setting the hostname');
    if (spec.network === 'host') throw no('--network host');
    if (spec.privileged) throw no('--privileged');
    if (spec.capAdd?.length) throw no('adding capabilities (--cap-add)');
    // A guest makes no system calls and runs no setuid programs: a profile or no_new_privs holds already; loosening is refused, as --privileged is.
    if (spec.seccomp === 'unconfined' || spec.unmaskSystemPaths) throw no('--security-opt seccomp=unconfined or systempaths=unconfined');
    if (!isRoot(spec.process.user)) throw no('running as another user (--user)');
    if (spec.hostNamespaces?.length) throw no(`sharing the host's namespaces (--${spec.hostNamespaces.join(', --')} host)`);
    if (spec.ulimits?.length) throw no('process rlimits (--ulimit)');
    if (spec.shmSizeBytes !== undefined) throw no('a /dev/shm size (--shm-size)');
    if (spec.groupAdd?.length) throw no('supplementary groups (--group-add)');
    if (spec.dns) throw no('DNS settings (--dns, --dns-search, --dns-option)');
    if (spec.oomScoreAdj !== undefined) throw no('an OOM score adjustment (--oom-score-adj)');
    if (spec.domainname !== undefined) throw no('setting the domain name (--domainname)');
    if (spec.sysctls) throw no('kernel parameters (--sysctl)');
    for (const m of spec.mounts) {
      if (m.type === 'bind' && !this.runtime.hostFs) throw no(`bind mounts here (no host file system; mount ${m.target})`);
      if (m.type === 'volume' && !m.volume.fs && !(m.volume.hostPath && this.runtime.hostFs)) {
        throw invalidArgument(`volume ${m.volume.name} has no storage this backend can reach (neither an in-memory fs nor a host path with node:fs)`);
      }
    }
  }
}

function isRoot(user: string | undefined): boolean {
  return !user || user === 'root' || user === '0' || user === '0:0' || user === 'root:root';
}

interface Run {
  /** Set by kill before the guest executes; the run then ends as SIGKILL. */
  killed: boolean;
  /** Stops a stdin read still in progress. */
  abort: AbortController;
  process?: WasiProcess;
  done: Promise<ExitStatus>;
}

export class WasmContainer implements BackendContainer {
  readonly id: string;
  private state: 'created' | 'running' | 'exited' | 'removed' = 'created';
  private main: Run | undefined;
  private readonly runs = new Set<Run>();
  private lastMemory = 0;
  private nextExit: Array<(s: ExitStatus) => void> = [];
  private lastStatus: ExitStatus | undefined;

  constructor(private spec: ContainerSpec, private readonly fs: ContainerFs, private readonly runtime: WasmRuntime) {
    this.id = spec.id;
  }

  private get memoryLimit(): number | undefined {
    return this.spec.resources?.memoryBytes;
  }

  /** docker update: the memory cap is the guest's linear-memory maximum, fixed when it starts; it changes for the next start. */
  async updateResources(resources: Resources): Promise<void> {
    if (this.state === 'removed') throw failedPrecondition(`container ${this.id} was removed`);
    if (this.state === 'running' && resources.memoryBytes !== this.memoryLimit) throw runningMemoryChange(this.id);
    this.spec = { ...this.spec, resources };
  }

  async start(stdio: Stdio): Promise<void> {
    if (this.state === 'removed') throw failedPrecondition(`container ${this.id} was removed`);
    if (this.state === 'running') throw conflict(`container ${this.id} is already running`);
    const program = await prepareProgram({
      preopens: guestPreopens(this.fs), args: this.spec.process.args, env: this.spec.process.env, cwd: this.spec.process.cwd,
      modules: this.runtime.modules, ...this.limitAndKey(),
    });
    const run = this.launch(program, this.spec.process, stdio);
    this.main = run;
    this.state = 'running';
    void run.done.then((status) => {
      if (this.main !== run) return;
      this.state = this.state === 'removed' ? 'removed' : 'exited';
      this.lastStatus = status;
      for (const w of this.nextExit.splice(0)) w(status);
    });
  }

  private limitAndKey() {
    return {
      ...(this.memoryLimit ? { memoryLimitBytes: this.memoryLimit } : {}),
      ...(this.fs.moduleKey ? { keyOf: this.fs.moduleKey.bind(this.fs) } : {}),
    };
  }

  /** Runs a prepared program after the current task, so `start` resolves first. */
  private launch(program: Awaited<ReturnType<typeof prepareProgram>>, proc: ProcessSpec, stdio: Stdio): Run {
    const run: Run = { killed: false, abort: new AbortController(), done: Promise.resolve({ exitCode: 0 }) };
    run.done = (async (): Promise<ExitStatus> => {
      const started = performance.now();
      const limit = this.spec.timeoutMs;
      // The time limit also covers waiting for stdin.
      let timedOut = false;
      const timer = limit !== undefined ? setTimeout(() => ((timedOut = true), run.abort.abort()), limit) : undefined;
      await new Promise((r) => setTimeout(r, 0));
      // A stream that carries an Fd (worker mode's shared stdin) is read by the guest itself.
      let stdin: Uint8Array | InputFd | undefined = stdio.stdin && carriedInputFd(stdio.stdin);
      if (stdio.stdin && !stdin && !run.killed) stdin = await collect(stdio.stdin, run.abort.signal).catch(() => new Uint8Array(0));
      clearTimeout(timer);
      if (timedOut) return { ...killedStatus(), error: 'the run passed its time limit' };
      if (run.killed) return killedStatus();
      // A reader that goes away makes the guest's next writes fail with EPIPE.
      const out = streamSink(stdio.stdout, () => (p.stdout.broken = true));
      const err = streamSink(stdio.stderr, () => (p.stderr.broken = true));
      const p: WasiProcess = new WasiProcess(program, { ...(stdin ? { stdin } : {}), stdout: out.sink, stderr: err.sink }, {
        preopens: guestPreopens(this.fs), env: proc.env, cwd: proc.cwd,
        ...(this.spec.deterministic ? { deterministic: this.spec.deterministic as Deterministic } : {}),
        ...(limit !== undefined ? { timeoutMs: Math.max(0, limit - (performance.now() - started)) } : {}),
        ...(this.runtime.flushBytes !== undefined ? { flushBytes: this.runtime.flushBytes } : {}),
      });
      run.process = p;
      this.runs.add(run);
      let result: ProcessResult;
      try {
        result = await p.run();
      } catch (e) {
        result = { exitCode: TRAP_EXIT_CODE, error: (e as Error).message, memoryBytes: p.memoryBytes };
      } finally {
        this.runs.delete(run);
      }
      this.lastMemory = result.memoryBytes;
      await Promise.all([out.drain(), err.drain()]);
      return this.statusOf(result);
    })();
    return run;
  }

  private statusOf(r: ProcessResult): ExitStatus {
    const status: ExitStatus = { exitCode: r.exitCode };
    if (r.signal) status.signal = r.signal;
    if (r.error) status.error = r.error;
    // A guest that traps with its memory at the limit ran out of memory.
    const limit = this.memoryLimit;
    if (limit && r.exitCode === TRAP_EXIT_CODE && r.memoryBytes + PAGE_BYTES > Math.floor(limit / PAGE_BYTES) * PAGE_BYTES) status.oomKilled = true;
    return status;
  }

  wait(): Promise<ExitStatus> {
    if (this.state === 'running' && this.main) return this.main.done;
    if (this.lastStatus && this.state !== 'created') return Promise.resolve(this.lastStatus);
    return new Promise((res) => this.nextExit.push(res));
  }

  async kill(signal = 'SIGKILL'): Promise<void> {
    if (!isKill(signal)) throw unsupported(`the wasm backend cannot deliver ${signal}; only SIGKILL`);
    const run = this.main;
    if (this.state !== 'running' || !run) return;
    killRun(run);
  }

  async exec(proc: ProcessSpec, stdio: Stdio): Promise<BackendProcess> {
    this.checkExec(proc);
    const program = await prepareProgram({
      preopens: guestPreopens(this.fs), args: proc.args, env: proc.env, cwd: proc.cwd, modules: this.runtime.modules, ...this.limitAndKey(),
    });
    const run = this.launch(program, proc, stdio);
    return {
      wait: () => run.done,
      kill: async (signal = 'SIGKILL') => {
        if (!isKill(signal)) throw unsupported(`the wasm backend cannot deliver ${signal}; only SIGKILL`);
        killRun(run);
      },
    };
  }

  private checkExec(proc: ProcessSpec): void {
    if (this.state === 'removed') throw failedPrecondition(`container ${this.id} was removed`);
    if (proc.tty) throw unsupported('the wasm backend does not support a terminal (-t)');
    if (!isRoot(proc.user)) throw unsupported('the wasm backend does not support running as another user (--user)');
  }

  /**
   * Runs `proc` in this container to its end, on this thread, without
   * waiting: worker mode's exec, served while the main guest is blocked in a
   * host call and nested inside it. The same file system, limits and exit
   * statuses as exec. Errors before the start (a missing program) are thrown;
   * `started` is told when the guest is about to run; `guard` runs before
   * each of its host calls and may throw GuestKilled (a kill).
   */
  execNow(proc: ProcessSpec, io: ProcessIO, compile: CompileNow, hooks: { guard?: () => void; started?: () => void } = {}): ExitStatus {
    this.checkExec(proc);
    const program = prepareProgramNow({ preopens: guestPreopens(this.fs), args: proc.args, env: proc.env, cwd: proc.cwd, ...this.limitAndKey() }, compile);
    const limit = this.spec.timeoutMs;
    const p = new WasiProcess(program, io, {
      preopens: guestPreopens(this.fs), env: proc.env, cwd: proc.cwd,
      ...(this.spec.deterministic ? { deterministic: this.spec.deterministic as Deterministic } : {}),
      ...(limit !== undefined ? { timeoutMs: limit } : {}),
      ...(this.runtime.flushBytes !== undefined ? { flushBytes: this.runtime.flushBytes } : {}),
    });
    let result: ProcessResult;
    try {
      result = p.runNow(hooks.guard, hooks.started);
    } catch (e) {
      if (e instanceof SkiffError) throw e;
      result = { exitCode: TRAP_EXIT_CODE, error: (e as Error).message, memoryBytes: p.memoryBytes };
    }
    return this.statusOf(result);
  }

  exportChanges(): ReadableStream<Uint8Array> {
    return this.fs.exportChanges();
  }

  /**
   * docker cp into the container, in any state: its file system lives here
   * from create to remove. A running guest sees the files at once (it runs
   * on this thread, so the copy happens between its host calls). There are
   * no users, so -a (copyUIDGID) keeps the tar's owners, as docker does for a
   * container without one.
   */
  async importFiles(dir: string, tar: ReadableStream<Uint8Array>, options: CopyInOptions = {}): Promise<void> {
    if (this.state === 'removed') throw failedPrecondition(`container ${this.id} was removed`);
    if (!this.fs.importFiles) throw unsupported('this container file system cannot take files (docker cp into the container)');
    await this.fs.importFiles(dir, tar, { noOverwriteDirNonDir: options.noOverwriteDirNonDir ?? false, container: this.id.slice(0, 12) });
  }

  /** exportChanges as one buffer, without waiting (worker mode, inside a blocked guest). */
  exportChangesNow(): Uint8Array {
    if (!this.fs.exportChangesNow) throw unsupported('this container file system cannot list its changes synchronously');
    return this.fs.exportChangesNow();
  }

  /** importFiles from a tar in memory, without waiting (worker mode, inside a blocked guest). */
  importFilesNow(dir: string, tar: Uint8Array, options: CopyInOptions = {}): void {
    if (this.state === 'removed') throw failedPrecondition(`container ${this.id} was removed`);
    if (!this.fs.importFilesNow) throw unsupported('this container file system cannot take files synchronously (docker cp into a running container in worker mode)');
    this.fs.importFilesNow(dir, tar, { noOverwriteDirNonDir: options.noOverwriteDirNonDir ?? false, container: this.id.slice(0, 12) });
  }

  async stats(): Promise<ProcessStats> {
    const live = this.main?.process;
    const stats: ProcessStats = { memoryBytes: live ? live.memoryBytes || this.lastMemory : this.lastMemory, pids: this.runs.size };
    if (this.memoryLimit) stats.memoryLimitBytes = Math.floor(this.memoryLimit / PAGE_BYTES) * PAGE_BYTES;
    return stats;
  }

  async remove(): Promise<void> {
    if (this.state === 'removed') return;
    if (this.state === 'running') throw conflict(`container ${this.id} is running: kill it before removing it`);
    this.state = 'removed';
    this.fs.dispose?.();
  }
}

function killRun(run: Run): void {
  run.killed = true;
  run.abort.abort();
  run.process?.host.kill('killed (SIGKILL)');
}

function isKill(signal: string): boolean {
  const s = String(signal).toUpperCase();
  return s === 'SIGKILL' || s === 'KILL' || s === '9';
}

function killedStatus(): ExitStatus {
  return { exitCode: KILL_EXIT_CODE, signal: 'SIGKILL' };
}
