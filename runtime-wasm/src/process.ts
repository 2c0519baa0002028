/**
 * One WASI process: find its program in the container's file system, get the
 * compiled module (from the cache when the file came from an image layer),
 * and run it in-process with its own descriptors, clock and random source.
 *
 * In-process a guest runs synchronously on the caller's thread: stdin must be
 * complete before it starts (the caller reads it to EOF), a sleep blocks the
 * thread, and a time limit is only enforced at the guest's next syscall.
 */
import { invalidArgument, notFound, permissionDenied, resourceExhausted } from '@skiff/sdk';
import { ModuleCache, type ModuleKey } from './module-cache.js';
import { absolutePath, findProgram, lookupFile, readFile, shebang, type FoundFile, type Lookup } from './program.js';
import { importMemory, isWasm, limitMemory, MemoryLimitError, PAGE_BYTES } from './wasm-binary.js';
import { leaseMemory } from './wasi/memory-pool.js';
import { Rights } from './wasi/defs.js';
import { DeterministicClock, RealClock, type GuestClock } from './wasi/clock.js';
import { SYSCALLS, WasiHost, type Preopen } from './wasi/host.js';
import { SeededRandom, cryptoRandom } from './wasi/random.js';
import { checkCommand, RunRefused, runCommand, runInstance, WASI_MODULE, type RunOutcome } from './wasi/run.js';
import { DEFAULT_FLUSH_BYTES, InputFd, OutputFd } from './wasi/stdio.js';

const PROVIDED = new Set<string>(SYSCALLS);
const MAX_INTERPRETERS = 4;

export interface Deterministic {
  seed?: number;
  /** Start of the realtime clock, ns since the epoch (default 2000-01-01). */
  timeNs?: bigint;
}

export interface ProgramRequest {
  preopens: Preopen[];
  /** argv; args[0] is a path in the container or a name found on PATH. */
  args: string[];
  env: string[];
  cwd: string;
  modules: ModuleCache;
  /** Caps the guest's linear memory. */
  memoryLimitBytes?: number;
  /** How a file's module is cached: by default the file's inode object. */
  keyOf?: (file: FoundFile) => ModuleKey | undefined;
}

export interface Program {
  module: WebAssembly.Module;
  /** The argv the guest sees (an interpreter first for a `#!` script). */
  argv: string[];
  /** Absolute path of the wasm file that runs. */
  path: string;
}

/** Finds and compiles (or takes from the cache) what `args` names. Errors are SkiffErrors a backend's start can throw. */
export async function prepareProgram(req: ProgramRequest): Promise<Program> {
  const l = locateProgram(req);
  let module: WebAssembly.Module;
  try {
    module = await req.modules.get(l.key, l.limitPages, l.bytes);
  } catch (err) {
    throw compileError(l.found, err);
  }
  return checked(l, module);
}

/** Compiles a module without waiting: from a cache, or synchronously (worker threads allow it for any size). */
export type CompileNow = (key: ModuleKey, limitPages: number, bytes: () => Uint8Array) => WebAssembly.Module;

/** prepareProgram without waiting, for a process that must start inside a host call (worker mode's exec). */
export function prepareProgramNow(req: Omit<ProgramRequest, 'modules'>, compile: CompileNow): Program {
  const l = locateProgram(req);
  let module: WebAssembly.Module;
  try {
    module = compile(l.key, l.limitPages, l.bytes);
  } catch (err) {
    throw compileError(l.found, err);
  }
  return checked(l, module);
}

interface Located {
  found: FoundFile;
  argv: string[];
  limitPages: number;
  key: ModuleKey;
  bytes: () => Uint8Array;
}

function locateProgram(req: Omit<ProgramRequest, 'modules'>): Located {
  if (!req.args.length || !req.args[0]) throw invalidArgument('no command to run: the image has no entrypoint or cmd, and none was given');
  let argv = [...req.args];
  let found = expect(findProgram(req.preopens, argv[0]!, req.env, req.cwd), argv[0]!);
  for (let depth = 0; ; depth++) {
    const head = peek(found);
    if (isWasm(head)) break;
    const interp = shebang(head);
    if (!interp || depth >= MAX_INTERPRETERS) {
      throw permissionDenied(`exec ${found.path}: exec format error (neither a WebAssembly module nor a #! script)`);
    }
    argv = [...interp, found.path, ...argv.slice(1)];
    found = expect(lookupFile(req.preopens, absolutePath('/', interp[0]!)), interp[0]!);
  }
  const limitPages = req.memoryLimitBytes ? Math.max(1, Math.floor(req.memoryLimitBytes / PAGE_BYTES)) : 0;
  const key = req.keyOf?.(found) ?? found.inode;
  const bytes = () => {
    const b = readFile(found);
    // The memory becomes an import, so each container's instance can get a pooled one (wasi/memory-pool.ts).
    return importMemory(limitPages ? limitMemory(b, limitPages) : b);
  };
  return { found, argv, limitPages, key, bytes };
}

function compileError(found: FoundFile, err: unknown): Error {
  if (err instanceof MemoryLimitError) return resourceExhausted(`${found.path}: ${err.message}`, err);
  return invalidArgument(`${found.path} is not a valid WebAssembly module: ${(err as Error).message}`, err);
}

/** Modules already found runnable (reading a module's imports and exports costs more than a small guest's run). */
const runnable = new WeakSet<WebAssembly.Module>();

