/**
 * WasmBackend against the Backend contract, with images built in memory and
 * the test double of the container file system (test/support/memory-fs.ts).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { WasmBackend } from '../src/backend.js';
import { WasmRuntime } from '../src/runtime.js';
import { LayeredFsProvider } from '../src/fs/provider.js';
import { probeImage, type TestImage } from './support/images.js';
import type { ContainerSpec, Stdio } from '../../sdk/src/runtime/backend.js';

const dec = new TextDecoder();

function capture() {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  let writes = 0;
  const sink = (into: Uint8Array[]) => new WritableStream<Uint8Array>({ write: (c) => void (writes++, into.push(c)) });
  return {
    stdio: (stdin?: string): Stdio => ({
      stdout: sink(out),
      stderr: sink(err),
      ...(stdin !== undefined ? { stdin: new ReadableStream({ start: (c) => { c.enqueue(new TextEncoder().encode(stdin)); c.close(); } }) } : {}),
    }),
    stdout: () => out.map((c) => dec.decode(c)).join(''),
    stderr: () => err.map((c) => dec.decode(c)).join(''),
    writes: () => writes,
  };
}

let image: TestImage;
let backend: WasmBackend;
let n = 0;

function spec(args: string[], extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    id: `c${++n}`,
    image: image.spec,
    process: { args, env: ['PATH=/usr/local/bin:/usr/bin:/bin'], cwd: '/' },
    mounts: [],
    ...extra,
  };
}

async function runIn(s: ContainerSpec, stdin?: string) {
  const c = await backend.create(s);
  const io = capture();
  await c.start(io.stdio(stdin));
  const status = await c.wait();
  return { c, status, stdout: io.stdout(), stderr: io.stderr(), io };
}

beforeEach(async () => {
  image = await probeImage();
  backend = new WasmBackend({ fs: new LayeredFsProvider() });
  await backend.init({ content: image.layout });
});

describe('WasmBackend', () => {
  it('describes itself: wasip1/wasm, exec and memory limits, no signals, no bind mounts without a host fs', () => {
    expect(backend.name).toBe('wasm');
    expect(backend.platforms).toEqual([{ os: 'wasip1', architecture: 'wasm' }]);
    expect(backend.capabilities).toMatchObject({ signals: false, exec: true, tty: false, bindMounts: false, memoryLimit: true, cpuLimit: false, pidsLimit: false, users: false, hostname: false, network: false });
    expect(new WasmBackend({ fs: new LayeredFsProvider(), hostFs: {} as never }).capabilities.bindMounts).toBe(true);
  });

  it('runs a program found on PATH through an absolute symlink, with its args and env', async () => {
    const r = await runIn(spec(['probe', 'args', 'x y']));
    expect(r.status).toEqual({ exitCode: 0 });
    expect(r.stdout).toBe('0=probe\n1=args\n2=x y\n');
    expect(r.stderr).toBe('');
  });

  it('runs a program by absolute and by relative path, relative to the working directory', async () => {
    expect((await runIn(spec(['/bin/probe.wasm', 'exit', '7']))).status.exitCode).toBe(7);
    expect((await runIn(spec(['./probe.wasm', 'exit', '8'], { process: { args: ['./probe.wasm', 'exit', '8'], env: [], cwd: '/bin' } }))).status.exitCode).toBe(8);
    expect((await runIn(spec(['../bin/probe.wasm', 'exit', '9'], { process: { args: ['../bin/probe.wasm', 'exit', '9'], env: [], cwd: '/etc' } }))).status.exitCode).toBe(9);
  });

  it('runs a #! script under its interpreter', async () => {
    const r = await runIn(spec(['hello.sh', 'more']));
    expect(r.stdout).toBe('0=/usr/bin/probe\n1=args\n2=/bin/hello.sh\n3=more\n');
  });

  it('fails start with NOT_FOUND for a missing program and PERMISSION_DENIED for what cannot run', async () => {
    const missing = await backend.create(spec(['no-such-program']));
    await expect(missing.start(capture().stdio())).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'exec: "no-such-program": executable file not found in $PATH' });
    const dir = await backend.create(spec(['/etc']));
    await expect(dir.start(capture().stdio())).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    const text = await backend.create(spec(['/etc/motd']));
    await expect(text.start(capture().stdio())).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringContaining('exec format error') });
  });

  it('feeds stdin, read to EOF before the guest starts', async () => {
    expect((await runIn(spec(['probe', 'cat']), 'hello\nworld\n')).stdout).toBe('hello\nworld\n');
  });

  it('indexes each layer once and compiles a program once for every container of the image', async () => {
    const runtime = backend.runtime;
    for (let i = 0; i < 3; i++) expect((await runIn(spec(['probe', 'exit', String(i)]))).status.exitCode).toBe(i);
    expect(runtime.layersIndexed).toBe(2);
    expect(runtime.modules.compiles).toBe(1);
  });

  it('shares the caches with another backend on the same runtime', async () => {
    await runIn(spec(['probe', 'args']));
    const other = new WasmBackend({ runtime: backend.runtime });
    await other.init({ content: image.layout });
    const c = await other.create(spec(['probe', 'args']));
    await c.start(capture().stdio());
    expect((await c.wait()).exitCode).toBe(0);
    expect(backend.runtime.modules.compiles).toBe(1);
    expect(backend.runtime.layersIndexed).toBe(2);
  });

  it('execs another program in the same container file system', async () => {
    const { c } = await runIn(spec(['probe', 'write', '/tmp/note', 'from main']));
    const io = capture();
    const p = await c.exec({ args: ['probe', 'read', '/tmp/note'], env: ['PATH=/usr/bin'], cwd: '/' }, io.stdio());
    expect(await p.wait()).toEqual({ exitCode: 0 });
    expect(io.stdout()).toBe('from main');
  });

  it('keeps the writable layer across runs and starts again after an exit', async () => {
    const c = await backend.create(spec(['probe', 'write', '/tmp/a', 'one']));
    await c.start(capture().stdio());
    expect((await c.wait()).exitCode).toBe(0);
    await c.start(capture().stdio());
    expect((await c.wait()).exitCode).toBe(0);
    const io = capture();
    await (await c.exec({ args: ['probe', 'ls', '/tmp'], env: [], cwd: '/' }, io.stdio())).wait();
    expect(io.stdout().split('\n').sort()).toEqual(['', '.', '..', 'a']);
  });

  it('gives each container its own writable layer', async () => {
    await runIn(spec(['probe', 'write', '/etc/motd', 'changed']));
    expect((await runIn(spec(['probe', 'read', '/etc/motd']))).stdout).toBe('welcome\n');
  });

  it('reports a trap as exit 134 with the reason', async () => {
    const r = await runIn(spec(['probe', 'trap']));
    expect(r.status).toEqual({ exitCode: 134, error: 'wasm trap: unreachable' });
    expect(r.stdout).toBe('before trap\n');
  });

  it('kills a run that has not started executing; only SIGKILL exists', async () => {
    const c = await backend.create(spec(['probe', 'args']));
    await c.start(capture().stdio());
    await expect(c.kill('SIGTERM')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await c.kill();
    expect(await c.wait()).toEqual({ exitCode: 137, signal: 'SIGKILL' });
    await c.kill(); // after exit: nothing to do
  });

  it('ends a run at its time limit (checked at syscalls in-process)', async () => {
    const t0 = performance.now();
    const r = await runIn(spec(['probe', 'spin', '3000000'], { timeoutMs: 150 }));
    expect(r.status).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
    expect(r.status.error).toMatch(/time limit/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('cuts a sleep at the time limit', async () => {
    const t0 = performance.now();
    const r = await runIn(spec(['probe', 'sleep', '10000'], { timeoutMs: 100 }));
    expect(r.status.exitCode).toBe(137);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('counts waiting for stdin against the time limit', async () => {
    const c = await backend.create(spec(['probe', 'cat'], { timeoutMs: 80 }));
    await c.start({ ...capture().stdio(), stdin: new ReadableStream<Uint8Array>() });
    expect(await c.wait()).toEqual({ exitCode: 137, signal: 'SIGKILL', error: 'the run passed its time limit' });
  });

  it('caps linear memory: allocations past the limit fail inside the guest', async () => {
    const limited = await runIn(spec(['probe', 'alloc', '64'], { resources: { memoryBytes: 16 << 20 } }));
    expect(limited.status.exitCode).toBe(3);
    const got = Number(/allocated (\d+) MiB/.exec(limited.stdout)![1]);
    expect(got).toBeGreaterThan(8);
    expect(got).toBeLessThan(16);
    const stats = await limited.c.stats();
    expect(stats.memoryLimitBytes).toBe(16 << 20);
    expect(stats.memoryBytes).toBeLessThanOrEqual(16 << 20);
    expect(stats.memoryBytes).toBeGreaterThan(8 << 20);
    const free = await runIn(spec(['probe', 'alloc', '64']));
    expect(free.stdout).toBe('allocated 64 MiB\n');
    expect((await free.c.stats()).memoryBytes).toBeGreaterThan(64 << 20);
  });

  it('refuses a memory limit below what the program needs to start', async () => {
    const c = await backend.create(spec(['probe', 'args'], { resources: { memoryBytes: 64 << 10 } }));
    await expect(c.start(capture().stdio())).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
  });

  it('runs deterministically when the spec asks', async () => {
    const a = await runIn(spec(['probe', 'now'], { deterministic: { seed: 3 } }));
    const b = await runIn(spec(['probe', 'now'], { deterministic: { seed: 3 } }));
    expect(a.stdout).toMatch(/^realtime=/);
    expect(b.stdout).toBe(a.stdout);
  });

  it('keeps the order of writes across stdout and stderr while batching', async () => {
    const c = await backend.create(spec(['probe', 'stderr']));
    const order: string[] = [];
    const sink = (name: string) => new WritableStream<Uint8Array>({ write: (chunk) => void order.push(`${name}:${dec.decode(chunk)}`) });
    await c.start({ stdout: sink('out'), stderr: sink('err') });
    await c.wait();
    expect(order).toEqual(['err:to stderr\n', 'out:to stdout\n']);
  });

  it('batches output into few stream writes', async () => {
    const r = await runIn(spec(['probe', 'lines', '10000']));
    expect(r.stdout.split('\n').length).toBe(10001);
    expect(r.io.writes()).toBeLessThanOrEqual(4);
  });

  it('refuses what it cannot do instead of ignoring it', async () => {
    const cases: Array<[Partial<ContainerSpec>, RegExp]> = [
      [{ resources: { cpus: 1 } }, /CPU limits/],
      [{ resources: { pidsLimit: 10 } }, /process limits/],
      [{ hostname: 'x' }, /hostname/],
      [{ network: 'host' }, /network host/],
      [{ privileged: true }, /privileged/],
      [{ capAdd: ['NET_ADMIN'] }, /cap-add/],
      [{ seccomp: 'unconfined' }, /seccomp=unconfined/],
      [{ unmaskSystemPaths: true }, /systempaths=unconfined/],
      [{ process: { args: ['probe'], env: [], cwd: '/', tty: true } }, /terminal/],
      [{ process: { args: ['probe'], env: [], cwd: '/', user: '1000' } }, /another user/],
      [{ mounts: [{ type: 'bind', source: '/tmp', target: '/mnt', readOnly: false }] }, /bind mounts/],
    ];
    for (const [extra, why] of cases) {
      await expect(backend.create(spec(['probe'], extra)), String(why)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(why) });
    }
    const root = await backend.create(spec(['probe', 'exit', '0'], { process: { args: ['probe', 'exit', '0'], env: [], cwd: '/', user: 'root' } }));
    await root.start(capture().stdio());
    expect((await root.wait()).exitCode).toBe(0);
  });

  it('removes only a container that is not running', async () => {
    const c = await backend.create(spec(['probe', 'args']));
    await c.start(capture().stdio());
    await expect(c.remove()).rejects.toMatchObject({ code: 'CONFLICT' });
    await c.wait();
    await c.remove();
    await expect(c.start(capture().stdio())).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
  });

  it('mounts a tmpfs', async () => {
    const r = await runIn(spec(['probe', 'write', '/scratch/f', 'x'], { mounts: [{ type: 'tmpfs', target: '/scratch', readOnly: false }] }));
    expect(r.status.exitCode).toBe(0);
  });
});

describe('WasmRuntime', () => {
  it('is shared state: a new backend over it compiles nothing again', async () => {
    const runtime = new WasmRuntime({ fs: new LayeredFsProvider() });
    const a = new WasmBackend({ runtime });
    await a.init({ content: image.layout });
    const c = await a.create(spec(['probe', 'args']));
    await c.start(capture().stdio());
    await c.wait();
    expect(runtime.modules.compiles).toBe(1);
  });
});
