/**
 * Fault tests: a proxy in front of a real registry drops connections, corrupts
 * bytes, rewrites digests and answers errors; nothing corrupt may land in the store.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryImageLayout } from '../../src/content/memory.js';
import { digestOf } from '../../src/image/digest.js';
import { FsImageLayout } from '../../src/node/fs-layout.js';
import { installNodeHasher } from '../../src/node/hasher.js';
import { pullImage } from '../../src/registry/pull.js';
import { pushImage } from '../../src/registry/push.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startRegistry, type RegistryServer } from './registry-server.js';
import { makeImage, makeIndex, type TestImage } from './test-images.js';

installNodeHasher();
const retry = { baseDelayMs: 10, maxDelayMs: 50 };

let reg: RegistryServer;
let proxy: FaultProxy;
let img: TestImage;
let tmp: string;
const repo = 'faults/app';
let big: { digest: string; size: number };

beforeAll(async () => {
  reg = await startRegistry();
  proxy = await startFaultProxy(reg.domain);
  tmp = mkdtempSync(join(tmpdir(), 'skiff-faults-'));
  const src = new MemoryImageLayout();
  img = await makeImage(src, `${reg.domain}/${repo}:1`, { layerSizes: [2000, 300_000] });
  big = img.layers[1]!;
  await pushImage({ layout: src, reference: `${reg.domain}/${repo}:1`, retry });
});
afterAll(async () => {
  await proxy?.stop();
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});
afterEach(() => {
  proxy.rules.length = 0;
  proxy.log.length = 0;
});

const viaProxy = () => `${proxy.domain}/${repo}:1`;
const blobPath = (digest: string) => new RegExp(`/blobs/${digest}$`);

async function expectComplete(layout: MemoryImageLayout) {
  for (const [digest, bytes] of img.blobs) {
    if (digest === img.manifest.digest) continue;
    expect(Buffer.from(await layout.readBytes(digest)).equals(Buffer.from(bytes))).toBe(true);
  }
  expect((await layout.getRef(viaProxy()))?.digest).toBe(img.manifest.digest);
}

describe('dropped connections', () => {
  it('resumes a blob with a Range request after the connection drops mid-body', async () => {
    proxy.rules.push({ method: 'GET', path: blobPath(big.digest), fault: { kind: 'drop', afterBytes: 100_000 } });
    const layout = new MemoryImageLayout();
    await pullImage({ layout, reference: viaProxy(), retry });
    await expectComplete(layout);
    const gets = proxy.log.filter((l) => l.startsWith(`GET /v2/${repo}/blobs/${big.digest}`));
    expect(gets.length).toBe(2);
    expect(gets[1]).toMatch(/ bytes=\d+-$/);
    expect(Number(/bytes=(\d+)-/.exec(gets[1]!)![1])).toBeGreaterThan(0);
  });

  it('downloads again and skips what it had when the registry ignores ranges', async () => {
    proxy.rules.push({ method: 'GET', path: blobPath(big.digest), fault: { kind: 'drop', afterBytes: 150_000 } });
    proxy.rules.push({ method: 'GET', path: blobPath(big.digest), fault: { kind: 'no-ranges' }, times: Infinity });
    const layout = new MemoryImageLayout();
    await pullImage({ layout, reference: viaProxy(), retry });
    await expectComplete(layout);
    expect(proxy.log.filter((l) => l.startsWith(`GET /v2/${repo}/blobs/${big.digest}`)).length).toBe(2);
  });

  it('survives several drops in a row, and gives up (UNAVAILABLE, nothing stored) when they never stop', async () => {
    proxy.rules.push({ method: 'GET', path: blobPath(big.digest), fault: { kind: 'drop', afterBytes: 50_000 }, times: 3 });
    const ok = new MemoryImageLayout();
    await pullImage({ layout: ok, reference: viaProxy(), retry });
    await expectComplete(ok);

    proxy.rules.length = 0;
    proxy.rules.push({ method: 'GET', path: blobPath(big.digest), fault: { kind: 'drop', afterBytes: 1000 }, times: Infinity });
    proxy.rules.push({ method: 'GET', path: blobPath(big.digest), fault: { kind: 'no-ranges' }, times: Infinity });
    const layout = new MemoryImageLayout();
    const err = await pullImage({ layout, reference: viaProxy(), retry }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE' });
    expect((err as Error).message).toMatch(/connection dropped 5 times/);
    expect(await layout.info(big.digest)).toBeUndefined();
    expect(await layout.getRef(viaProxy())).toBeUndefined();
  });
});

describe('stalls', () => {
  it('retries a request the registry never answers, after timeoutMs', async () => {
    proxy.rules.push({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'hang' } });
    const layout = new MemoryImageLayout();
    await pullImage({ layout, reference: viaProxy(), retry, timeoutMs: 300 });
    await expectComplete(layout);
    expect(proxy.log.filter((l) => l === `GET /v2/${repo}/manifests/1`).length).toBe(2);
  });

  it('resumes a blob whose body stalls mid-way', async () => {
    proxy.rules.push({ method: 'GET', path: blobPath(big.digest), fault: { kind: 'stall', afterBytes: 120_000 } });
    const layout = new MemoryImageLayout();
    await pullImage({ layout, reference: viaProxy(), retry, timeoutMs: 300 });
    await expectComplete(layout);
    expect(proxy.log.filter((l) => l.startsWith(`GET /v2/${repo}/blobs/${big.digest} bytes=`)).length).toBe(1);
  });

  it('an abort ends a stalled download at once', async () => {
    proxy.rules.push({ method: 'GET', path: blobPath(big.digest), fault: { kind: 'stall', afterBytes: 100_000 } });
    const ac = new AbortController();
    const layout = new MemoryImageLayout();
    const p = pullImage({ layout, reference: viaProxy(), retry, signal: ac.signal });
    // Abort once the blob request has been stalled for a while.
    while (!proxy.log.some((l) => l.includes(big.digest))) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    const abortedAt = Date.now();
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - abortedAt).toBeLessThan(5000); // the stall itself would last far longer
    expect(await layout.info(big.digest)).toBeUndefined();
  });
});

describe('corrupt content', () => {
  it('refuses a corrupted blob with DATA_LOSS and stores nothing of it (memory and disk)', async () => {
    proxy.rules.push({ method: 'GET', path: blobPath(big.digest), fault: { kind: 'corrupt', offset: 12_345 }, times: Infinity });
    const mem = new MemoryImageLayout();
    const err = await pullImage({ layout: mem, reference: viaProxy(), retry }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_LOSS' });
    expect((err as Error).message).toContain(`blob ${big.digest}`);
    expect((err as Error).message).toContain('digest mismatch');
    expect(await mem.info(big.digest)).toBeUndefined();
    expect(await mem.getRef(viaProxy())).toBeUndefined();

    const dir = join(tmp, 'corrupt');
    const fs = await FsImageLayout.open(dir);
    await expect(pullImage({ layout: fs, reference: viaProxy(), retry })).rejects.toMatchObject({ code: 'DATA_LOSS' });
    expect(await fs.info(big.digest)).toBeUndefined();
    expect(await fs.verify()).toEqual([]);
    expect(await fs.listRefs()).toEqual([]);
    expect(existsSync(join(dir, 'ingest')) ? readdirSync(join(dir, 'ingest')) : []).toEqual([]);
  });

  it('refuses a blob with more bytes than its descriptor says', async () => {
    proxy.rules.push({ method: 'GET', path: blobPath(img.config.digest), fault: { kind: 'body', transform: (b) => Buffer.concat([b, Buffer.from('x')]) }, times: Infinity });
    const mem = new MemoryImageLayout();
    await expect(pullImage({ layout: mem, reference: viaProxy(), retry })).rejects.toMatchObject({ code: 'DATA_LOSS' });
    expect(await mem.info(img.config.digest)).toBeUndefined();
  });

  it('refuses a manifest whose Docker-Content-Digest does not match its bytes', async () => {
    const wrong = digestOf(new Uint8Array([1, 2, 3]));
    proxy.rules.push({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'header', name: 'Docker-Content-Digest', value: wrong } });
    const mem = new MemoryImageLayout();
    const err = await pullImage({ layout: mem, reference: viaProxy(), retry }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_LOSS' });
    expect((err as Error).message).toContain(wrong);
    expect([...(await mem.listRefs())]).toEqual([]);
  });

  it('refuses a manifest pulled by digest whose bytes hash to something else', async () => {
    proxy.rules.push({ method: 'GET', path: new RegExp(`/manifests/${img.manifest.digest}$`), fault: { kind: 'body', transform: (b) => Buffer.from(b.toString().replace('"schemaVersion":2', '"schemaVersion": 2')) } });
    proxy.rules.push({ method: 'GET', path: new RegExp(`/manifests/${img.manifest.digest}$`), fault: { kind: 'header', name: 'Docker-Content-Digest', value: img.manifest.digest } });
    const mem = new MemoryImageLayout();
    const err = await pullImage({ layout: mem, reference: `${proxy.domain}/${repo}@${img.manifest.digest}`, retry }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_LOSS' });
    expect((err as Error).message).toContain(`@${img.manifest.digest}`);
    expect(await mem.info(img.manifest.digest)).toBeUndefined();
  });

  it("refuses an index child manifest that does not match the index's descriptor", async () => {
    const src = new MemoryImageLayout();
    const { images } = await makeIndex(src, `${reg.domain}/faults/multi:1`, [{ os: 'linux', architecture: 'amd64' }, { os: 'wasip1', architecture: 'wasm' }]);
    await pushImage({ layout: src, reference: `${reg.domain}/faults/multi:1`, retry });
    const child = images[1]!.manifest.digest;
    proxy.rules.push({ method: 'GET', path: new RegExp(`/manifests/${child}$`), fault: { kind: 'body', transform: (b) => Buffer.from(`${b.toString()} `) } });
    const mem = new MemoryImageLayout();
    const err = await pullImage({ layout: mem, reference: `${proxy.domain}/faults/multi:1`, platforms: [{ os: 'wasip1', architecture: 'wasm' }], retry }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_LOSS' });
    expect(await mem.listRefs()).toEqual([]);
  });
});

describe('error statuses', () => {
  it('retries 500s and succeeds when the registry recovers', async () => {
    proxy.rules.push({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'status', status: 500 }, times: 2 });
    proxy.rules.push({ method: 'GET', path: blobPath(big.digest), fault: { kind: 'status', status: 502 }, times: 1 });
    const layout = new MemoryImageLayout();
    await pullImage({ layout, reference: viaProxy(), retry });
    await expectComplete(layout);
    expect(proxy.log.filter((l) => l === `GET /v2/${repo}/manifests/1`).length).toBe(3);
    expect(proxy.log.filter((l) => l === `GET /v2/${repo}/blobs/${big.digest}`).length).toBe(2);
  });

  it('honours Retry-After on 429', async () => {
    proxy.rules.push({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } } });
    const layout = new MemoryImageLayout();
    const t0 = Date.now();
    await pullImage({ layout, reference: viaProxy(), retry });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    await expectComplete(layout);
  });

  it('gives up after the configured tries with UNAVAILABLE, and on a long Retry-After with RESOURCE_EXHAUSTED', async () => {
    proxy.rules.push({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'status', status: 503 }, times: Infinity });
    const err = await pullImage({ layout: new MemoryImageLayout(), reference: viaProxy(), retry: { ...retry, attempts: 3 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE' });
    expect((err as Error).message).toMatch(/failed \(503/);
    expect(proxy.log.length).toBe(3);

    proxy.rules.length = 0;
    proxy.rules.push({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } }, times: Infinity });
    const limited = await pullImage({ layout: new MemoryImageLayout(), reference: viaProxy(), retry }).catch((e: unknown) => e);
    expect(limited).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect((limited as Error).message).toMatch(/wait 3600 s/);
  });

  it('maps 403 to PERMISSION_DENIED', async () => {
    proxy.rules.push({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'status', status: 403 } });
    await expect(pullImage({ layout: new MemoryImageLayout(), reference: viaProxy(), retry })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('retries a push whose upload fails with 5xx, from the start of the blob', async () => {
    const src = new MemoryImageLayout();
    const name = `${proxy.domain}/faults/pushed:1`;
    const mine = await makeImage(src, name, { layerSizes: [50_000] });
    proxy.rules.push({ method: 'PUT', path: /\/blobs\/uploads\//, fault: { kind: 'status', status: 500 }, times: 1 });
    proxy.rules.push({ method: 'PUT', path: /\/manifests\/1$/, fault: { kind: 'status', status: 503 }, times: 1 });
    await pushImage({ layout: src, reference: name, retry });
    const dst = new MemoryImageLayout();
    await pullImage({ layout: dst, reference: `${reg.domain}/faults/pushed:1`, retry });
    expect((await dst.getRef(`${reg.domain}/faults/pushed:1`))?.digest).toBe(mine.manifest.digest);
  });
});

describe('concurrency', () => {
  it('downloads layers in parallel, never more than the limit at once', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/faults/wide:1`;
    await makeImage(src, name, { layerSizes: [30_000, 30_000, 30_000, 30_000, 30_000, 30_000] });
    await pushImage({ layout: src, reference: name, retry });
    proxy.rules.push({ method: 'GET', path: /\/blobs\//, fault: { kind: 'throttle', bytesPerSecond: 300_000 }, times: Infinity });
    for (const concurrency of [1, 3]) {
      proxy.peakBlobGets = 0;
      await pullImage({ layout: new MemoryImageLayout(), reference: `${proxy.domain}/faults/wide:1`, retry, concurrency });
      expect(proxy.peakBlobGets).toBe(concurrency);
    }
  });
});

describe('cancellation', () => {
  it('an aborted pull rejects with CANCELLED and leaves only whole blobs', async () => {
    proxy.rules.push({ method: 'GET', path: blobPath(big.digest), fault: { kind: 'throttle', bytesPerSecond: 100_000 } });
    const dir = join(tmp, 'abort');
    const fs = await FsImageLayout.open(dir);
    const ac = new AbortController();
    const p = pullImage({ layout: fs, reference: viaProxy(), retry, signal: ac.signal, onProgress: (e) => { if (e.status === 'downloading' && e.current > 0 && e.digest === big.digest) ac.abort(); } });
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await fs.info(big.digest)).toBeUndefined();
    expect(await fs.verify()).toEqual([]);
    expect(await fs.listRefs()).toEqual([]);
    expect(existsSync(join(dir, 'ingest')) ? readdirSync(join(dir, 'ingest')) : []).toEqual([]);
  });
});
