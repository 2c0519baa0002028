/** The probe test program (test/wasi/probe.c) and a way to run it on the WASI host without an image. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Fd } from '@bjorn3/browser_wasi_shim';
import { WasiProcess, type ProcessOptions } from '../../src/process.js';
import { LinkPreopen } from './memory-fs.js';

export const PROBE_PATH = fileURLToPath(new URL('../wasi/probe.wasm', import.meta.url));
export const probeBytes = readFileSync(PROBE_PATH);
let compiled: WebAssembly.Module | undefined;
export const probeModule = async () => (compiled ??= await WebAssembly.compile(probeBytes));

export interface ProbeRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  error?: string;
  signal?: string;
  hostWrites: number;
  process: WasiProcess;
}

const dec = new TextDecoder();

/** Runs `probe args...` with a fresh in-memory `/`. */
export async function probe(args: string[], o: Partial<ProcessOptions> & { stdin?: string; root?: Fd } = {}): Promise<ProbeRun> {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const root = o.root ?? new LinkPreopen('/', new Map());
  const p = new WasiProcess(
    { module: await probeModule(), argv: ['probe', ...args], path: '/probe' },
    { ...(o.stdin !== undefined ? { stdin: new TextEncoder().encode(o.stdin) } : {}), stdout: (c) => out.push(c), stderr: (c) => err.push(c) },
    { preopens: [{ name: '/', fd: root }], env: o.env ?? [], cwd: o.cwd ?? '/', ...o },
  );
  const r = await p.run();
  return {
    exitCode: r.exitCode,
    stdout: out.map((c) => dec.decode(c, { stream: true })).join('') + dec.decode(),
    stderr: err.map((c) => dec.decode(c, { stream: true })).join('') + dec.decode(),
    ...(r.error ? { error: r.error } : {}),
    ...(r.signal ? { signal: r.signal } : {}),
    hostWrites: p.stdout.hostWrites + p.stderr.hostWrites,
    process: p,
  };
}
