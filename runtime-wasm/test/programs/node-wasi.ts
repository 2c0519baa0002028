/**
 * Runs a WASI preview1 program under Node's own `node:wasi`, the reference
 * host the sample and test-program tests check the programs against.
 * `/` is a host directory; stdio goes through temp files (node:wasi wants fds).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WasiRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The message of a trap (an uncaught WebAssembly RuntimeError). */
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
      if (!(err instanceof WebAssembly.RuntimeError)) throw err;
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
