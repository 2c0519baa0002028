/** The wasm backend driven by the sdk's Engine: the contract as users meet it. */
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../sdk/src/runtime/engine.js';
import { WasmBackend } from '../src/backend.js';
import { LayeredFsProvider } from '../src/fs/provider.js';
import { probeImage, type TestImage } from './support/images.js';

let image: TestImage;
let engine: Engine;

beforeAll(async () => {
  image = await probeImage();
  engine = new Engine({ layout: image.layout, backends: [new WasmBackend({ fs: new LayeredFsProvider() })] });
});

describe('Engine over the wasm backend', () => {
  it('runs an image and returns exit code, stdout and stderr', async () => {
    expect(await engine.run({ image: image.name, cmd: ['stderr'], rm: true })).toMatchObject({ exitCode: 0, stdout: 'to stdout\n', stderr: 'to stderr\n' });
    expect(await engine.run({ image: image.name, cmd: ['exit', '255'], rm: true })).toMatchObject({ exitCode: 255 });
  });

  it('passes stdin and env', async () => {
    expect((await engine.run({ image: image.name, cmd: ['cat'], stdin: 'in\n', rm: true })).stdout).toBe('in\n');
    const env = (await engine.run({ image: image.name, cmd: ['env'], env: { GREETING: 'hi' }, rm: true })).stdout;
    expect(env.split('\n')).toContain('GREETING=hi');
  });

  it('execs into a running container and sees its files; kill ends the main process', async () => {
    // In-process, a guest holds the thread while it executes: the main process here
    // waits for stdin (read to EOF before it starts), so the container stays running.
    const c = await engine.create({ image: image.name, cmd: ['cat'] });
    await c.start({ stdin: new ReadableStream<Uint8Array>() });
    expect(await engine.exec(c.id, { cmd: ['probe', 'write', '/tmp/state', 'saved'] })).toMatchObject({ exitCode: 0 });
    expect(await engine.exec(c.id, { cmd: ['probe', 'read', '/tmp/state'] })).toMatchObject({ exitCode: 0, stdout: 'saved' });
    await engine.kill(c.id);
    expect(await c.wait()).toMatchObject({ exitCode: 137 });
    await c.remove();
  });

  it('records a trap as the exit status with its reason', async () => {
    const c = await engine.create({ image: image.name, cmd: ['trap'] });
    await c.start();
    const status = await c.wait();
    expect(status).toMatchObject({ exitCode: 134, error: 'wasm trap: unreachable' });
    await c.remove();
  });

  it('fails to start a missing program with NOT_FOUND', async () => {
    const c = await engine.create({ image: image.name, entrypoint: ['nope'] });
    await expect(c.start()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await c.remove();
  });

  it('docker update: a stopped container takes a new memory limit at its next start', async () => {
    const c = await engine.create({ image: image.name, cmd: ['alloc', '64'], memory: 16 << 20 });
    await c.start();
    expect(await c.wait()).toMatchObject({ exitCode: 3 });
    const saved = await engine.update(c.id, { resources: { memoryBytes: 128 << 20 }, restartPolicy: 'on-failure:2' });
    expect(saved.resources).toEqual({ memoryBytes: 128 << 20 });
    expect(saved.restartPolicy).toEqual({ name: 'on-failure', maximumRetryCount: 2 });
    await c.start();
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    await c.remove();
  });

  it('docker update: a running guest keeps its memory limit (UNSUPPORTED, record unchanged); its restart policy changes', async () => {
    const c = await engine.create({ image: image.name, cmd: ['cat'], memory: 32 << 20 });
    await c.start({ stdin: new ReadableStream<Uint8Array>() });
    const err = await engine.update(c.id, { resources: { memoryBytes: 64 << 20 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNSUPPORTED' });
    expect((err as Error).message).toMatch(/cannot change the memory limit of running container .*stop it, update it, and start it again/);
    await expect(engine.update(c.id, { resources: { cpus: 1 } })).rejects.toThrow('the wasm backend does not support CPU limits (--cpus)');
    await expect(engine.update(c.id, { resources: { memoryBytes: 4 << 20 } })).rejects.toThrow('Minimum memory limit allowed is 6MB');
    expect((await engine.update(c.id, { restartPolicy: 'always' })).restartPolicy).toEqual({ name: 'always' });
    const r = await c.inspect();
    expect(r.resources).toEqual({ memoryBytes: 32 << 20 });
    expect((await engine.update(c.id, { restartPolicy: 'no' })).restartPolicy).toBeUndefined();
    await engine.kill(c.id);
    await c.wait();
    await c.remove();
    await expect(engine.update(c.id, { restartPolicy: 'always' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses options the backend lacks, before creating anything', async () => {
    await expect(engine.create({ image: image.name, tty: true })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(engine.create({ image: image.name, cpus: 1 } as never)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});
