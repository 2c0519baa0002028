/**
 * docker cp into a WASI container (Engine.importFiles): in-process and in
 * worker threads, created, running and exited containers, mounts, and tars
 * that try to get out of the container.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nodeFs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../sdk/src/runtime/engine.js';
import { MemoryVolumeStore } from '../../sdk/src/volumes/memory.js';
import { readTar } from '../../sdk/src/layers/tar-reader.js';
import { collect } from '../../sdk/src/content/util.js';
import type { FsLike } from '../../sdk/src/runtime/backend.js';
import { WasmBackend } from '../src/backend.js';
import { LayeredFsProvider } from '../src/fs/provider.js';
import { createNodeWorkerBackend } from '../src/worker/node.js';
import { probeImage, toolboxImage, type TestImage } from './support/images.js';
import { tarOf } from './support/tar.js';
import { buildNodeWorker } from './worker/support/build-worker.js';

const dec = new TextDecoder();


async function changedPaths(engine: Engine, id: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of readTar(await engine.exportChanges(id))) out[e.header.path.replace(/\/$/, '')] = e.header.type === 'file' ? dec.decode(await e.bytes()) : e.header.type;
  return out;
}

let image: TestImage;
let host: string;

beforeAll(async () => {
  image = await probeImage();
  host = mkdtempSync(join(tmpdir(), 'skiff-wasm-cp-'));
});
afterAll(() => rmSync(host, { recursive: true, force: true }));

describe('docker cp into a WASI container, in-process', () => {
  const volumes = new MemoryVolumeStore();
  let engine: Engine;
  beforeAll(() => {
    engine = new Engine({ layout: image.layout, backends: [new WasmBackend({ fs: new LayeredFsProvider(), hostFs: nodeFs as unknown as FsLike })], volumes });
  });

  it('writes into a created container\'s upper layer; its process reads it; the image stays as it was', async () => {
    const c = await engine.create({ image: image.name, cmd: ['read', '/etc/motd'] });
    await c.importFiles('/etc', await tarOf([[{ path: 'motd', type: 'file' }, 'replaced\n'], [{ path: 'new.d', type: 'directory', mode: 0o700 }], [{ path: 'new.d/conf', type: 'file' }, 'x=1\n']]));
    await c.start();
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    expect(await changedPaths(engine, c.id)).toMatchObject({ 'etc/motd': 'replaced\n', 'etc/new.d': 'directory', 'etc/new.d/conf': 'x=1\n' });
    const logs = await collect((await engine.logs(c.id)).pipeThrough(new TransformStream({ transform: (e, ctl) => ctl.enqueue(e.data) })));
    expect(dec.decode(logs)).toBe('replaced\n');
    await c.remove();
    expect((await engine.run({ image: image.name, cmd: ['read', '/etc/motd'], rm: true })).stdout).toBe('welcome\n');
  });

  it('takes files while the container runs and after it exited', async () => {
    const c = await engine.create({ image: image.name, cmd: ['cat'] });
    await c.start({ stdin: new ReadableStream<Uint8Array>() });
    await c.importFiles('/tmp', await tarOf([[{ path: 'live.txt', type: 'file' }, 'while running']]));
    expect(await engine.exec(c.id, { cmd: ['probe', 'read', '/tmp/live.txt'] })).toMatchObject({ exitCode: 0, stdout: 'while running' });
    await engine.kill(c.id);
    await c.wait();
    await c.importFiles('/tmp', await tarOf([[{ path: 'after.txt', type: 'file' }, 'after exit']]));
    expect(await changedPaths(engine, c.id)).toMatchObject({ 'tmp/live.txt': 'while running', 'tmp/after.txt': 'after exit' });
    await c.remove();
  });

  it('keeps every path, .. and symlink inside the container', async () => {
    const c = await engine.create({ image: image.name, cmd: ['read', '/escaped'] });
    await expect(c.importFiles('/tmp', await tarOf([[{ path: '../../../escaped', type: 'file' }, 'x']]))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // A link made by the archive that climbs past the root, then a file written through it: it lands at the container's /.
    await c.importFiles('/tmp', await tarOf([[{ path: 'up', type: 'symlink', linkname: '../../../../..' }], [{ path: 'up/escaped', type: 'file' }, 'still inside']]));
    await c.start();
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    expect((await changedPaths(engine, c.id))['escaped']).toBe('still inside');
    await c.remove();
  });

  it('a directory the container deleted comes back without the image\'s old contents', async () => {
    const toolbox = await toolboxImage(image.layout);
    const c = await engine.create({ image: toolbox, cmd: ['rm', '-r', '/etc'] });
    await c.start();
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    await c.importFiles('/', await tarOf([[{ path: 'etc', type: 'directory' }], [{ path: 'etc/new', type: 'file' }, 'new']]));
    const changes = await changedPaths(engine, c.id);
    expect(changes['etc/new']).toBe('new');
    // Whatever the export's form (an opaque directory or a whiteout), the image's file stays hidden.
    expect(changes['etc/.wh..wh..opq'] !== undefined || changes['etc/.wh.hostname'] !== undefined).toBe(true);
    expect(changes).not.toHaveProperty('etc/hostname');
    await c.remove();
  });

  it('answers NOT_FOUND and INVALID_ARGUMENT like dockerd', async () => {
    const c = await engine.create({ image: image.name });
    await expect(c.importFiles('/nope', await tarOf([[{ path: 'x', type: 'file' }, 'x']]))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.importFiles('/etc/motd', await tarOf([[{ path: 'x', type: 'file' }, 'x']]))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('extraction point is not a directory') });
    await c.remove();
  });

  it('writes under a volume or bind mount to its source; read-only ones refuse', async () => {
    const bind = join(host, 'bind');
    nodeFs.mkdirSync(bind);
    const c = await engine.create({ image: image.name, volumes: ['cpvol:/data', `${bind}:/bound`, 'rovol:/ro:ro'] });
    await c.importFiles('/', await tarOf([[{ path: 'data/in-volume', type: 'file' }, 'v'], [{ path: 'bound/on-host', type: 'file' }, 'h']]));
    const handle = await volumes.handle('cpvol');
    expect(String(handle.fs!.readFileSync(`${handle.fsRoot}/in-volume`, 'utf8'))).toBe('v');
    expect(readFileSync(join(bind, 'on-host'), 'utf8')).toBe('h');
    expect(await changedPaths(engine, c.id)).not.toHaveProperty('data/in-volume');
    await expect(c.importFiles('/ro', await tarOf([[{ path: 'x', type: 'file' }, 'x']]))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('mounted volume is marked read-only') });
    await c.remove();
    const ro = await engine.create({ image: image.name, readOnly: true, volumes: ['cpvol:/data'] });
    await expect(ro.importFiles('/tmp', await tarOf([[{ path: 'x', type: 'file' }, 'x']]))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('container rootfs is marked read-only') });
    await ro.importFiles('/data', await tarOf([[{ path: 'ok', type: 'file' }, 'ok']]));
    expect(String(handle.fs!.readFileSync(`${handle.fsRoot}/ok`, 'utf8'))).toBe('ok');
    expect(existsSync(join(host, 'x'))).toBe(false);
    await ro.remove();
  });
});

describe('docker cp into a WASI container in a worker thread', () => {
  let worker: Awaited<ReturnType<typeof buildNodeWorker>>;
  let engine: Engine;
  beforeAll(async () => {
    worker = await buildNodeWorker();
    engine = new Engine({ layout: image.layout, backends: [createNodeWorkerBackend({ url: worker.url })] });
  });
  afterAll(async () => {
    await engine?.close();
    worker?.dispose();
  });

  it('sends the tar to the worker: the guest reads it, the export has it, a second start still has it', async () => {
    const c = await engine.create({ image: image.name, cmd: ['read', '/etc/motd'] });
    await c.importFiles('/etc', await tarOf([[{ path: 'motd', type: 'file' }, 'from the host\n']]));
    const run1 = await engine.attach(c.id);
    await c.start();
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    const out = await collect(run1.pipeThrough(new TransformStream({ transform: (e, ctl) => ctl.enqueue(e.data) })));
    expect(dec.decode(out)).toBe('from the host\n');
    // docker cp OUT of an exited worker container: its changes come back from the worker.
    expect(await changedPaths(engine, c.id)).toMatchObject({ 'etc/motd': 'from the host\n' });
    await c.importFiles('/tmp', await tarOf([[{ path: 'second', type: 'file' }, '2']]));
    expect(await changedPaths(engine, c.id)).toMatchObject({ 'etc/motd': 'from the host\n', 'tmp/second': '2' });
    await c.remove();
  });

  it('copies into a running container while its guest sleeps, and reads its changes (test/worker/files.test.ts has more)', async () => {
    const c = await engine.create({ image: image.name, cmd: ['sleep', '5000'] });
    await c.start();
    await c.importFiles('/tmp', await tarOf([[{ path: 'x', type: 'file' }, 'x']]));
    expect(await changedPaths(engine, c.id)).toMatchObject({ 'tmp/x': 'x' });
    await engine.kill(c.id);
    await c.wait();
    await c.remove();
  });
});
