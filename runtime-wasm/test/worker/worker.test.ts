/**
 * Worker mode in Node: containers in worker_threads, driven through the
 * Backend contract and through the Engine, with a guest that misbehaves on
 * purpose (programs/spin.c).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../sdk/src/runtime/engine.js';
import { MemoryVolumeStore } from '../../../sdk/src/volumes/memory.js';
import type { ContainerSpec, ExitStatus, Stdio } from '../../../sdk/src/runtime/backend.js';
import { createNodeWorkerBackend } from '../../src/worker/node.js';
import type { WorkerWasmBackend } from '../../src/worker/backend.js';
import { buildNodeWorker } from './support/build-worker.js';
import { spinImage } from './support/images.js';

const dec = new TextDecoder();
const enc = new TextEncoder();
let worker: Awaited<ReturnType<typeof buildNodeWorker>>;
let image: Awaited<ReturnType<typeof spinImage>>;
let backend: WorkerWasmBackend;
let n = 0;

beforeAll(async () => {
  worker = await buildNodeWorker();
  image = await spinImage();
  backend = createNodeWorkerBackend({ url: worker.url });
  await backend.init({ content: image.layout });
});

afterAll(() => worker?.dispose());

function spec(args: string[], extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return { id: `w${++n}`, image: image.spec, process: { args: ['/bin/spin', ...args], env: [], cwd: '/' }, mounts: [], ...extra };
}

/** Output with the time (ms since start) each chunk arrived. */
function capture() {
  const t0 = performance.now();
  const out: Array<{ at: number; text: string }> = [];
  const err: string[] = [];
  const stdio = (stdin?: ReadableStream<Uint8Array>): Stdio => ({
    stdout: new WritableStream({ write: (c) => void out.push({ at: performance.now() - t0, text: dec.decode(c) }) }),
    stderr: new WritableStream({ write: (c) => void err.push(dec.decode(c)) }),
    ...(stdin ? { stdin } : {}),
  });
  return { stdio, out, since: () => performance.now() - t0, stdout: () => out.map((o) => o.text).join(''), stderr: () => err.join('') };
}

async function run(s: ContainerSpec) {
  const c = await backend.create(s);
  const io = capture();
  const t0 = performance.now();
  await c.start(io.stdio());
  const status = await c.wait();
  const ms = performance.now() - t0;
  await c.remove();
  return { status, ms, stdout: io.stdout(), stderr: io.stderr() };
}

