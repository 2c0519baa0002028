/**
 * The SDK's API client. One suite of container scenarios runs against the
 * local Engine and against DockerClient talking to `skiff daemon`: the same
 * code, the same results (ContainerRuntime is the one interface). Then what
 * only the client has: images, registry, build, archives, events, version
 * pinning, and the fetch transport over TCP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerRuntime } from '../../src/client/types.js';
import { DockerClient, splitOutput } from '../../src/client/client.js';
import { NodeTransport, connectDocker, parseDockerHost } from '../../src/client/node-transport.js';
import { FetchTransport } from '../../src/client/fetch-transport.js';
import { createNodeEngine } from '../../src/node/engine.js';
import { installNodeHasher } from '../../src/node/hasher.js';
import type { Engine } from '../../src/runtime/engine.js';
import type { LogEntry } from '../../src/runtime/logs.js';
import { TarWriter } from '../../src/layers/tar-writer.js';
import { readTar } from '../../src/layers/tar-reader.js';
import { collect } from '../../src/content/util.js';
import { HostProcessBackend } from './support/host-backend.js';
import { HOST_IMAGE, putHostImage } from './support/images.js';
import { startDaemon, type DaemonProcess } from './support/harness.js';
import { startRegistry, type RegistryServer } from '../registry/registry-server.js';

installNodeHasher();
const dec = new TextDecoder();
const enc = new TextEncoder();

async function entries(s: ReadableStream<LogEntry>): Promise<Array<{ stream: string; text: string }>> {
  const out: Array<{ stream: string; text: string }> = [];
  const reader = s.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const last = out[out.length - 1];
    // Chunking differs between transports: join neighbours of the same stream.
    if (last && last.stream === value.stream) last.text += dec.decode(value.data);
    else out.push({ stream: value.stream, text: dec.decode(value.data) });
  }
  return out;
}

function writable() {
  let text = '';
  return { stream: new WritableStream<Uint8Array>({ write: (c) => void (text += dec.decode(c)) }), text: () => text };
}

/** The scenarios every ContainerRuntime must pass alike. */
function describeRuntime(name: string, setup: () => Promise<ContainerRuntime>) {
  describe(`ContainerRuntime: ${name}`, () => {
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    let rt: ContainerRuntime;
    beforeAll(async () => {
      rt = await setup();
    });

    it('run: exit code, stdout and stderr apart, env; rm removes', async () => {
      const r = await rt.run({ image: HOST_IMAGE, cmd: ['sh', '-c', 'echo "out $V"; echo err >&2; exit 3'], env: { V: 'x' }, rm: true });
      expect(r).toMatchObject({ exitCode: 3, stdout: 'out x\n', stderr: 'err\n' });
      await expect(rt.wait(r.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('run with stdin', async () => {
      const r = await rt.run({ image: HOST_IMAGE, cmd: ['sh', '-c', 'tr a-z A-Z'], stdin: 'shout\n', rm: true });
      expect(r).toMatchObject({ exitCode: 0, stdout: 'SHOUT\n' });
    });

    it('attach before start sees all output, with each entry on its stream; logs replay it', async () => {
      const c = await rt.create({ image: HOST_IMAGE, cmd: ['sh', '-c', 'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three'] });
      const attached = await rt.attach(c.id);
      await rt.start(c.id);
      expect(await entries(attached)).toEqual([{ stream: 'stdout', text: 'one\n' }, { stream: 'stderr', text: 'two\n' }, { stream: 'stdout', text: 'three\n' }]);
      expect(await rt.wait(c.id)).toMatchObject({ exitCode: 0 });
      const logs = await entries(await rt.logs(c.id));
      expect(logs).toEqual([{ stream: 'stdout', text: 'one\n' }, { stream: 'stderr', text: 'two\n' }, { stream: 'stdout', text: 'three\n' }]);
      const tail = await entries(await rt.logs(c.id, { tail: 1 }));
      expect(tail).toEqual([{ stream: 'stdout', text: 'three\n' }]);
      const timed = (await rt.logs(c.id)).getReader();
      const first = await timed.read();
      expect(Math.abs(first.value!.time - Date.now())).toBeLessThan(60_000);
      await timed.cancel();
      await rt.remove(c.id);
    });

    it('start with stdin (created with openStdin)', async () => {
      const c = await rt.create({ image: HOST_IMAGE, cmd: ['sh', '-c', 'read line; echo "got $line"'], openStdin: true });
      const out = await rt.attach(c.id);
      await rt.start(c.id, { stdin: 'hello\n' });
      expect(await entries(out)).toEqual([{ stream: 'stdout', text: 'got hello\n' }]);
      expect(await rt.wait(c.id)).toMatchObject({ exitCode: 0 });
      await rt.remove(c.id);
    });

    it('logs follow a running container until it stops; stop and restart', async () => {
      const c = await rt.create({ image: HOST_IMAGE, cmd: ['sh', '-c', 'echo started; exec sleep 30'] });
      await rt.start(c.id);
      const follow = await rt.logs(c.id, { follow: true });
      const reader = follow.getReader();
      expect(dec.decode((await reader.read()).value!.data)).toBe('started\n');
      const stats = await rt.stats(c.id);
      expect(stats.memoryBytes).toBeGreaterThan(0);
      await rt.stop(c.id, { timeoutSec: 1 });
      expect((await reader.read()).done).toBe(true);
      expect((await rt.wait(c.id)).exitCode).toBe(143);
      await rt.restart(c.id, { timeoutSec: 0 });
      await rt.kill(c.id, 'SIGKILL');
      expect((await rt.wait(c.id)).exitCode).toBe(137);
      await rt.remove(c.id);
    });

    it('exec: collected, with stdin, and into streams', async () => {
      const c = await rt.create({ image: HOST_IMAGE, cmd: ['sleep', '30'] });
      await rt.start(c.id);
      expect(await rt.exec(c.id, { cmd: ['sh', '-c', 'echo "x=$X"; echo e >&2; exit 5'], env: ['X=1'] })).toEqual({ exitCode: 5, stdout: 'x=1\n', stderr: 'e\n' });
      expect(await rt.exec(c.id, { cmd: ['wc', '-c'], stdin: '1234' })).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^\s*4\n$/) });
      const out = writable();
      const err = writable();
      const p = await rt.execStreams(c.id, { cmd: ['sh', '-c', 'echo a; echo b >&2'] }, { stdout: out.stream, stderr: err.stream });
      expect(await p.wait()).toMatchObject({ exitCode: 0 });
      expect([out.text(), err.text()]).toEqual(['a\n', 'b\n']);
      await rt.remove(c.id, { force: true });
    });

    it('volumes', async () => {
      const v = await rt.volumes.create(`vol-${slug}`, { labels: { a: 'b' } });
      expect(v).toMatchObject({ name: `vol-${slug}`, driver: 'local', labels: { a: 'b' }, anonymous: false });
      expect((await rt.volumes.list()).map((x) => x.name)).toContain(`vol-${slug}`);
      expect((await rt.volumes.inspect(`vol-${slug}`)).mountpoint).toBe(v.mountpoint);
      await rt.volumes.remove(`vol-${slug}`);
      await expect(rt.volumes.inspect(`vol-${slug}`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('errors carry the same codes', async () => {
      await expect(rt.start('no-such-container')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(rt.create({ image: 'no/such-image:1' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const c = await rt.create({ image: HOST_IMAGE, cmd: ['sleep', '30'], name: `busy-${slug}` });
      await rt.start(c.id);
      await expect(rt.remove(c.id)).rejects.toMatchObject({ code: 'CONFLICT' });
      await expect(rt.create({ image: HOST_IMAGE, name: `busy-${slug}` })).rejects.toMatchObject({ code: 'CONFLICT' });
      await rt.remove(c.id, { force: true });
    });
  });
}

let engine: Engine;
let engineRoot: string;
let d: DaemonProcess;
let client: DockerClient;

beforeAll(async () => {
  engineRoot = mkdtempSync(join(tmpdir(), 'skiff-client-engine-'));
  engine = await createNodeEngine({ root: engineRoot, backends: [new HostProcessBackend()], pull: false });
  await putHostImage(engine.layout);
  d = await startDaemon({ hosts: undefined });
  client = connectDocker(d.url);
});

afterAll(async () => {
  await engine?.close();
  if (engineRoot) rmSync(engineRoot, { recursive: true, force: true });
  client?.close();
  if (d) {
    await d.stop();
    rmSync(d.root, { recursive: true, force: true });
  }
});

describeRuntime('local Engine', async () => engine);
describeRuntime('DockerClient to skiff daemon', async () => client);

describe('DockerClient', () => {
  it('negotiates the API version, or uses a pinned one', async () => {
    expect(await client.apiVersion()).toBe('1.50');
    const pinned = new DockerClient(new NodeTransport(parseDockerHost(d.url)), { apiVersion: '1.41' });
    expect((await pinned.version()).ApiVersion).toBe('1.50');
    expect(await pinned.ping()).toBe('OK');
    const tooNew = new DockerClient(new NodeTransport(parseDockerHost(d.url)), { apiVersion: '1.99' });
    await expect(tooNew.info()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('too new') });
    pinned.close();
    tooNew.close();
  });

  it('says clearly when no daemon answers', async () => {
    const nobody = connectDocker(`unix://${join(d.root, 'nobody.sock')}`);
    await expect(nobody.info()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('is it running?') });
  });

  it('images: list, inspect, tag, save, remove, load', async () => {
    const list = await client.images.list();
    expect(list.flatMap((i) => i.RepoTags ?? [])).toContain(HOST_IMAGE);
    const img = await client.images.inspect(HOST_IMAGE);
    expect(img).toMatchObject({ Os: 'linux', RepoTags: [HOST_IMAGE] });
    await client.images.tag(HOST_IMAGE, 'client/copy:2');
    const archive = await collect(await client.images.save(['client/copy:2']));
    const names: string[] = [];
    for await (const e of readTar(new ReadableStream({ start: (c) => { c.enqueue(archive); c.close(); } }))) names.push(e.header.path);
    expect(names).toContain('manifest.json');
    expect(await client.images.remove('client/copy:2')).toEqual([{ Untagged: 'client/copy:2' }]);
    await expect(client.images.inspect('client/copy:2')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await client.images.load(archive)).toEqual(['client/copy:2']);
    expect((await client.images.inspect('client/copy:2')).Id).toBe(img.Id);
  });

  it('archives: a file of the image and one the container wrote', async () => {
    const r = await client.run({ image: HOST_IMAGE, cmd: ['sh', '-c', 'echo made > made.txt'], name: 'archive-src' });
    expect(r.exitCode).toBe(0);
    const motd = await client.getArchive('archive-src', '/etc/motd');
    expect(motd.stat).toMatchObject({ name: 'motd', size: 31 });
    const files: Record<string, string> = {};
    for await (const e of readTar(motd.tar)) files[e.header.path] = dec.decode(await e.bytes());
    expect(files).toEqual({ motd: 'welcome to the host test image\n' });
    const made = await client.getArchive('archive-src', '/made.txt');
    for await (const e of readTar(made.tar)) expect(dec.decode(await e.bytes())).toBe('made\n');
    const link = await client.getArchive('archive-src', '/etc/link-to-motd');
    expect(link.stat.linkTarget).toBe('motd');
    await link.tar.cancel();
    await client.remove('archive-src');
  });

  it('build from a context tar', async () => {
    const w = new TarWriter();
    const df = enc.encode(`FROM ${HOST_IMAGE}\nENV BUILT=1\nONBUILD RUN echo child\nCMD ["sh", "-c", "echo built=$BUILT"]\n`);
    void w.add({ path: 'Dockerfile', type: 'file', mode: 0o644, uid: 0, gid: 0, size: df.length, mtime: 0 }, df).then(() => w.finish());
    const steps: string[] = [];
    const { id } = await client.build(w.readable, { tags: ['client/built:1'], onProgress: (m) => m.stream && steps.push(m.stream) });
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(steps.join('')).toContain('Step 4/4 : CMD');
    expect(await client.run({ image: 'client/built:1', rm: true })).toMatchObject({ stdout: 'built=1\n' });
    expect((await client.images.inspect('client/built:1')).Config).toMatchObject({ OnBuild: ['RUN echo child'] });
  });

  it('events stream what happens', async () => {
    const since = Date.now() / 1000 - 1;
    const r = await client.run({ image: HOST_IMAGE, cmd: ['true'], rm: true, name: 'evented-client' });
    const events = await client.events({ since, until: Date.now() / 1000 + 0.5, filters: { container: ['evented-client'] } });
    const actions: string[] = [];
    for await (const e of events as unknown as AsyncIterable<{ Action: string; Actor: { ID: string } }>) {
      expect(e.Actor.ID).toBe(r.id);
      actions.push(e.Action);
    }
    expect(actions).toEqual(['create', 'start', 'die', 'destroy']);
  });

  it('splitOutput gives separate stdout and stderr streams', async () => {
    const c = await client.create({ image: HOST_IMAGE, cmd: ['sh', '-c', 'echo o1; echo e1 >&2; echo o2'] });
    const { stdout, stderr } = splitOutput(await client.attach(c.id));
    await client.start(c.id);
    const [o, e] = await Promise.all([collect(stdout), collect(stderr)]);
    expect([dec.decode(o), dec.decode(e)]).toEqual(['o1\no2\n', 'e1\n']);
    await client.remove(c.id);
  });

  describe('pull and push', () => {
    let reg: RegistryServer;
    beforeAll(async () => {
      reg = await startRegistry();
    });
    afterAll(async () => {
      await reg?.stop();
    });

    it('pushes and pulls with progress', async () => {
      const name = `${reg.domain}/client/app:1`;
      await client.images.tag(HOST_IMAGE, name);
      const pushed: string[] = [];
      const p = await client.images.push(name, { onProgress: (m) => m.status && pushed.push(m.status) });
      expect(p.digest).toMatch(/^sha256:/);
      expect(pushed).toContain('Pushed');
      await client.images.remove(name);
      const pulled: string[] = [];
      const r = await client.images.pull(name, { onProgress: (m) => m.status && pulled.push(m.status) });
      expect(r.digest).toBe(p.digest);
      // The layers are still in the store (the source image has them), so no download.
      expect(pulled).toContain('Already exists');
      await expect(client.images.pull(`${reg.domain}/client/none:1`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });
});

describe('DockerClient over fetch (TCP)', () => {
  let tcp: DaemonProcess;
  beforeAll(async () => {
    tcp = await startDaemon({ hosts: ['tcp://127.0.0.1:0'] });
  });
  afterAll(async () => {
    await tcp?.stop();
    if (tcp) rmSync(tcp.root, { recursive: true, force: true });
  });

  it('runs, logs and execs without a hijack (output only)', async () => {
    expect(tcp.url).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const c = new DockerClient(new FetchTransport(tcp.url.replace('tcp://', 'http://')));
    expect(await c.run({ image: HOST_IMAGE, cmd: ['sh', '-c', 'echo via-fetch; echo e >&2'], rm: true })).toMatchObject({ exitCode: 0, stdout: 'via-fetch\n', stderr: 'e\n' });
    const box = await c.create({ image: HOST_IMAGE, cmd: ['sleep', '30'] });
    await c.start(box.id);
    expect(await c.exec(box.id, { cmd: ['echo', 'exec-fetch'] })).toEqual({ exitCode: 0, stdout: 'exec-fetch\n', stderr: '' });
    await expect(c.exec(box.id, { cmd: ['cat'], stdin: 'x' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await c.remove(box.id, { force: true });
  });
});
