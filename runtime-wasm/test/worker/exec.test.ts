/**
 * exec in worker mode: the exec'd program runs inside the container's worker,
 * nested in the main guest's blocked host call (a sleep, a read of stdin),
 * over the same file system.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../sdk/src/runtime/engine.js';
import { MemoryImageLayout } from '../../../sdk/src/content/memory.js';
import type { BackendContainer, ContainerSpec, ProcessSpec, Stdio } from '../../../sdk/src/runtime/backend.js';
import { buildSample } from '../../src/samples.js';
import { createNodeWorkerBackend, nodeWorkerSpawner } from '../../src/worker/node.js';
import { WorkerWasmBackend } from '../../src/worker/backend.js';
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

function spec(args: string[]): ContainerSpec {
  return { id: `x${++n}`, image: image.spec, process: { args: ['/bin/spin', ...args], env: [], cwd: '/' }, mounts: [] };
}

const proc = (...args: string[]): ProcessSpec => ({ args: ['/bin/spin', ...args], env: [], cwd: '/' });

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  let first: () => void;
  const firstOut = new Promise<void>((r) => (first = r));
  const stdio = (stdin?: ReadableStream<Uint8Array>): Stdio => ({
    stdout: new WritableStream({ write: (c) => void (out.push(dec.decode(c)), first()) }),
    stderr: new WritableStream({ write: (c) => void err.push(dec.decode(c)) }),
    ...(stdin ? { stdin } : {}),
  });
  return { stdio, firstOut, stdout: () => out.join(''), stderr: () => err.join('') };
}

/** A stdin the test feeds line by line and closes when it likes. */
function liveStdin() {
  let c!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (ctl) => void (c = ctl) });
  return { stream, send: (s: string) => c.enqueue(enc.encode(s)), close: () => c.close() };
}

