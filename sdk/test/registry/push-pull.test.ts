/** Push and pull against a real registry (Debian's docker-registry 2.8). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryImageLayout } from '../../src/content/memory.js';
import { MediaType } from '../../src/image/media-types.js';
import { installNodeHasher } from '../../src/node/hasher.js';
import { RegistryClient } from '../../src/registry/client.js';
import { pullImage } from '../../src/registry/pull.js';
import { pushImage } from '../../src/registry/push.js';
import { RegistryImageSource } from '../../src/registry/source.js';
import type { RegistryProgress } from '../../src/registry/types.js';
import { startRegistry, type RegistryServer } from './registry-server.js';
import { makeImage, makeIndex } from './test-images.js';

installNodeHasher();
const retry = { baseDelayMs: 10, maxDelayMs: 50 };

let reg: RegistryServer;
beforeAll(async () => { reg = await startRegistry(); });
afterAll(async () => { await reg?.stop(); });

async function sameBlobs(a: MemoryImageLayout, b: MemoryImageLayout, digests: string[]) {
  for (const d of digests) expect(Buffer.from(await b.readBytes(d)).equals(Buffer.from(await a.readBytes(d)))).toBe(true);
}

describe('push then pull by skiff', () => {
  it('round-trips an OCI image: identical blobs, the ref set to the normalized name', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/rt/app:1`;
    const img = await makeImage(src, name, { layerSizes: [3000, 50_000, 10] });
    const events: RegistryProgress[] = [];
    const pushed = await pushImage({ layout: src, reference: name, retry, onProgress: (e) => events.push(e) });
    expect(pushed.target.digest).toBe(img.manifest.digest);
    expect(events.filter((e) => e.status === 'done').map((e) => e.digest).sort()).toEqual([img.config.digest, ...img.layers.map((l) => l.digest)].sort());
    expect(events.every((e) => e.id.length === 12)).toBe(true);

    const dst = new MemoryImageLayout();
    const pulled = await pullImage({ layout: dst, reference: name, retry, platforms: 'all' });
    expect(pulled.name).toBe(name);
    expect(pulled.target).toEqual({ mediaType: MediaType.OciManifest, digest: img.manifest.digest, size: img.manifest.size });
    expect((await dst.getRef(name))?.digest).toBe(img.manifest.digest);
    await sameBlobs(src, dst, [img.manifest.digest, img.config.digest, ...img.layers.map((l) => l.digest)]);
  });

  it('pushes again with every blob reported as existing, and a second pull downloads nothing', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/rt/again:1`;
    const img = await makeImage(src, name);
    await pushImage({ layout: src, reference: name, retry });
    const events: RegistryProgress[] = [];
    await pushImage({ layout: src, reference: name, retry, onProgress: (e) => events.push(e) });
    const final = events.filter((e) => e.status !== 'waiting');
    expect(final.map((e) => e.status)).toEqual(['exists', 'exists', 'exists']);

    const pulls: RegistryProgress[] = [];
    await pullImage({ layout: src, reference: name, retry, onProgress: (e) => pulls.push(e) });
    expect(pulls.filter((e) => e.status !== 'waiting').every((e) => e.status === 'exists')).toBe(true);
    expect(img.layers.length).toBe(2);
  });

  it('pushes under another name (target) and pulls by digest', async () => {
    const src = new MemoryImageLayout();
    const img = await makeImage(src, 'local/thing:dev');
    await pushImage({ layout: src, reference: 'local/thing:dev', target: `${reg.domain}/other/thing:v2`, retry });
    const dst = new MemoryImageLayout();
    const byDigest = `${reg.domain}/other/thing@${img.manifest.digest}`;
    const pulled = await pullImage({ layout: dst, reference: byDigest, retry });
    expect(pulled.name).toBe(byDigest);
    expect((await dst.getRef(byDigest))?.digest).toBe(img.manifest.digest);
  });

  it('round-trips a Docker schema2 image with its media types', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/rt/docker:1`;
    const img = await makeImage(src, name, { docker: true });
    await pushImage({ layout: src, reference: name, retry });
    const dst = new MemoryImageLayout();
    const pulled = await pullImage({ layout: dst, reference: name, retry });
    expect(pulled.target.mediaType).toBe(MediaType.DockerManifest);
    await sameBlobs(src, dst, [img.manifest.digest, ...img.layers.map((l) => l.digest)]);
  });

  it('uses chunked uploads (PATCH with Content-Range) for blobs above the monolithic limit', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/rt/chunked:1`;
    const img = await makeImage(src, name, { layerSizes: [100_000] });
    await pushImage({ layout: src, reference: name, retry, monolithicMax: 1000, chunkSize: 7000 });
    const dst = new MemoryImageLayout();
    await pullImage({ layout: dst, reference: name, retry });
    await sameBlobs(src, dst, img.layers.map((l) => l.digest));
  });

  it('mounts blobs from another repository of the same registry instead of uploading them', async () => {
    const src = new MemoryImageLayout();
    const first = `${reg.domain}/mount/a:1`;
    const img = await makeImage(src, first);
    await pushImage({ layout: src, reference: first, retry });
    const events: RegistryProgress[] = [];
    // The local name is on the same registry: its repository is the mount source.
    await pushImage({ layout: src, reference: first, target: `${reg.domain}/mount/b:1`, retry, onProgress: (e) => events.push(e) });
    expect(events.filter((e) => e.status === 'mounted').map((e) => e.digest).sort()).toEqual([img.config.digest, ...img.layers.map((l) => l.digest)].sort());
    const dst = new MemoryImageLayout();
    await pullImage({ layout: dst, reference: `${reg.domain}/mount/b:1`, retry });
    expect((await dst.info(img.layers[0]!.digest))?.size).toBe(img.layers[0]!.size);
  });

  it('falls back to an upload when a mount source lacks the blob (202)', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/mount/c:1`;
    const img = await makeImage(src, name);
    const events: RegistryProgress[] = [];
    await pushImage({ layout: src, reference: name, mountFrom: ['mount/nothing-here'], retry, onProgress: (e) => events.push(e) });
    expect(events.filter((e) => e.status === 'done').length).toBe(1 + img.layers.length);
    expect(events.some((e) => e.status === 'mounted')).toBe(false);
  });

  it('lists tags across pages (Link header)', async () => {
    const src = new MemoryImageLayout();
    const tags = ['a', 'b', 'c', 'd', 'e'];
    for (const t of tags) {
      await makeImage(src, `${reg.domain}/tags/x:${t}`, { layerSizes: [10] });
      await pushImage({ layout: src, reference: `${reg.domain}/tags/x:${t}`, retry });
    }
    const client = new RegistryClient({ retry });
    expect((await client.listTags({ domain: reg.domain, path: 'tags/x' }, { pageSize: 2 })).sort()).toEqual(tags);
    await expect(client.listTags({ domain: reg.domain, path: 'tags/none' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('resolves a tag to its descriptor with a HEAD', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/rt/resolve:1`;
    const img = await makeImage(src, name);
    await pushImage({ layout: src, reference: name, retry });
    const d = await new RegistryClient({ retry }).resolve(name);
    expect(d).toEqual({ mediaType: MediaType.OciManifest, digest: img.manifest.digest, size: img.manifest.size });
  });

  it('fails with NOT_FOUND naming the image and registry for an unknown tag', async () => {
    const err = await pullImage({ layout: new MemoryImageLayout(), reference: `${reg.domain}/rt/app:nope`, retry }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
    expect((err as Error).message).toContain(`manifest unknown: rt/app:nope not found in registry ${reg.domain}`);
  });
});

describe('multi-platform index', () => {
  it('pushes every child manifest and pulls only the wanted platform', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/multi/app:1`;
    const { index, images } = await makeIndex(src, name, [{ os: 'linux', architecture: 'amd64' }, { os: 'wasip1', architecture: 'wasm' }]);
    const pushed = await pushImage({ layout: src, reference: name, retry });
    expect(pushed.target.digest).toBe(index.digest);
    expect(pushed.manifests.map((m) => m.digest)).toEqual(images.map((i) => i.manifest.digest));

    for (const [i, platform] of [{ os: 'linux', architecture: 'amd64' }, { os: 'wasip1', architecture: 'wasm' }].entries()) {
      const dst = new MemoryImageLayout();
      const pulled = await pullImage({ layout: dst, reference: name, platforms: [platform], retry });
      expect(pulled.target.digest).toBe(index.digest);
      expect(pulled.manifests.map((m) => m.digest)).toEqual([images[i]!.manifest.digest]);
      const mine = images[i]!;
      const other = images[1 - i]!;
      for (const l of mine.layers) expect(await dst.info(l.digest)).toBeDefined();
      for (const l of other.layers) expect(await dst.info(l.digest)).toBeUndefined();
      expect(await dst.info(index.digest)).toBeDefined();
      expect((await dst.getRef(name))?.digest).toBe(index.digest);
    }

    const all = new MemoryImageLayout();
    const pulledAll = await pullImage({ layout: all, reference: name, platforms: 'all', retry });
    expect(pulledAll.manifests.length).toBe(2);
  });

  it('fails clearly when the index has no wanted platform', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/multi/only-wasm:1`;
    await makeIndex(src, name, [{ os: 'wasip1', architecture: 'wasm' }]);
    await pushImage({ layout: src, reference: name, retry });
    const err = await pullImage({ layout: new MemoryImageLayout(), reference: name, platforms: [{ os: 'linux', architecture: 'arm64' }], retry }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
    expect((err as Error).message).toMatch(/has no image for linux\/arm64; it has: wasip1\/wasm/);
  });

  it('refuses to push an index whose child manifests are not all in the store', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/multi/partial:1`;
    await makeIndex(src, name, [{ os: 'linux', architecture: 'amd64' }, { os: 'wasip1', architecture: 'wasm' }]);
    await pushImage({ layout: src, reference: name, retry });
    const partial = new MemoryImageLayout();
    await pullImage({ layout: partial, reference: name, platforms: [{ os: 'wasip1', architecture: 'wasm' }], retry });
    const err = await pushImage({ layout: partial, reference: name, target: `${reg.domain}/multi/partial2:1`, retry }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect((err as Error).message).toContain('linux/amd64');
  });
});

describe('RegistryImageSource (the engine pulls what it lacks)', () => {
  it('provides an image the registry has, for the platforms asked, and declines one it lacks', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/source/app:1`;
    const { images } = await makeIndex(src, name, [{ os: 'linux', architecture: 'amd64' }, { os: 'wasip1', architecture: 'wasm' }]);
    await pushImage({ layout: src, reference: name, retry });
    const source = new RegistryImageSource({ retry });
    const into = new MemoryImageLayout();
    const events: unknown[] = [];
    expect(await source.provide(name, [{ os: 'wasip1', architecture: 'wasm' }], into, { onProgress: (e) => events.push(e) })).toBe(true);
    expect(await into.info(images[1]!.manifest.digest)).toBeDefined();
    expect(await into.info(images[0]!.manifest.digest)).toBeUndefined();
    expect(events.length).toBeGreaterThan(0);
    expect(await source.provide(`${reg.domain}/source/app:missing`, [{ os: 'wasip1', architecture: 'wasm' }], into)).toBe(false);
    expect(await source.provide(`${reg.domain}/source/never-pushed:1`, [{ os: 'wasip1', architecture: 'wasm' }], into)).toBe(false);
  });
});
