/**
 * Runs a WASI command module to its end and turns every way it can end into
 * an exit status; nothing the guest does escapes as a host exception.
 *
 * - `_start` returns: exit code 0.
 * - proc_exit(n): n & 0xff, as a Linux process.
 * - a trap (unreachable, out-of-bounds access, stack overflow, a bad pointer
 *   given to WASI): exit code 134, as wasmtime's CLI reports a trap on Unix
 *   (128 + SIGABRT); `error` says which trap.
 * - killed by the runtime (a timeout seen at a syscall): 137 and SIGKILL.
 *
 * A module that cannot be run at all (not a command, unknown imports) is a
 * `RunRefused` thrown before anything runs, so a backend can fail `start`.
 */
import { GuestKilled, ProcExit, runAs, sharedImports, WasiHost } from './host.js';
import { leaseMemory, type MemoryLease } from './memory-pool.js';
import { POOLED_MEMORY_MODULE } from '../wasm-binary.js';

export const TRAP_EXIT_CODE = 134;
export const KILL_EXIT_CODE = 137;

export interface RunOutcome {
  exitCode: number;
  signal?: string;
  /** Why the runtime ended the guest: a trap or a kill. */
  error?: string;
}

/** The module cannot be run as a WASI command; nothing was started. */
export class RunRefused extends Error {
  override readonly name = 'RunRefused';
}

export const WASI_MODULE = 'wasi_snapshot_preview1';

/** Checks that `module` is a WASI command this host can link, before any work is done. */
export function checkCommand(module: WebAssembly.Module, provided: ReadonlySet<string>): void {
  const exports = WebAssembly.Module.exports(module);
  if (!exports.some((e) => e.name === '_start' && e.kind === 'function')) {
    throw new RunRefused('the module is not a WASI command: it exports no _start function (a reactor or a library cannot be run)');
  }
  const missing = WebAssembly.Module.imports(module)
    .filter((i) => !(i.module === WASI_MODULE && provided.has(i.name)) && !(i.module === POOLED_MEMORY_MODULE && i.kind === 'memory'))
    .map((i) => `${i.module}.${i.name}`);
  if (missing.length) {
    const hint = missing.some((m) => m.startsWith('wasi_unstable.'))
      ? ' (wasi_unstable is the older preview0 ABI; rebuild for wasm32-wasip1)'
      : missing.some((m) => m.startsWith('wasi:') || m.startsWith('wasi_snapshot_preview2'))
        ? ' (a preview2 component; skiff runs wasip1 modules)'
        : '';
    throw new RunRefused(`the module imports functions this WASI preview1 host does not provide: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}${hint}`);
  }
}

/** Instantiates `module` against `host` and runs `_start`. */
export async function runCommand(module: WebAssembly.Module, host: WasiHost, options: { countCalls?: boolean } = {}): Promise<RunOutcome> {
  const lease = leaseMemory(module);
  let instance: WebAssembly.Instance;
  try {
    // The shared import object (no functions bound per container) calls the host that is active: this one.
    instance = options.countCalls
      ? await instantiate(module, { ...lease?.imports, [WASI_MODULE]: host.countingImports() })
      : runAs(host, () => instantiateNow(module, { ...lease?.imports, [WASI_MODULE]: sharedImports }))
        ?? await WebAssembly.instantiate(module, { ...lease?.imports, [WASI_MODULE]: host.imports() });
  } catch (err) {
    lease?.release();
    throw new RunRefused(`cannot instantiate the module: ${(err as Error).message}`);
  }
  return runInstance(instance, host, lease);
}

/**
 * Instantiates a compiled module synchronously: the asynchronous API costs a
 * turn of the event loop, several times the work of a small guest. A browser's
 * main thread may refuse a large module synchronously (a RangeError):
 * undefined, and the caller takes the asynchronous API.
 */
function instantiateNow(module: WebAssembly.Module, imports: WebAssembly.Imports): WebAssembly.Instance | undefined {
  try {
    return new WebAssembly.Instance(module, imports);
  } catch (err) {
    if (err instanceof RangeError && !/memory/i.test(err.message)) return undefined;
    throw err;
  }
}

async function instantiate(module: WebAssembly.Module, imports: WebAssembly.Imports): Promise<WebAssembly.Instance> {
  return instantiateNow(module, imports) ?? WebAssembly.instantiate(module, imports);
}

/**
 * Runs an instantiated command; see the module comment for the exit codes.
 * `lease`: the instance's pooled memory, given back when the guest has ended.
 */
export function runInstance(instance: WebAssembly.Instance, host: WasiHost, lease?: MemoryLease): RunOutcome {
  const memory = instance.exports['memory'];
  host.memory.attach(memory instanceof WebAssembly.Memory ? memory : undefined);
  const start = instance.exports['_start'] as () => void;
  let outcome: RunOutcome;
  try {
    host.checkDeadline();
    runAs(host, start);
    outcome = { exitCode: 0 };
  } catch (err) {
    outcome = outcomeOf(err);
  }
  try {
    host.flush();
    host.closeAll();
  } catch (err) {
    outcome.error ??= `closing the guest's files failed: ${(err as Error).message}`;
  }
  if (lease) {
    host.memory.detach();
    lease.release();
  }
  return outcome;
}

export function outcomeOf(err: unknown): RunOutcome {
  if (err instanceof ProcExit) return { exitCode: err.code & 0xff };
  if (err instanceof GuestKilled) return { exitCode: KILL_EXIT_CODE, signal: 'SIGKILL', error: err.reason };
  if (err instanceof WebAssembly.RuntimeError) return { exitCode: TRAP_EXIT_CODE, error: `wasm trap: ${err.message}` };
  if (err instanceof RangeError) {
    if (/call stack/i.test(err.message)) return { exitCode: TRAP_EXIT_CODE, error: 'wasm trap: call stack exhausted (stack overflow)' };
    return { exitCode: TRAP_EXIT_CODE, error: `wasm trap: a WASI call was given memory outside linear memory (${err.message})` };
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { exitCode: TRAP_EXIT_CODE, error: `the guest ended on a host error: ${message}` };
}
