/**
 * HttpImageLayout against a static server (Node's fetch): an OCI layout as
 * `skiff save --format oci-dir` writes it (the demo's images, exported by the
 * same code), read on demand, verified by digest, with the page's own writes
 * kept beside it.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../sdk/src/runtime/engine.js';
import { ImageStore } from '../../../sdk/src/image/store.js';
import { WASI_PLATFORM } from '../../../sdk/src/image/platform.js';
import { WasmBackend } from '../../src/backend.js';
import { LayeredFsProvider } from '../../src/fs/provider.js';
import { HttpImageLayout } from '../../src/browser/http-layout.js';
import { buildDemoImages } from '../../demo/build.js';

let dir: string;
let exported: string[];
let server: Server;
let base: string;
const requests: string[] = [];
/** Paths the server answers with altered bytes. */
const tamper = new Map<string, (b: Buffer) => Buffer>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-http-layout-'));
  exported = await buildDemoImages(dir);
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}`);
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir)) return void res.writeHead(403).end();
    let body: Buffer;
    try {
      if (!statSync(file).isFile()) throw new Error('dir');
      body = readFileSync(file);
    } catch {
      return void res.writeHead(404).end();
    }
    const t = tamper.get(path);
    if (t) body = t(body);
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  base = `http://127.0.0.1:${addr.port}/`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const blobGets = () => requests.filter((r) => r.startsWith('GET /blobs/'));

describe('HttpImageLayout', () => {
  it('lists the names of index.json and resolves an image without fetching its layers', async () => {
    const layout = new HttpImageLayout(base);
    const names = (await layout.listRefs()).map((r) => r.name).sort();
    expect(names).toEqual([...exported].sort());
    expect(names).toEqual(expect.arrayContaining(['docker.io/demo/runaway:latest', 'docker.io/skiff/hello:latest', 'docker.io/skiff/toolbox:latest']));
    requests.length = 0;
    const img = await new ImageStore(layout).resolve('skiff/toolbox', [WASI_PLATFORM]);
    expect(img.manifest.layers).toHaveLength(2);
    // The manifest and the config, nothing else.
    expect(blobGets()).toEqual([`GET /blobs/sha256/${img.manifestDescriptor.digest.slice(7)}`, `GET /blobs/sha256/${img.id.slice(7)}`]);
    // Sizes come from the descriptors: no request for info().
    requests.length = 0;
    expect(await layout.info(img.manifest.layers[1]!.digest)).toEqual({ digest: img.manifest.layers[1]!.digest, size: img.manifest.layers[1]!.size });
    expect(requests).toEqual([]);
  });

  it("runs a container, fetching that image's layers on first use only, once", async () => {
    const layout = new HttpImageLayout(base);
    const engine = new Engine({ layout, backends: [new WasmBackend({ fs: new LayeredFsProvider() })] });
    requests.length = 0;
    const r = await engine.run({ image: 'skiff/toolbox', cmd: ['sh', '-c', 'echo over http; cat /etc/os-release'], rm: true });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'over http\nNAME="skiff samples"\nID=skiff\n' });
    const img = await new ImageStore(layout).resolve('skiff/toolbox', [WASI_PLATFORM]);
    const fetched = new Set(layout.downloads);
    for (const l of img.manifest.layers) expect(fetched.has(l.digest)).toBe(true);
    const hello = await new ImageStore(layout).resolve('skiff/hello', [WASI_PLATFORM]);
    expect(fetched.has(hello.manifest.layers[0]!.digest)).toBe(false);
    const before = blobGets().length;
    await engine.run({ image: 'skiff/toolbox', cmd: ['true'], rm: true });
    expect(blobGets().length).toBe(before);
  });

  it('refuses a blob whose bytes do not match its digest, and keeps nothing of it', async () => {
    const layout = new HttpImageLayout(base);
    const img = await new ImageStore(layout).resolve('skiff/hello', [WASI_PLATFORM]);
    const layer = img.manifest.layers[0]!;
    const path = `/blobs/sha256/${layer.digest.slice(7)}`;
    tamper.set(path, (b) => { const c = Buffer.from(b); c[c.length - 1] ^= 0xff; return c; });
    try {
      await expect(layout.readBytes(layer.digest)).rejects.toMatchObject({ code: 'DATA_LOSS', message: expect.stringContaining('corrupt') });
      const engine = new Engine({ layout, backends: [new WasmBackend({ fs: new LayeredFsProvider() })] });
      await expect(engine.run({ image: 'skiff/hello', rm: true })).rejects.toMatchObject({ code: 'DATA_LOSS' });
      tamper.set(path, (b) => b.subarray(0, b.length - 10));
      await expect(layout.readBytes(layer.digest)).rejects.toMatchObject({ code: 'DATA_LOSS', message: expect.stringContaining('bytes') });
    } finally {
      tamper.delete(path);
    }
    // Fixed on the server: read again, verified, kept.
    expect((await layout.readBytes(layer.digest)).length).toBe(layer.size);
    // Four downloads: the corrupt one, the run's retry, the truncated one, the good one.
    expect(layout.downloads.filter((d) => d === layer.digest)).toHaveLength(4);
  });

  it("keeps the page's own names and blobs beside the server's, which it never changes", async () => {
    const layout = new HttpImageLayout(base);
    const store = new ImageStore(layout);
    const img = await store.resolve('skiff/hello', [WASI_PLATFORM]);
    await layout.setRef('mine/hello:v1', img.target);
    expect((await layout.listRefs()).map((r) => r.name)).toContain('mine/hello:v1');
    expect(await layout.deleteRef('docker.io/skiff/toolbox:latest')).toBe(true);
    expect(await layout.getRef('docker.io/skiff/toolbox:latest')).toBeUndefined();
    const blob = await layout.writeBytes(new TextEncoder().encode('local'));
    expect(new TextDecoder().decode(await layout.readBytes(blob.digest))).toBe('local');
    expect(requests.some((r) => !r.startsWith('GET ') && !r.startsWith('HEAD '))).toBe(false);
    // Another reader of the same server sees none of it.
    const other = new HttpImageLayout(base);
    expect((await other.listRefs()).map((r) => r.name)).toContain('docker.io/skiff/toolbox:latest');
    expect(await other.getRef('mine/hello:v1')).toBeUndefined();
  });

  it('says clearly when there is no image layout at the address', async () => {
    const layout = new HttpImageLayout(`${base}nothing-here/`);
    await expect(layout.listRefs()).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('oci-layout') });
    const down = new HttpImageLayout('http://127.0.0.1:9/');
    await expect(down.listRefs()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