function checked(l: Located, module: WebAssembly.Module): Program {
  if (runnable.has(module)) return { module, argv: l.argv, path: l.found.path };
  try {
    checkCommand(module, PROVIDED);
    runnable.add(module);
  } catch (err) {
    if (err instanceof RunRefused) throw invalidArgument(`cannot run ${l.found.path}: ${err.message}`, err);
    throw err;
  }
  return { module, argv: l.argv, path: l.found.path };
}

function expect(r: Lookup, what: string): FoundFile {
  if (r.ok) return r.file;
  if (r.reason === 'not-found') throw notFound(`${r.message}`);
  throw permissionDenied(`exec ${what}: ${r.message.split(': ').pop()}`);
}

function peek(file: FoundFile): Uint8Array {
  const { fd_obj: fd } = file.dir.path_open(0, file.name, 0, Rights.FD_READ | Rights.FD_SEEK, 0n, 0);
  if (!fd) return new Uint8Array(0);
  try {
    const { ret, data } = fd.fd_pread(256, 0n);
    return ret === 0 ? data : fd.fd_read(256).data;
  } finally {
    fd.fd_close();
  }
}

export interface ProcessIO {
  /** Bytes known up front, or an Fd of the caller's (worker mode: a read that blocks on shared memory). */
  stdin?: Uint8Array | InputFd;
  stdout: (chunk: Uint8Array) => void;
  stderr: (chunk: Uint8Array) => void;
}

export interface ProcessOptions {
  preopens: Preopen[];
  env: string[];
  cwd: string;
  deterministic?: Deterministic;
  /** Wall-clock limit; checked at syscalls in-process. */
  timeoutMs?: number;
  flushBytes?: number;
  /** Count every syscall (tests); see WasiProcess.host.counts. */
  countCalls?: boolean;
}

export interface ProcessResult extends RunOutcome {
  /** Linear memory at exit. */
  memoryBytes: number;
}

/** A guest process: construct, then `run()` once. */
export class WasiProcess {
  readonly host: WasiHost;
  readonly stdout: OutputFd;
  readonly stderr: OutputFd;
  readonly clock: GuestClock;

  constructor(readonly program: Program, io: ProcessIO, readonly options: ProcessOptions) {
    this.stdout = new OutputFd(io.stdout, options.flushBytes ?? DEFAULT_FLUSH_BYTES);
    this.stderr = new OutputFd(io.stderr, options.flushBytes ?? DEFAULT_FLUSH_BYTES);
    const det = options.deterministic;
    this.clock = det ? new DeterministicClock(det.timeNs) : new RealClock();
    const env = withPwd(options.env, options.cwd);
    this.host = new WasiHost({
      args: program.argv,
      env,
      preopens: options.preopens,
      stdin: io.stdin instanceof InputFd ? io.stdin : new InputFd(io.stdin),
      stdout: this.stdout,
      stderr: this.stderr,
      clock: this.clock,
      random: det ? new SeededRandom(det.seed ?? 0) : cryptoRandom,
      ...(options.timeoutMs !== undefined ? { deadline: performance.now() + options.timeoutMs } : {}),
    });
  }

  get memoryBytes(): number {
    return this.host.memory.byteLength;
  }

  async run(): Promise<ProcessResult> {
    try {
      const outcome = await runCommand(this.program.module, this.host, { countCalls: this.options.countCalls ?? false });
      return { ...outcome, memoryBytes: this.host.memory.byteLength };
    } catch (err) {
      if (err instanceof RunRefused) throw invalidArgument(`cannot run ${this.program.path}: ${err.message}`, err);
      throw err;
    }
  }

  /**
   * Runs to the end without waiting: instantiates synchronously (worker
   * threads allow it for any module size), so it can run inside another
   * guest's host call. `guard` runs before each of this guest's host calls
   * and may throw GuestKilled to end it (a kill flag in shared memory);
   * `started` is told once the guest is about to run.
   */
  runNow(guard?: () => void, started?: () => void): ProcessResult {
    const calls = this.host.imports();
    const lease = leaseMemory(this.program.module);
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(this.program.module, { ...lease?.imports, [WASI_MODULE]: guard ? guarded(calls, guard) : calls });
    } catch (err) {
      lease?.release();
      throw invalidArgument(`cannot run ${this.program.path}: cannot instantiate the module: ${(err as Error).message}`, err);
    }
    started?.();
    return { ...runInstance(instance, this.host, lease), memoryBytes: this.host.memory.byteLength };
  }
}

type HostCall = (...args: unknown[]) => number | void;

/** The host calls with `guard` first; a fixed arity (path_open's nine) avoids a rest array per call. */
function guarded(calls: Record<string, HostCall>, guard: () => void): Record<string, HostCall> {
  const out: Record<string, HostCall> = {};
  for (const [name, f] of Object.entries(calls)) {
    out[name] = (a, b, c, d, e, g, h, i, j) => {
      guard();
      return f(a, b, c, d, e, g, h, i, j);
    };
  }
  return out;
}

/**
 * WASI has no working directory; wasi-libc starts in `/`. The working
 * directory is passed as PWD (when not `/` and not already set), which the
 * programs that honour it (skiff's sample toolbox) chdir to at start.
 */
export function withPwd(env: string[], cwd: string): string[] {
  if (!cwd || cwd === '/' || env.some((e) => e.startsWith('PWD='))) return env;
  return [...env, `PWD=${cwd}`];
}
