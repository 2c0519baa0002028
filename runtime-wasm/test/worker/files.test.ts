/**
 * docker cp into and out of a RUNNING container in worker mode: the copy and
 * the export are served inside the main guest's blocked host call (a sleep),
 * like exec; a guest that never blocks holds them until the host gives up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../sdk/src/runtime/engine.js';
import { MemoryImageLayout } from '../../../sdk/src/content/memory.js';
import { readTar } from '../../../sdk/src/layers/tar-reader.js';
import { bytesStream, collect } from '../../../sdk/src/content/util.js';
import type { ContainerSpec, Stdio } from '../../../sdk/src/runtime/backend.js';
import { createNodeWorkerBackend, nodeWorkerSpawner } from '../../src/worker/node.js';
import { WorkerWasmBackend } from '../../src/worker/backend.js';
import { createClaim, giveUpClaim, takeClaim } from '../../src/worker/requests.js';
import { toolboxImage } from '../support/images.js';
import { tarOf } from '../support/tar.js';
import { buildNodeWorker } from './support/build-worker.js';
import { spinImage } from './support/images.js';

const dec = new TextDecoder();
let worker: Awaited<ReturnType<typeof buildNodeWorker>>;

beforeAll(async () => {
  worker = await buildNodeWorker();
});
afterAll(() => worker?.dispose());

const tar = async (entries: Parameters<typeof tarOf>[0]) => bytesStream(await tarOf(entries));

async function changes(stream: ReadableStream<Uint8Array>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of readTar(stream)) out[e.header.path.replace(/\/$/, '')] = e.header.type === 'file' ? dec.decode(await e.bytes()) : e.header.type;
  return out;
}

/** Output thrown away; `first` resolves at the guest's first output (it runs). */
function quiet(): { stdio: Stdio; first: Promise<void> } {
  let seen!: () => void;
  const first = new Promise<void>((r) => (seen = r));
  return { stdio: { stdout: new WritableStream({ write: () => seen() }), stderr: new WritableStream() }, first };
}

describe('docker cp with a running container in worker mode', () => {
  let layout: MemoryImageLayout;
  let toolbox: string;
  let engine: Engine;
  beforeAll(async () => {
    layout = new MemoryImageLayout();
    toolbox = await toolboxImage(layout);
    engine = new Engine({ layout, backends: [createNodeWorkerBackend({ url: worker.url })] });
  });
  afterAll(() => engine?.close());

  it('copies a file in while the guest sleeps; the guest then reads it', async () => {
    const c = await engine.create({ image: toolbox, cmd: ['sh', '-c', 'sleep 2; cat /tmp/f /etc/new/g'] });
    const logs = await engine.attach(c.id);
    await c.start();
    await c.importFiles('/tmp', await tar([[{ path: 'f', type: 'file' }, 'copied in\n']]));
    await c.importFiles('/etc', await tar([[{ path: 'new', type: 'directory', mode: 0o755 }], [{ path: 'new/g', type: 'file' }, 'and g\n']]));
    // Served in the sleep, not after it: the guest's cat, after the sleep, reads both files.
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    const out = await collect(logs.pipeThrough(new TransformStream({ transform: (e, ctl) => { if (e.stream === 'stdout') ctl.enqueue(e.data); } })));
    expect(dec.decode(out)).toBe('copied in\nand g\n');
    await c.remove();
  });

  it('exec sees the copy; the changes come out while it runs, with what exec wrote; the extraction rules hold', async () => {
    const c = await engine.create({ image: toolbox, cmd: ['sh', '-c', 'sleep 30'] });
    await c.start();
    await c.importFiles('/tmp', await tar([[{ path: 'f', type: 'file' }, 'for exec\n']]));
    expect(await engine.exec(c.id, { cmd: ['cat', '/tmp/f'] })).toMatchObject({ exitCode: 0, stdout: 'for exec\n' });
    expect(await engine.exec(c.id, { cmd: ['sh', '-c', 'echo made > /tmp/m'] })).toMatchObject({ exitCode: 0 });
    expect(await changes(await engine.exportChanges(c.id))).toMatchObject({ tmp: 'directory', 'tmp/f': 'for exec\n', 'tmp/m': 'made\n' });
    // The same rules as a stopped container: a missing destination, an entry that climbs out.
    await expect(c.importFiles('/nowhere', await tar([[{ path: 'x', type: 'file' }, 'x']]))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.importFiles('/tmp', await tar([[{ path: '../../x', type: 'file' }, 'x']]))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(c.importFiles('/tmp', await tar([[{ path: 'm', type: 'directory' }]]), { noOverwriteDirNonDir: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('cannot overwrite non-directory') });
    // Still in its sleep: the kill ends it.
    await engine.kill(c.id);
    expect(await c.wait()).toMatchObject({ exitCode: 137 });
    await c.remove();
  });
});

describe('docker cp with a running container that never blocks, or without a synchronous receive', () => {
  let image: Awaited<ReturnType<typeof spinImage>>;
  let n = 0;
  beforeAll(async () => {
    image = await spinImage();
  });
  const spec = (args: string[]): ContainerSpec => ({ id: `cp${++n}`, image: image.spec, process: { args: ['/bin/spin', ...args], env: [], cwd: '/' }, mounts: [] });

  it('gives up with DEADLINE_EXCEEDED when the main process computes without blocking', async () => {
    const impatient = createNodeWorkerBackend({ url: worker.url, execWaitMs: 300 });
    await impatient.init({ content: image.layout });
    const c = await impatient.create(spec(['spin']));
    const io = quiet();
    await c.start(io.stdio);
    await io.first;
    const t0 = performance.now();
    await expect(c.importFiles!('/tmp', await tar([[{ path: 'x', type: 'file' }, 'x']]))).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', message: expect.stringContaining('it computes') });
    await expect(collect(c.exportChanges())).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(performance.now() - t0).toBeLessThan(15_000); // the guest never blocks: without the limit, forever
    await c.kill();
    expect((await c.wait()).exitCode).toBe(137);
    await c.remove();
  });

  it('refuses with CONFLICT while it runs where the worker cannot take a request while blocked (browsers)', async () => {
    const node = nodeWorkerSpawner({ url: worker.url });
    const b = new WorkerWasmBackend({ spawn: Object.assign((l: Parameters<typeof node>[0]) => node(l), { hostFs: true }) });
    await b.init({ content: image.layout });
    const c = await b.create(spec(['tick', '2', '2000']));
    const io = quiet();
    await c.start(io.stdio);
    await io.first;
    await expect(c.importFiles!('/tmp', await tar([[{ path: 'x', type: 'file' }, 'x']]))).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('while it runs') });
    await expect(collect(c.exportChanges())).rejects.toMatchObject({ code: 'CONFLICT' });
    await c.kill();
    await c.wait();
    await c.remove();
  });

  it('a copy the host gave up on never runs, and one the worker took is waited for', () => {
    const given = createClaim();
    expect(giveUpClaim(given)).toBe(true);
    expect(takeClaim(given)).toBe(false);
    const taken = createClaim();
    expect(takeClaim(taken)).toBe(true);
    expect(giveUpClaim(taken)).toBe(false);
  });
});
