/**
 * The WASI runtimes the benchmarks compare, behind one small interface:
 * skiff's WasmSandbox (fresh container per run from a cached image), Node's
 * `node:wasi` (preview1; files on a host directory) and the plain
 * @bjorn3/browser_wasi_shim (files in its in-memory PreopenDirectory).
 *
 * Every run is a fresh instance (and for skiff a fresh container) with `/tmp`
 * writable; stdout is captured (node:wasi: into a file, as it only writes to
 * fds). Each run checks the exit code, so a runtime that fails cannot look fast.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI as NodeWasi } from 'node:wasi';
import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI as ShimWasi } from '@bjorn3/browser_wasi_shim';
import { MemoryImageLayout } from '@skiff/sdk';
import { createNodeWasmBackend, WasmSandbox } from '@skiff/runtime-wasm/node';
import { makeWasiImage } from './images.js';
import { programBytes, withUniqueTag, type WasmProgram } from './wasm-programs.js';

export interface WasiRun {
  exitCode: number;
  /** Bytes the program wrote to stdout. */
  stdoutBytes: number;
  /**
   * The run's time in ms: making the instance or container, running it,
   * collecting its output. Host-side preparation that a user does once or
   * elsewhere (a fresh host directory for node:wasi) is left out.
   */
  ms: number;
}

/** Runs a program once: args after argv[0]. */
export type WasiRunner = (args: string[]) => Promise<WasiRun>;

export interface WasiSubject {
  name: string;
  /** A runner for `program` whose compiled module is cached (warm starts). */
  warm(program: WasmProgram): Promise<WasiRunner>;
  /**
   * Prepares (untimed) a never-seen variant of `program` and returns the timed
   * part: compile (and for skiff, index the image in a fresh runtime) and run.
   */
  cold(program: WasmProgram, tag: string): Promise<WasiRunner>;
  dispose(): Promise<void>;
}

/** A tmpfs directory for node:wasi's files when there is one, so no runtime pays for a disk. */
function hostScratchRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

function checked(name: string, args: string[], r: WasiRun, detail = ''): WasiRun {
  if (r.exitCode !== 0) throw new Error(`${name}: ${args.join(' ')} exited ${r.exitCode}${detail ? `: ${detail}` : ''}`);
  return r;
}

// ---- node:wasi ----