async function started(args: string[]): Promise<{ c: BackendContainer; io: ReturnType<typeof capture> }> {
  const c = await backend.create(spec(args));
  const io = capture();
  await c.start(io.stdio());
  await io.firstOut;
  return { c, io };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('exec in worker mode', () => {
  it('runs while the main process sleeps, in its file system, and the main process resumes its sleep', async () => {
    const t0 = performance.now();
    const { c, io } = await started(['tick', '2', '3000']);
    const x = capture();
    const t1 = performance.now();
    const p = await c.exec(proc('files', '2'), x.stdio());
    expect(await p.wait()).toEqual({ exitCode: 0 });
    // Served inside the sleep, not after it.
    expect(performance.now() - t1).toBeLessThan(2500);
    expect(x.stdout()).toBe('made 2 files\n');
    expect(await c.wait()).toEqual({ exitCode: 0 });
    const total = performance.now() - t0;
    expect(total).toBeGreaterThan(2900);
    expect(total).toBeLessThan(8000);
    expect(io.stdout()).toBe('tick 1\ntick 2\n');
    // The exec wrote the container's own file system.
    const tar = await new Response(c.exportChanges()).arrayBuffer();
    expect(new TextDecoder('latin1').decode(tar)).toContain('tmp/many/f1');
    await c.remove();
  });

  it('passes exit codes, stderr and errors before the start', async () => {
    const { c } = await started(['tick', '2', '3000']);
    const trap = capture();
    expect(await (await c.exec(proc('trap'), trap.stdio())).wait()).toMatchObject({ exitCode: 134 });
    const bad = capture();
    expect(await (await c.exec(proc('no-such-mode'), bad.stdio())).wait()).toEqual({ exitCode: 2 });
    expect(bad.stderr()).toBe('unknown mode no-such-mode\n');
    await expect(c.exec({ args: ['/bin/nope'], env: [], cwd: '/' }, capture().stdio())).rejects.toMatchObject({ name: 'SkiffError', code: 'NOT_FOUND' });
    await expect(c.exec({ ...proc('echo'), tty: true }, capture().stdio())).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await c.kill();
    await c.wait();
    await c.remove();
  });

  it("streams the exec's stdin, while the main process waits on its own stdin, which still works after", async () => {
    const c = await backend.create(spec(['echo']));
    const main = liveStdin();
    const io = capture();
    await c.start(io.stdio(main.stream));
    await io.firstOut;
    const x = capture();
    const xin = liveStdin();
    const p = await c.exec(proc('echo'), x.stdio(xin.stream));
    xin.send('one\n');
    await until(() => x.stdout().includes('got: one'));
    xin.send('two\n');
    xin.close();
    expect(await p.wait()).toEqual({ exitCode: 0 });
    expect(x.stdout()).toBe('> got: one\n> got: two\n> eof\n');
    main.send('main line\n');
    await until(() => io.stdout().includes('got: main line'));
    main.close();
    expect(await c.wait()).toEqual({ exitCode: 0 });
    expect(io.stdout()).toBe('> got: main line\n> eof\n');
    await c.remove();
  });

  it('kill ends the exec, not the container; an exec may run inside another', async () => {
    const { c, io } = await started(['tick', '2', '2000']);
    const outer = capture();
    const p = await c.exec(proc('tick', '1000', '50'), outer.stdio());
    await outer.firstOut;
    // The outer exec is sleeping: a second exec runs nested in its sleep.
    const inner = capture();
    expect(await (await c.exec(proc('files', '1'), inner.stdio())).wait()).toEqual({ exitCode: 0 });
    expect(inner.stdout()).toBe('made 1 files\n');
    await p.kill();
    expect(await p.wait()).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
    expect(await c.wait()).toEqual({ exitCode: 0 });
    expect(io.stdout()).toBe('tick 1\ntick 2\n');
    await c.remove();
  });

  it('gives up with DEADLINE_EXCEEDED when the main process never blocks', async () => {
    const impatient = createNodeWorkerBackend({ url: worker.url, execWaitMs: 300 });
    await impatient.init({ content: image.layout });
    const c = await impatient.create(spec(['spin']));
    const io = capture();
    await c.start(io.stdio());
    await io.firstOut;
    const t0 = performance.now();
    await expect(c.exec(proc('files', '1'), capture().stdio())).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(performance.now() - t0).toBeLessThan(10_000); // the main process never blocks: without the limit, forever
    await c.kill();
    expect((await c.wait()).exitCode).toBe(137);
    await c.remove();
  });

  it('refuses exec with UNSUPPORTED where the worker cannot take a request while blocked (browsers)', async () => {
    const node = nodeWorkerSpawner({ url: worker.url });
    // A spawner like the browser's: it does not say its worker can receive while blocked.
    const b = new WorkerWasmBackend({ spawn: Object.assign((l: Parameters<typeof node>[0]) => node(l), { hostFs: true }) });
    expect(b.capabilities.exec).toBe(false);
    await b.init({ content: image.layout });
    const c = await b.create(spec(['tick', '2', '2000']));
    await c.start(capture().stdio());
    await expect(c.exec(proc('files', '1'), capture().stdio())).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await c.kill();
    await c.wait();
    await c.remove();
  });

  it('refuses exec into a container that is not running', async () => {
    const c = await backend.create(spec(['tick', '1', '0']));
    await expect(c.exec(proc('files', '1'), capture().stdio())).rejects.toMatchObject({ code: 'CONFLICT' });
    await c.start(capture().stdio());
    await c.wait();
    await expect(c.exec(proc('files', '1'), capture().stdio())).rejects.toMatchObject({ code: 'CONFLICT' });
    await c.remove();
  });
});

describe('exec in worker mode through the Engine, with the toolbox shell', () => {
  it('an exec writes a file that the main process then reads', async () => {
    const layout = new MemoryImageLayout();
    const toolbox = await buildSample(layout, 'toolbox', async (name) => new Uint8Array(readFileSync(new URL(`../../samples/bin/${name}.wasm`, import.meta.url))));
    const engine = new Engine({ layout, backends: [createNodeWorkerBackend({ url: worker.url })] });
    const c = await engine.create({ image: toolbox, cmd: ['sh', '-c', 'sleep 1; cat /tmp/f'] });
    await c.start();
    const r = await engine.exec(c.id, { cmd: ['sh', '-c', 'echo hi > /tmp/f; cat /tmp/f; exit 5'] });
    expect(r).toMatchObject({ exitCode: 5, stdout: 'hi\n' });
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    const logs = await engine.logs(c.id);
    const text: string[] = [];
    for await (const e of logs as unknown as AsyncIterable<{ data: Uint8Array }>) text.push(dec.decode(e.data));
    expect(text.join('')).toBe('hi\n');
    await c.remove();
  });
});
