/**
 * Runs the official WASI test suite (github.com/WebAssembly/wasi-testsuite,
 * branch prod/testsuite-base, which carries prebuilt wasm32-wasip1 tests)
 * against skiff's WASI host, and optionally against node:wasi for comparison.
 * The suite is not part of this repository: point WASI_TESTSUITE at a checkout.
 *
 *   WASI_TESTSUITE=/path/to/wasi-testsuite bash runtime-wasm/test/wasi-testsuite.sh [--node] [--shim] [--fs=NAME] [--errno-unix] [--verbose] [name-filter]
 *
 * --fs picks the file system the test roots are loaded into: `skiff` (the
 * default: skiff's layered fs, the root as an image layer), `skiff-host`
 * (skiff's host-directory mount, as bind mounts use, over a temporary copy),
 * `double` (the test double, test/support/memory-fs.ts), `shim` (the shim's
 * plain memory fs).
 *
 * Semantics follow the suite's doc/specification.md and its Python runner:
 * each `*.wasm` is a test; `<name>.json` gives args, env (the whole
 * environment), `root` (a directory preopened as `/`), the expected exit code
 * and output (compared as a prefix, as the reference runner reads only the
 * expected length). `*.cleanup` files are test leftovers and are removed first.
 * Every test gets a fresh copy of its root: skiff loads it into memory,
 * node:wasi gets a temporary directory.
 */
import * as nodeFs from 'node:fs';
import { cpSync, existsSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, statSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { WASI } from 'node:wasi';
import { ConsoleStdout, Directory, File, OpenFile, PreopenDirectory, WASI as ShimWASI, type Inode } from '@bjorn3/browser_wasi_shim';
import { WasiHost, SYSCALLS } from '../src/wasi/host.js';
import { LinkDir, LinkPreopen, Symlink, TimedFile } from './support/memory-fs.js';
import { indexLayer, type TarEntryLike } from '../src/fs/layer-index.js';
import { createContainerFs, wallClockNs } from '../src/fs/container.js';
import { HostDir, HostVolume } from '../src/fs/host.js';
import { DirFd } from '../src/fs/dir-fd.js';
import { checkCommand, runCommand, RunRefused } from '../src/wasi/run.js';
import { InputFd, OutputFd } from '../src/wasi/stdio.js';
import { RealClock } from '../src/wasi/clock.js';
import { cryptoRandom } from '../src/wasi/random.js';

export interface SuiteTest {
  suite: string;
  name: string;
  wasm: string;
  args: string[];
  env: Record<string, string>;
  root?: string;
  exitCode: number;
  stdout?: string;
  stderr?: string;
}

export interface TestResult {
  test: SuiteTest;
  pass: boolean;
  skipped?: string;
  why?: string;
  ms: number;
}

/** Tests skiff does not run, with the reason. Kept empty unless a test cannot apply here. */
export const SKIP: Record<string, string> = {};

const SUITES = ['assemblyscript', 'c', 'rust'];

export function discover(checkout: string): SuiteTest[] {
  const out: SuiteTest[] = [];
  for (const suite of SUITES) {
    const dir = join(checkout, 'tests', suite, 'testsuite', 'wasm32-wasip1');
    if (!existsSync(dir)) throw new Error(`${dir} does not exist: WASI_TESTSUITE must be a checkout of the prod/testsuite-base branch`);
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.wasm')) continue;
      const name = f.slice(0, -5);
      const specPath = join(dir, `${name}.json`);
      const spec = existsSync(specPath) ? (JSON.parse(readFileSync(specPath, 'utf8')) as Record<string, unknown>) : {};
      if ('operations' in spec) throw new Error(`${specPath}: operation-based specs are not supported by this runner`);
      const t: SuiteTest = {
        suite, name, wasm: join(dir, f),
        args: (spec['args'] as string[] | undefined) ?? [],
        env: (spec['env'] as Record<string, string> | undefined) ?? {},
        exitCode: (spec['exit_code'] as number | undefined) ?? 0,
      };
      if (typeof spec['root'] === 'string') t.root = join(dir, spec['root']);
      if (typeof spec['stdout'] === 'string') t.stdout = spec['stdout'];
      if (typeof spec['stderr'] === 'string') t.stderr = spec['stderr'];
      out.push(t);
    }
  }
  return out;
}