export function nodeWasiSubject(): WasiSubject {
  const root = mkdtempSync(join(hostScratchRoot(), 'skiff-bench-nodewasi-'));
  // One stdout and one stderr file for all runs (appended to); a run's output is the growth.
  const out = openSync(join(root, 'stdout'), 'a');
  const err = openSync(join(root, 'stderr'), 'a+');
  let n = 0;
  const runner = (module: WebAssembly.Module, program: string): WasiRunner => async (args) => {
    // Untimed: a fresh host directory for the run's /tmp.
    const dir = join(root, `run-${n++}`);
    mkdirSync(dir);
    try {
      const before = fstatSync(out).size;
      const errBefore = fstatSync(err).size;
      const t0 = performance.now();
      const wasi = new NodeWasi({ version: 'preview1', args: [program, ...args], env: {}, preopens: { '/tmp': dir }, stdout: out, stderr: err, returnOnExit: true });
      // Asynchronous, as the shim's: node:wasi on Node 20 crashes the process (SIGSEGV)
      // within a few thousand synchronous instances run back to back. (skiff starts
      // synchronously; the peers pay one event-loop trip per run for it.)
      const instance = await WebAssembly.instantiate(module, wasi.getImportObject() as WebAssembly.Imports);
      const exitCode = wasi.start(instance);
      const ms = performance.now() - t0;
      const detail = exitCode ? readFileSync(join(root, 'stderr'), 'utf8').slice(errBefore) : '';
      return checked('node:wasi', args, { exitCode, stdoutBytes: fstatSync(out).size - before, ms }, detail);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return {
    name: 'node:wasi',
    ...compiledStarts(runner),
    async dispose() {
      closeSync(out);
      closeSync(err);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * warm: compile once, then run; cold: compile a uniquely tagged copy (so no
 * cache helps) inside each run, adding the compile time to the run's.
 */
function compiledStarts(runner: (module: WebAssembly.Module, program: string) => WasiRunner): Pick<WasiSubject, 'warm' | 'cold'> {
  return {
    async warm(program) {
      return runner(await WebAssembly.compile(programBytes(program) as Uint8Array<ArrayBuffer>), program);
    },
    async cold(program, tag) {
      const bytes = withUniqueTag(programBytes(program), tag);
      return async (args) => {
        const t0 = performance.now();
        const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
        const compileMs = performance.now() - t0;
        const r = await runner(module, program)(args);
        return { ...r, ms: r.ms + compileMs };
      };
    },
  };
}

// ---- the plain browser_wasi_shim ----

export function shimSubject(): WasiSubject {
  const runner = (module: WebAssembly.Module, program: string): WasiRunner => async (args) => {
    const t0 = performance.now();
    let stdoutBytes = 0;
    const err: Uint8Array[] = [];
    const fds = [
      new OpenFile(new File([])),
      new ConsoleStdout((b) => { stdoutBytes += b.length; }),
      new ConsoleStdout((b) => { err.push(b.slice()); }),
      new PreopenDirectory('/tmp', new Map()),
    ];
    const wasi = new ShimWasi([program, ...args], [], fds, { debug: false });
    const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport as WebAssembly.ModuleImports });
    const exitCode = wasi.start(instance as unknown as { exports: { memory: WebAssembly.Memory; _start: () => unknown } });
    const ms = performance.now() - t0;
    return checked('browser_wasi_shim', args, { exitCode, stdoutBytes, ms }, Buffer.concat(err).toString());
  };
  return {
    name: 'browser_wasi_shim',
    ...compiledStarts(runner),
    async dispose() {},
  };
}

// ---- skiff ----

const PROGRAM_PATHS: Record<WasmProgram, string> = { wasibench: '/bin/wasibench.wasm', sqlitebench: '/bin/sqlitebench.wasm' };

/** skiff's WASI backend, or why it cannot be measured here. */
export async function skiffSubject(): Promise<WasiSubject | string> {
  let backend: ReturnType<typeof createNodeWasmBackend>;
  try {
    backend = createNodeWasmBackend();
  } catch (err) {
    return `runtime-wasm cannot make a backend yet: ${(err as Error).message}`;
  }
  const layout = new MemoryImageLayout();
  const files = () => Object.fromEntries(Object.entries(PROGRAM_PATHS).map(([p, path]) => [path.slice(1), programBytes(p as WasmProgram)]));
  await makeWasiImage(layout, 'bench/wasi:1', files(), ['/bin/wasibench.wasm']);
  const sandbox = await WasmSandbox.fromImage(layout, 'bench/wasi:1', { runtime: backend.runtime });
  const runner = (sb: WasmSandbox, program: WasmProgram): WasiRunner => async (args) => {
    const t0 = performance.now();
    const r = await sb.run(args, { entrypoint: [PROGRAM_PATHS[program]] });
    const ms = performance.now() - t0;
    return checked('skiff', args, { exitCode: r.exitCode, stdoutBytes: r.stdoutBytes.length, ms }, r.error ?? r.stderr);
  };
  return {
    name: 'skiff',
    async warm(program) {
      return runner(sandbox, program);
    },
    async cold(program, tag) {
      const name = `bench/cold-${tag.replace(/[^a-z0-9]/gi, '')}:1`.toLowerCase();
      await makeWasiImage(layout, name, { [PROGRAM_PATHS[program].slice(1)]: withUniqueTag(programBytes(program), tag) }, [PROGRAM_PATHS[program]]);
      return async (args) => {
        // A fresh backend: nothing indexed, nothing compiled.
        const t0 = performance.now();
        const fresh = createNodeWasmBackend();
        const sb = await WasmSandbox.fromImage(layout, name, { runtime: fresh.runtime });
        const setupMs = performance.now() - t0;
        const r = await runner(sb, program)(args);
        return { ...r, ms: r.ms + setupMs };
      };
    },
    async dispose() {},
  };
}
