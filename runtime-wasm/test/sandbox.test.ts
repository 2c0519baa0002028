/** WasmSandbox: a fresh container per test from a cached image. */
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmSandbox } from '../src/sandbox.js';
import { WasmRuntime } from '../src/runtime.js';
import { LayeredFsProvider } from '../src/fs/provider.js';
import { probeImage, toolboxImage, type TestImage } from './support/images.js';

let image: TestImage;
let runtime: WasmRuntime;
let sandbox: WasmSandbox;

beforeAll(async () => {
  image = await probeImage();
  runtime = new WasmRuntime({ fs: new LayeredFsProvider() });
  sandbox = await WasmSandbox.fromImage(image.layout, image.name, { runtime });
});

describe('WasmSandbox', () => {
  it('runs the image default command, and args replace its Cmd', async () => {
    expect(await sandbox.run()).toMatchObject({ exitCode: 0, stdout: '0=probe\n1=args\n', stderr: '' });
    expect(await sandbox.run(['exit', '4'])).toMatchObject({ exitCode: 4, stdout: 'exiting\n' });
    expect(await sandbox.run(['/bin/probe.wasm', 'args'], { entrypoint: [] })).toMatchObject({ stdout: '0=/bin/probe.wasm\n1=args\n' });
  });

  it('merges env over the image env and takes stdin', async () => {
    const r = await sandbox.run(['env'], { env: { A: '1' } });
    expect(r.stdout.split('\n')).toEqual(['PATH=/usr/local/bin:/usr/bin:/bin', 'A=1', '']);
    expect((await sandbox.run(['cat'], { stdin: 'piped' })).stdout).toBe('piped');
  });

  it('gives every run a fresh container; a session keeps files between runs', async () => {
    expect((await sandbox.run(['write', '/tmp/x', 'one'])).exitCode).toBe(0);
    expect((await sandbox.run(['read', '/tmp/x'])).stdout).toMatch(/No such file/);
    const s = sandbox.session();
    await s.run(['write', '/tmp/x', 'kept']);
    expect((await s.run(['read', '/tmp/x'])).stdout).toBe('kept');
  });

  it('writes given files into the container before the run', async () => {
    const r = await sandbox.run(['read', '/data/in/file.txt'], { files: { '/data/in/file.txt': 'hello file' } });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'hello file' });
  });

  it('is deterministic on request', async () => {
    const a = await sandbox.run(['now'], { deterministic: true });
    const b = await sandbox.run(['now'], { deterministic: true });
    expect(b.stdout).toBe(a.stdout);
    expect((await sandbox.run(['now'])).stdout).not.toBe(a.stdout);
  });

  it('gives files fixed times in deterministic mode', async () => {
    const toolbox = await WasmSandbox.fromImage(image.layout, await toolboxImage(image.layout), { runtime });
    const modify = async () => /Modify: (.*)/.exec((await toolbox.run(['sh', '-c', 'touch /tmp/f; stat /tmp/f'], { deterministic: { timeNs: 1_600_000_000_000_000_000n } })).stdout)?.[1];
    const a = await modify();
    expect(a).toMatch(/2020/);
    expect(await modify()).toBe(a);
  });

  it('reports traps, time limits and memory limits in the result', async () => {
    expect(await sandbox.run(['trap'])).toMatchObject({ exitCode: 134, error: 'wasm trap: unreachable' });
    expect(await sandbox.run(['sleep', '5000'], { timeoutMs: 50 })).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
    expect(await sandbox.run(['alloc', '32'], { memoryBytes: 8 << 20 })).toMatchObject({ exitCode: 3 });
  });

  it('batches output', async () => {
    const r = await sandbox.run(['lines', '10000']);
    expect(r.stdout.split('\n').length).toBe(10001);
    expect(r.hostWrites).toBeLessThanOrEqual(4);
  });

  it('compiles once and indexes each layer once across many runs and sandboxes', async () => {
    const compiles = runtime.modules.compiles, indexed = runtime.layersIndexed;
    const again = await WasmSandbox.fromImage(image.layout, image.name, { runtime });
    for (let i = 0; i < 20; i++) await again.run(['exit', '0']);
    expect(runtime.modules.compiles).toBe(compiles);
    expect(runtime.layersIndexed).toBe(indexed);
  });
});