export interface Observed {
  exitCode: number;
  stdout: string;
  stderr: string;
  error?: string;
}

export function judge(t: SuiteTest, o: Observed): string | undefined {
  if (o.exitCode !== t.exitCode) {
    return `exit code ${o.exitCode}, expected ${t.exitCode}${o.error ? ` (${o.error})` : ''}${o.stderr ? `; stderr: ${o.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
  }
  if (t.stdout !== undefined && !o.stdout.startsWith(t.stdout)) return `stdout ${JSON.stringify(o.stdout)}, expected ${JSON.stringify(t.stdout)}`;
  if (t.stderr !== undefined && !o.stderr.startsWith(t.stderr)) return `stderr ${JSON.stringify(o.stderr)}, expected ${JSON.stringify(t.stderr)}`;
  return undefined;
}

/** A root file system for skiff made from the test's root directory. */
export type LoadedRoot = { fd: import('@bjorn3/browser_wasi_shim').Fd; dispose?: () => void };
export type RootLoader = (hostDir: string) => LoadedRoot | Promise<LoadedRoot>;

export const shimMemoryRoot: RootLoader = (hostDir) => {
  const load = (dir: string): Map<string, Inode> => {
    const m = new Map<string, Inode>();
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.cleanup')) continue;
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) m.set(name, new Directory(load(p)));
      else if (st.isFile()) m.set(name, new File(readFileSync(p)));
      else if (st.isSymbolicLink()) throw new Error(`${p}: symlinks in a test root are not supported by the shim's memory fs (target ${readlinkSync(p)})`);
    }
    return m;
  };
  return { fd: new PreopenDirectory('/', load(hostDir)) };
};

/** The test double of the container fs (test/support/memory-fs.ts): the shim's classes plus symlinks and times. */
export const doubleRoot: RootLoader = (hostDir) => {
  const load = (dir: string): Map<string, Inode> => {
    const m = new Map<string, Inode>();
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.cleanup')) continue;
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) m.set(name, new LinkDir(load(p)));
      else if (st.isFile()) m.set(name, new TimedFile(readFileSync(p)));
      else if (st.isSymbolicLink()) m.set(name, new Symlink(readlinkSync(p)));
    }
    return m;
  };
  return { fd: new LinkPreopen('/', load(hostDir)) };
};

/** skiff's layered file system (src/fs): the root directory becomes an image layer, the test writes to the container's own layer. */
export const layeredRoot: RootLoader = async (hostDir) => {
  const entries: TarEntryLike[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.cleanup')) continue;
      const p = join(dir, name), r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      const base = { path: r, mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: st.mtimeMs / 1000 };
      if (st.isDirectory()) {
        entries.push({ header: { ...base, type: 'directory', size: 0 }, bytes: async () => new Uint8Array() });
        walk(p, r);
      } else if (st.isFile()) {
        const data = readFileSync(p);
        entries.push({ header: { ...base, type: 'file', size: data.length }, bytes: async () => data });
      } else if (st.isSymbolicLink()) {
        entries.push({ header: { ...base, type: 'symlink', size: 0, linkname: readlinkSync(p) }, bytes: async () => new Uint8Array() });
      }
    }
  };
  walk(hostDir, '');
  const index = await indexLayer((async function* () { yield* entries; })(), 'sha256:testsuite-root');
  const fs = createContainerFs({ layers: [index] });
  return { fd: fs.preopens[0]!.fd, dispose: () => fs.dispose() };
};