describe('worker mode (Node worker_threads)', () => {
  it('describes itself: wasip1/wasm, memory limits, bind mounts and exec', () => {
    expect(backend.name).toBe('wasm');
    expect(backend.platforms).toEqual([{ os: 'wasip1', architecture: 'wasm' }]);
    expect(backend.capabilities).toMatchObject({ exec: true, signals: false, memoryLimit: true, bindMounts: true });
  });

  it('streams stdout while the guest runs, not at its exit', async () => {
    const c = await backend.create(spec(['tick', '3', '300']));
    const io = capture();
    await c.start(io.stdio());
    expect(await c.wait()).toEqual({ exitCode: 0 });
    const exitedAt = io.since();
    await c.remove();
    expect(io.stdout()).toBe('tick 1\ntick 2\ntick 3\n');
    // The first tick came while the guest still had two 300 ms sleeps ahead of it
    // (a loaded machine may merge later chunks, but not hold the first one back that long).
    expect(io.out.length).toBeGreaterThan(1);
    expect(exitedAt - io.out[0]!.at).toBeGreaterThan(300);
  });

  it('streams stdin while the guest runs: the guest answers each line as it arrives', async () => {
    const c = await backend.create(spec(['echo']));
    const io = capture();
    let feed!: ReadableStreamDefaultController<Uint8Array>;
    await c.start(io.stdio(new ReadableStream<Uint8Array>({ start: (ctl) => void (feed = ctl) })));
    const until = async (text: string) => {
      for (let i = 0; i < 200 && !io.stdout().includes(text); i++) await new Promise((r) => setTimeout(r, 10));
      return io.stdout();
    };
    expect(await until('> ')).toBe('> ');
    feed.enqueue(enc.encode('first\n'));
    expect(await until('got: first\n> ')).toBe('> got: first\n> ');
    feed.enqueue(enc.encode('second\n'));
    await until('got: second');
    feed.close();
    expect(await c.wait()).toEqual({ exitCode: 0 });
    expect(io.stdout()).toBe('> got: first\n> got: second\n> eof\n');
    await c.remove();
  });

  it('passes a large stdin through the ring buffer in order', async () => {
    const c = await backend.create(spec(['echo']));
    const io = capture();
    const lines = Array.from({ length: 20000 }, (_, i) => `line ${i}\n`).join('');
    await c.start(io.stdio(new ReadableStream({ start: (ctl) => { ctl.enqueue(enc.encode(lines)); ctl.close(); } })));
    expect(await c.wait()).toEqual({ exitCode: 0 });
    const got = io.stdout().split('\n').filter((l) => l.startsWith('> got: ') || l.startsWith('got: ')).map((l) => l.replace(/^(> )?got: /, ''));
    expect(got.length).toBe(20000);
    expect(got[19999]).toBe('line 19999');
    await c.remove();
  });

  it('kill ends a guest that spins forever at once, and the host carries on', async () => {
    const c = await backend.create(spec(['spin']));
    const io = capture();
    await c.start(io.stdio());
    for (let i = 0; i < 200 && !io.stdout(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(io.stdout()).toBe('spinning\n');
    // The host's event loop is free while the guest spins.
    const tick = await new Promise<number>((r) => { const t = performance.now(); setTimeout(() => r(performance.now() - t), 5); });
    expect(tick).toBeLessThan(1000);
    const t0 = performance.now();
    await c.kill();
    const status = await c.wait();
    expect(performance.now() - t0).toBeLessThan(5000); // the guest would spin forever
    expect(status).toEqual({ exitCode: 137, signal: 'SIGKILL', error: 'killed (SIGKILL)' });
    expect(await c.stats()).toMatchObject({ pids: 0 });
    // The container starts again, on a fresh worker.
    await c.start(io.stdio());
    await c.kill();
    expect((await c.wait()).exitCode).toBe(137);
    await c.remove();
  });

  it('a time limit ends a guest that never makes a syscall', async () => {
    const r = await run(spec(['spin'], { timeoutMs: 300 }));
    expect(r.status).toEqual({ exitCode: 137, signal: 'SIGKILL', error: 'the run passed its time limit' });
    expect(r.ms).toBeGreaterThanOrEqual(300);
    expect(r.ms).toBeLessThan(3000);
    expect(r.stdout).toBe('spinning\n');
  });

  it('a time limit ends a guest that sleeps, at its syscall, without losing the worker', async () => {
    const c = await backend.create(spec(['tick', '100', '100'], { timeoutMs: 350 }));
    const io = capture();
    await c.start(io.stdio());
    const status = await c.wait();
    expect(status).toMatchObject({ exitCode: 137, signal: 'SIGKILL', error: 'the run passed its time limit' });
    // It ran, slept between ticks, and was ended long before its 100 ticks (10 s) were done.
    expect(io.stdout()).toMatch(/^tick 1\n/);
    expect(io.stdout()).not.toContain('tick 20\n');
    // Ended inside the worker: the container's files are still there for export.
    const tar = await new Response(c.exportChanges()).arrayBuffer();
    expect(tar.byteLength).toBeGreaterThanOrEqual(1024);
    await c.remove();
  });

  it('a guest allocating past the memory cap fails cleanly inside its limit', async () => {
    const r = await run(spec(['alloc'], { resources: { memoryBytes: 16 * 1024 * 1024 } }));
    expect(r.status).toEqual({ exitCode: 12 });
    const mib = Number(/malloc failed after (\d+) MiB/.exec(r.stderr)?.[1]);
    expect(mib).toBeGreaterThan(8);
    expect(mib).toBeLessThanOrEqual(16);
  });

  it('reports a trap as exit 134 with its reason', async () => {
    const r = await run(spec(['trap']));
    expect(r.status).toMatchObject({ exitCode: 134, error: 'wasm trap: unreachable' });
  });

  it('a worker that runs out of heap is reported as OOM-killed; the host is unharmed', async () => {
    const tight = createNodeWorkerBackend({ url: worker.url, heapMb: 24 });
    await tight.init({ content: image.layout });
    const c = await tight.create(spec(['files', '200000']));
    const io = capture();
    await c.start(io.stdio());
    const status: ExitStatus = await c.wait();
    expect(status).toMatchObject({ exitCode: 137, signal: 'SIGKILL', oomKilled: true });
    expect(status.error).toMatch(/ran out of memory/);
    await c.remove();
    // Another container runs fine afterwards.
    expect((await run(spec(['tick', '1', '0']))).stdout).toBe('tick 1\n');
  });

  it('keeps errors and their codes from the worker: a missing program is NOT_FOUND at start', async () => {
    const c = await backend.create({ ...spec([]), process: { args: ['/bin/nope'], env: [], cwd: '/' } });
    await expect(c.start(capture().stdio())).rejects.toMatchObject({ name: 'SkiffError', code: 'NOT_FOUND' });
    await c.remove();
  });


  it('exports the container\'s changes from its worker', async () => {
    const c = await backend.create(spec(['files', '3']));
    await c.start(capture().stdio());
    expect(await c.wait()).toEqual({ exitCode: 0 });
    const tar = new TextDecoder('latin1').decode(await new Response(c.exportChanges()).arrayBuffer());
    expect(tar).toContain('tmp/many/f0');
    expect(tar).toContain('tmp/many/f2');
    await c.remove();
  });

  it('runs many containers at once, each in its own worker', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => run(spec(['tick', '2', String(20 + i)]))));
    for (const r of results) expect(r).toMatchObject({ status: { exitCode: 0 }, stdout: 'tick 1\ntick 2\n' });
  });

  it('compiles a program once for all workers', async () => {
    const fresh = createNodeWorkerBackend({ url: worker.url });
    await fresh.init({ content: image.layout });
    const first = await (async () => { const c = await fresh.create(spec(['tick', '1', '0'])); await c.start(capture().stdio()); await c.wait(); await c.remove(); })();
    void first;
    const shared = fresh.modules as unknown as { modules: Map<string, WebAssembly.Module> };
    expect(shared.modules.size).toBe(1);
    const c = await fresh.create(spec(['tick', '1', '0']));
    await c.start(capture().stdio());
    await c.wait();
    await c.remove();
    expect(shared.modules.size).toBe(1);
  });
});

