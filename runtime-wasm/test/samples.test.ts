/** The bundled sample images: assembled deterministically, runnable, and the README's sandbox example. */
import { describe, it, expect } from 'vitest';
import { MemoryImageLayout, ImageStore } from '@skiff/sdk';
import { WasmSandbox, SampleImageSource, buildSample, TOOLBOX_APPLETS } from '../src/index.js';
import { createNodeWasmRuntime, readSampleProgram } from '../src/node.js';

const WASI = [{ os: 'wasip1', architecture: 'wasm' }];

describe('sample images', () => {
  it('are the same bytes on every build (same digests)', async () => {
    const a = new MemoryImageLayout();
    const b = new MemoryImageLayout();
    await buildSample(a, 'toolbox', readSampleProgram);
    await buildSample(b, 'toolbox', readSampleProgram);
    expect((await a.getRef('docker.io/skiff/toolbox:latest'))!.digest).toBe((await b.getRef('docker.io/skiff/toolbox:latest'))!.digest);
  });

  it('are provided by name only, for the WASI platform only', async () => {
    const src = new SampleImageSource(readSampleProgram);
    const layout = new MemoryImageLayout();
    expect(await src.provide('skiff/nope', WASI, layout)).toBe(false);
    expect(await src.provide('skiff/hello', [{ os: 'linux', architecture: 'amd64' }], layout)).toBe(false);
    expect(await src.provide('Not A Name', WASI, layout)).toBe(false);
    expect(await src.provide('skiff/hello', WASI, layout)).toBe(true);
    const img = await new ImageStore(layout).resolve('skiff/hello', WASI);
    expect(img.config.config?.Entrypoint).toEqual(['/hello.wasm']);
  });

  it('run in a sandbox as the README shows', async () => {
    const layout = new MemoryImageLayout();
    await new SampleImageSource(readSampleProgram).provide('skiff/toolbox', WASI, layout);
    const sandbox = await WasmSandbox.fromImage(layout, 'skiff/toolbox', { runtime: createNodeWasmRuntime() });
    const r = await sandbox.run(['sh', '-c', 'echo $RANDOM_FILE > /tmp/x; cat /tmp/x'], { env: { RANDOM_FILE: 'a' }, deterministic: true });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'a\n', stderr: '' });
    const ls = await sandbox.run(['ls', '/bin']);
    expect(ls.stdout.trim().split('\n').sort()).toEqual([...TOOLBOX_APPLETS, 'toolbox.wasm'].sort());
    const hello = await WasmSandbox.fromImage(layout, 'skiff/toolbox', { runtime: createNodeWasmRuntime() });
    expect((await hello.run(['sh', '-c', 'exit 4'])).exitCode).toBe(4);
  });
});