/** skiff's host-directory mount (src/fs/host.ts, what bind mounts use) over a temporary copy of the root. */
export const hostRoot: RootLoader = (hostDir) => {
  const copy = mkdtempSync(join(tmpdir(), 'wasi-testsuite-root-'));
  cpSync(hostDir, copy, { recursive: true, filter: (src) => !src.endsWith('.cleanup') });
  const vol = new HostVolume({ root: null, now: wallClockNs }, 1n, nodeFs as never, copy, false);
  const root = new HostDir(vol, copy, [], null, BigInt(nodeFs.statSync(copy).ino));
  vol.ctx.root = root;
  return { fd: new DirFd(root, '/'), dispose: () => (vol.dispose(), rmSync(copy, { recursive: true, force: true })) };
};

export const ROOT_LOADERS: Record<string, RootLoader> = { shim: shimMemoryRoot, double: doubleRoot, skiff: layeredRoot, 'skiff-host': hostRoot };

const dec = new TextDecoder();

export async function runWithSkiff(t: SuiteTest, loadRoot: RootLoader = layeredRoot): Promise<Observed> {
  const module = await WebAssembly.compile(readFileSync(t.wasm));
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const root = t.root ? await loadRoot(t.root) : undefined;
  const host = new WasiHost({
    args: [basename(t.wasm), ...t.args],
    env: Object.entries(t.env).map(([k, v]) => `${k}=${v}`),
    preopens: root ? [{ name: '/', fd: root.fd }] : [],
    stdin: new InputFd(),
    stdout: new OutputFd((c) => out.push(c)),
    stderr: new OutputFd((c) => err.push(c)),
    clock: new RealClock(),
    random: cryptoRandom,
  });
  try {
    checkCommand(module, new Set(SYSCALLS));
    const r = await runCommand(module, host);
    return { exitCode: r.exitCode, stdout: text(out), stderr: text(err), ...(r.error ? { error: r.error } : {}) };
  } catch (e) {
    if (e instanceof RunRefused) return { exitCode: -1, stdout: '', stderr: '', error: e.message };
    throw e;
  } finally {
    root?.dispose?.();
  }
}

export async function runWithNodeWasi(t: SuiteTest): Promise<Observed> {
  const work = mkdtempSync(join(tmpdir(), 'wasi-testsuite-'));
  try {
    let root: string | undefined;
    if (t.root) {
      root = join(work, 'root');
      cpSync(t.root, root, { recursive: true, filter: (src) => !src.endsWith('.cleanup') });
    }
    const outPath = join(work, 'stdout'), errPath = join(work, 'stderr');
    const stdin = openSync('/dev/null', 'r'), stdout = openSync(outPath, 'w'), stderr = openSync(errPath, 'w');
    let exitCode: number;
    let error: string | undefined;
    try {
      const wasi = new WASI({
        version: 'preview1', args: [basename(t.wasm), ...t.args], env: t.env,
        preopens: root ? { '/': root } : {}, returnOnExit: true, stdin, stdout, stderr,
      });
      const module = await WebAssembly.compile(readFileSync(t.wasm));
      const instance = await WebAssembly.instantiate(module, wasi.getImportObject() as WebAssembly.Imports);
      try {
        exitCode = wasi.start(instance);
      } catch (e) {
        exitCode = 134;
        error = (e as Error).message;
      }
    } finally {
      closeSync(stdin);
      closeSync(stdout);
      closeSync(stderr);
    }
    return { exitCode, stdout: readFileSync(outPath, 'utf8'), stderr: readFileSync(errPath, 'utf8'), ...(error ? { error } : {}) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The shim's own WASI class over its memory fs, for comparison. */
export async function runWithPlainShim(t: SuiteTest): Promise<Observed> {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const fds = [
    new OpenFile(new File(new Uint8Array())),
    new ConsoleStdout((c) => out.push(c.slice())),
    new ConsoleStdout((c) => err.push(c.slice())),
    ...(t.root ? [(shimMemoryRoot(t.root) as LoadedRoot).fd] : []),
  ];
  const wasi = new ShimWASI([basename(t.wasm), ...t.args], Object.entries(t.env).map(([k, v]) => `${k}=${v}`), fds, { debug: false });
  const module = await WebAssembly.compile(readFileSync(t.wasm));
  let exitCode: number;
  let error: string | undefined;
  try {
    const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport as WebAssembly.ModuleImports });
    exitCode = wasi.start(instance as never);
  } catch (e) {
    exitCode = 134;
    error = e instanceof Error ? e.message : String(e);
  }
  return { exitCode, stdout: text(out), stderr: text(err), ...(error ? { error } : {}) };
}

function text(parts: Uint8Array[]): string {
  return parts.map((p) => dec.decode(p, { stream: true })).join('') + dec.decode();
}

export async function runAll(tests: SuiteTest[], runner: (t: SuiteTest) => Promise<Observed>): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const t of tests) {
    const t0 = performance.now();
    const skip = SKIP[`${t.suite}/${t.name}`];
    if (skip) {
      results.push({ test: t, pass: false, skipped: skip, ms: 0 });
      continue;
    }
    try {
      const o = await runner(t);
      const why = judge(t, o);
      results.push({ test: t, pass: !why, ...(why ? { why } : {}), ms: performance.now() - t0 });
    } catch (e) {
      results.push({ test: t, pass: false, why: `runner error: ${(e as Error).stack ?? e}`, ms: performance.now() - t0 });
    }
  }
  return results;
}

