/**
 * Runs a WASI preview1 program under Node's own `node:wasi`, the reference
 * host the sample and test-program tests check the programs against.
 * `/` is a host directory; stdio goes through temp files (node:wasi wants fds).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WasiRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The message of a trap (a WebAssembly RuntimeError, or a RangeError for call stack exhaustion). */
  trap?: string;
  ms: number;
}

export interface WasiRunOptions {
  /** The host directory seen as `/`. */
  root: string;
  env?: Record<string, string>;
  stdin?: string | Uint8Array;
}

const modules = new Map<string, WebAssembly.Module>();

function compiled(file: string): WebAssembly.Module {
  let m = modules.get(file);
  if (!m) modules.set(file, (m = new WebAssembly.Module(readFileSync(file))));
  return m;
}

// node:wasi warns on load that it is experimental; the tests know.
const emitWarning = process.emitWarning;
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (!/WASI/.test(text)) (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
}) as typeof process.emitWarning;
const { WASI } = await import('node:wasi');
process.emitWarning = emitWarning;

/** Runs `file` with `args` (args[0] is the program name it sees). */
export function runWasi(file: string, args: string[], o: WasiRunOptions): WasiRun {
  const io = mkdtempSync(join(tmpdir(), 'skiff-wasi-io-'));
  const fds: number[] = [];
  try {
    writeFileSync(join(io, 'in'), o.stdin ?? '');
    const stdin = openSync(join(io, 'in'), 'r');
    const stdout = openSync(join(io, 'out'), 'w');
    const stderr = openSync(join(io, 'err'), 'w');
    fds.push(stdin, stdout, stderr);
    const wasi = new WASI({
      version: 'preview1',
      args,
      env: o.env ?? {},
      preopens: { '/': o.root },
      returnOnExit: true,
      stdin,
      stdout,
      stderr,
    });
    const instance = new WebAssembly.Instance(compiled(file), wasi.getImportObject() as WebAssembly.Imports);
    const t0 = performance.now();
    let exitCode = 0;
    let trap: string | undefined;
    try {
      exitCode = wasi.start(instance);
    } catch (err) {
      // A trap, or the engine's call stack running out (a RangeError in V8).
      if (!(err instanceof WebAssembly.RuntimeError) && !(err instanceof RangeError)) throw err;
      trap = err.message;
      exitCode = -1;
    }
    const ms = performance.now() - t0;
    for (const fd of fds.splice(0)) closeSync(fd);
    return {
      exitCode,
      stdout: readFileSync(join(io, 'out'), 'utf8'),
      stderr: readFileSync(join(io, 'err'), 'utf8'),
      ...(trap !== undefined ? { trap } : {}),
      ms,
    };
  } finally {
    for (const fd of fds) closeSync(fd);
    rmSync(io, { recursive: true, force: true });
  }
}

export interface ChildWasiRun extends WasiRun {
  /** The child process did not finish in time (node:wasi blocked). */
  timedOut: boolean;
  /** The child process died of a signal (node itself crashed). */
  crashSignal: string | null;
}

// Runs in a child node: the same as runWasi, with the child's own stdio.
const CHILD = `
const { WASI } = await import('node:wasi');
const fs = await import('node:fs');
const o = JSON.parse(process.argv[1]);
const wasi = new WASI({ version: 'preview1', args: o.args, env: o.env, preopens: { '/': o.root }, returnOnExit: true, stdin: 0, stdout: 1, stderr: 2 });
const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(o.file)), wasi.getImportObject());
const t0 = performance.now();
let result;
try {
  result = { exitCode: wasi.start(instance) };
} catch (err) {
  if (!(err instanceof WebAssembly.RuntimeError) && !(err instanceof RangeError)) throw err;
  result = { exitCode: -1, trap: err.message };
}
result.ms = performance.now() - t0;
fs.writeFileSync(o.result, JSON.stringify(result));
`;

/**
 * runWasi in a child process, for programs that may block node:wasi for good
 * or crash it: the child is killed after `timeoutMs`.
 */
export function runWasiInChild(file: string, args: string[], o: WasiRunOptions, timeoutMs: number): ChildWasiRun {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-wasi-child-'));
  try {
    const result = join(dir, 'result.json');
    const r = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', CHILD, JSON.stringify({ file, args, env: o.env ?? {}, root: o.root, result })], {
      input: o.stdin ?? '',
      encoding: 'utf8',
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    const timedOut = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    const done = existsSync(result) ? (JSON.parse(readFileSync(result, 'utf8')) as { exitCode: number; trap?: string; ms: number }) : undefined;
    return {
      exitCode: done?.exitCode ?? -1,
      stdout: r.stdout ?? '',
      stderr: r.stderr ?? '',
      ...(done?.trap !== undefined ? { trap: done.trap } : {}),
      ms: done?.ms ?? 0,
      timedOut,
      crashSignal: timedOut ? null : r.signal,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