describe('worker mode through the Engine', () => {
  let engine: Engine;
  let volumes: MemoryVolumeStore;

  beforeAll(async () => {
    volumes = new MemoryVolumeStore();
    engine = new Engine({ layout: image.layout, backends: [backend], volumes });
  });

  it('runs an image and returns exit code and output', async () => {
    expect(await engine.run({ image: image.name, cmd: ['tick', '2', '10'], rm: true })).toMatchObject({ exitCode: 0, stdout: 'tick 1\ntick 2\n', stderr: '' });
  });

  it('passes stdin', async () => {
    expect((await engine.run({ image: image.name, cmd: ['echo'], stdin: 'a\nb\n', rm: true })).stdout).toBe('> got: a\n> got: b\n> eof\n');
  });

  it('kills a runaway container on request and by its time limit', async () => {
    const c = await engine.create({ image: image.name, cmd: ['spin'] });
    await c.start();
    await engine.kill(c.id);
    expect(await c.wait()).toMatchObject({ exitCode: 137 });
    await c.remove();
    const t0 = performance.now();
    const r = await engine.run({ image: image.name, cmd: ['spin'], rm: true, timeoutMs: 200 } as never);
    expect(r.exitCode).toBe(137);
    expect(performance.now() - t0).toBeLessThan(10_000); // the guest would spin forever
  });

  it('writes a volume held in the host\'s memory through the worker', async () => {
    const r = await engine.run({ image: image.name, cmd: ['files', '3'], volumes: ['vol-w:/tmp'], rm: true });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'made 3 files\n' });
    const h = await volumes.handle('vol-w');
    expect(String(h.fs!.readFileSync(`${h.fsRoot}/many/f2`, 'utf8'))).toBe('2\n');
    expect(h.fs!.readdirSync(`${h.fsRoot}/many`).map(String).sort()).toEqual(['f0', 'f1', 'f2']);
  });

  it('writes a volume on disk directly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-wvol-'));
    try {
      const r = await engine.run({ image: image.name, cmd: ['files', '2'], volumes: [`${dir}:/tmp`], rm: true });
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(dir, 'many/f1'), 'utf8')).toBe('1\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the committed test program', () => {
  it('is up to date with spin.c', () => {
    let clang = true;
    try {
      execFileSync('clang', ['--version'], { stdio: 'ignore' });
    } catch {
      clang = false;
    }
    if (!clang) throw new Error('clang is missing: run scripts/setup-test-deps.sh (clang, lld, wasi-libc, libclang-rt-dev-wasm32)');
    const dir = mkdtempSync(join(tmpdir(), 'skiff-spin-'));
    try {
      const src = new URL('./programs/spin.c', import.meta.url).pathname;
      execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-Wall', '-Wl,--strip-all', '-o', join(dir, 'spin.wasm'), src]);
      expect(Buffer.compare(readFileSync(join(dir, 'spin.wasm')), readFileSync(new URL('./programs/spin.wasm', import.meta.url)))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