function report(label: string, results: TestResult[], verbose: boolean): number {
  const failed = results.filter((r) => !r.pass && !r.skipped);
  const skipped = results.filter((r) => r.skipped);
  const passed = results.length - failed.length - skipped.length;
  console.log(`\n${label}: ${passed} passed, ${failed.length} failed, ${skipped.length} skipped, of ${results.length}`);
  for (const r of results) {
    if (r.pass && !verbose) continue;
    const mark = r.pass ? 'ok  ' : r.skipped ? 'skip' : 'FAIL';
    console.log(`  ${mark} ${r.test.suite}/${r.test.name}${r.skipped ? `: ${r.skipped}` : r.why ? `: ${r.why}` : ''}`);
  }
  return failed.length;
}

async function main(): Promise<void> {
  const checkout = process.env['WASI_TESTSUITE'];
  if (!checkout) {
    console.error('Set WASI_TESTSUITE to a checkout of github.com/WebAssembly/wasi-testsuite (branch prod/testsuite-base).');
    process.exit(2);
  }
  const argv = process.argv.slice(2);
  const withNode = argv.includes('--node');
  const withShim = argv.includes('--shim');
  const verbose = argv.includes('--verbose');
  const filter = argv.find((a) => !a.startsWith('--'));
  const fsName = argv.find((a) => a.startsWith('--fs='))?.slice(5) ?? 'skiff';
  const loader = ROOT_LOADERS[fsName];
  if (!loader) throw new Error(`unknown --fs=${fsName}; one of ${Object.keys(ROOT_LOADERS).join(', ')}`);
  const clean = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (f.endsWith('.cleanup')) rmSync(p, { recursive: true, force: true });
      else if (statSync(p).isDirectory()) clean(p);
    }
  };
  for (const s of SUITES) clean(join(checkout, 'tests', s, 'testsuite', 'wasm32-wasip1'));
  // --errno-unix: the Rust tests then accept only the errno Linux gives (ERRNO_MODE_UNIX), not any portable one.
  const strict = argv.includes('--errno-unix');
  const tests = discover(checkout)
    .filter((t) => !filter || `${t.suite}/${t.name}`.includes(filter))
    .map((t) => (strict && t.suite === 'rust' ? { ...t, env: { ...t.env, ERRNO_MODE_UNIX: '1' } } : t));
  const failures = report(`skiff (fs: ${fsName})`, await runAll(tests, (t) => runWithSkiff(t, loader)), verbose);
  if (withNode) report('node:wasi', await runAll(tests, runWithNodeWasi), verbose);
  if (withShim) report('browser_wasi_shim WASI class', await runAll(tests, runWithPlainShim), verbose);
  process.exitCode = failures ? 1 : 0;
}

if (process.argv[1] && /wasi-testsuite/.test(process.argv[1])) await main();
