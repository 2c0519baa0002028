import { describe, expect, it } from 'vitest';
import { MemoryImageLayout } from '../content/memory.js';
import { collect, fromUtf8, utf8 } from '../content/util.js';
import { isSkiffError } from '../errors/index.js';
import { digestOf } from '../image/digest.js';
import { MediaType } from '../image/media-types.js';
import { REF_NAME_ANNOTATION, type Descriptor, type ImageIndex, type ImageManifest } from '../image/types.js';
import { readTar } from '../layers/tar-reader.js';
import { gzip } from '../layers/compression.js';
import { legacyArchive, imageOf, named, ociBlobs, ociIndexBlobs, ociLayoutArchive, snapshot, storeBlobs, streamOf, tarOf } from '../../test/transfer/archives.js';
import { exportArchive } from './export.js';
import { importArchive, loadedMessages } from './import.js';
import { CONTAINERD_NAME_ANNOTATION } from './names.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64' };
const wasm = { os: 'wasip1', architecture: 'wasm' };

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isSkiffError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a SkiffError, but it resolved');
}

async function manifestOf(layout: MemoryImageLayout, d: Descriptor): Promise<ImageManifest> {
  return JSON.parse(fromUtf8(await layout.readBytes(d.digest))) as ImageManifest;
}

/** The files of a tar, by path. */
async function filesOf(tar: Uint8Array | ReadableStream<Uint8Array>): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const e of readTar(tar instanceof Uint8Array ? streamOf(tar) : tar)) if (e.header.type === 'file') out.set(e.header.path, await e.bytes());
  return out;
}

describe('import: legacy docker save archives', () => {
  it('stores layers as OCI tar blobs (digest = diff ID), the config byte for byte, and names normalized', async () => {
    const img = await imageOf([{ 'etc/hostname': 'box\n' }, { 'bin/tool': 'x'.repeat(3000) }]);
    const tar = await legacyArchive([{ image: img, tags: ['busybox:latest', 'example.test/team/app:1.2'] }]);
    const into = new MemoryImageLayout();
    const progress: string[] = [];
    const result = await importArchive(streamOf(tar), into, { onProgress: (e) => progress.push(e.path) });

    expect(result.format).toBe('docker');
    expect(result.images).toHaveLength(1);
    const [loaded] = result.images as [typeof result.images[0]];
    expect(loaded.names).toEqual(['docker.io/library/busybox:latest', 'example.test/team/app:1.2']);
    expect(loaded.id).toBe(digestOf(img.config));
    expect(loadedMessages(result)).toEqual(['Loaded image: busybox:latest', 'Loaded image: example.test/team/app:1.2']);
    expect(progress.filter((p) => p.endsWith('/layer.tar'))).toHaveLength(2);

    const target = (await into.getRef('docker.io/library/busybox:latest'))!;
    expect(target.mediaType).toBe(MediaType.OciManifest);
    expect((await into.getRef('example.test/team/app:1.2'))!.digest).toBe(target.digest);
    const m = await manifestOf(into, target);
    expect(m.config).toEqual({ mediaType: MediaType.OciConfig, digest: digestOf(img.config), size: img.config.length });
    expect(m.layers).toEqual(img.layers.map((l) => ({ mediaType: MediaType.OciLayer, digest: digestOf(l), size: l.length })));
    expect(await into.readBytes(m.config.digest)).toEqual(img.config);
    // Only what the image uses is kept (no <id>/json or VERSION files).
    expect((await snapshot(into)).blobs).toEqual([target.digest, m.config.digest, ...m.layers.map((l) => l.digest)].sort());
  });

  it('follows symlinked duplicate layers, reads manifest.json wherever it is, and loads several images', async () => {
    const base = { 'etc/os-release': 'ID=test\n' };
    const a = await imageOf([base, { a: 'A' }]);
    const b = await imageOf([base, { b: 'B' }], arm64);
    for (const manifestFirst of [false, true]) {
      const tar = await legacyArchive([{ image: a, tags: ['a:1'] }, { image: b, tags: ['b:1'] }], { linkDuplicates: true, manifestFirst });
      const into = new MemoryImageLayout();
      const result = await importArchive(streamOf(tar), into);
      expect(result.images.map((i) => i.names)).toEqual([['docker.io/library/a:1'], ['docker.io/library/b:1']]);
      const mb = await manifestOf(into, (await into.getRef('docker.io/library/b:1'))!);
      expect(mb.layers[0]!.digest).toBe(digestOf(b.layers[0]!));
      expect(await into.readBytes(mb.layers[0]!.digest)).toEqual(b.layers[0]);
    }
  });

  it('keeps gzip-compressed layers as tar+gzip blobs', async () => {
    const img = await imageOf([{ f: 'z'.repeat(5000) }]);
    const gz = await collect(streamOf(img.layers[0]!).pipeThrough(gzip()));
    const tar = await tarOf([
      { path: 'l1.tar.gz', data: gz },
      { path: 'cfg.json', data: img.config },
      { path: 'manifest.json', data: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['gz:1'], Layers: ['l1.tar.gz'] }]) },
    ]);
    const into = new MemoryImageLayout();
    await importArchive(streamOf(tar), into);
    const m = await manifestOf(into, (await into.getRef('docker.io/library/gz:1'))!);
    expect(m.layers).toEqual([{ mediaType: MediaType.OciLayerGzip, digest: digestOf(gz), size: gz.length }]);
  });

  it('accepts a gzip-compressed archive', async () => {
    const img = await imageOf([{ f: 'hello' }]);
    const tar = await legacyArchive([{ image: img, tags: ['zipped:1'] }]);
    const into = new MemoryImageLayout();
    await importArchive(streamOf(tar).pipeThrough(gzip()), into);
    expect(await into.getRef('docker.io/library/zipped:1')).toBeDefined();
  });
});

describe('import: OCI layouts', () => {
  it('preserves a multi-platform index and names from ref.name (full names)', async () => {
    const imgs = [await imageOf([{ amd: '1' }], amd64), await imageOf([{ wasm: '2' }], wasm)];
    const { blobs, index } = ociIndexBlobs(imgs);
    const tar = await ociLayoutArchive(blobs, [named(index, 'example.test/multi:1'), named(index, 'busybox:latest')]);
    const into = new MemoryImageLayout();
    const result = await importArchive(streamOf(tar), into);
    expect(result.format).toBe('oci');
    expect(result.images).toEqual([{ names: ['example.test/multi:1', 'docker.io/library/busybox:latest'], target: index, id: index.digest }]);
    const ref = (await into.getRef('example.test/multi:1'))!;
    expect(ref.digest).toBe(index.digest);
    expect(ref.annotations).toEqual({ [REF_NAME_ANNOTATION]: 'example.test/multi:1' });
    expect((await snapshot(into)).blobs).toEqual([...blobs.keys()].sort());
  });

  it('reads the docker 25+ form: containerd name annotation, tag-only ref.name, manifest.json beside', async () => {
    const img = await imageOf([{ x: '1' }]);
    const { blobs, manifest } = ociBlobs(img);
    const entry = named(manifest, 'latest', { [CONTAINERD_NAME_ANNOTATION]: 'docker.io/library/busybox:latest' });
    const m = JSON.parse(fromUtf8(blobs.get(manifest.digest)!)) as ImageManifest;
    const dockerManifest = JSON.stringify([{ Config: `blobs/sha256/${m.config.digest.slice(7)}`, RepoTags: ['busybox:latest'], Layers: m.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) }]);
    const tar = await ociLayoutArchive(blobs, [entry], [{ path: 'manifest.json', data: dockerManifest }, { path: 'repositories', data: '{}' }]);
    const into = new MemoryImageLayout();
    const result = await importArchive(streamOf(tar), into);
    expect(result.images.map((i) => [i.names, i.id])).toEqual([[['docker.io/library/busybox:latest'], m.config.digest]]);
    expect((await into.getRef('docker.io/library/busybox:latest'))!.digest).toBe(manifest.digest);

    // Without the containerd annotation, manifest.json's RepoTags name it.
    const plain = await ociLayoutArchive(blobs, [named(manifest, 'latest')], [{ path: 'manifest.json', data: dockerManifest }]);
    const into2 = new MemoryImageLayout();
    expect((await importArchive(streamOf(plain), into2)).images[0]!.names).toEqual(['docker.io/library/busybox:latest']);
  });

  it('tag-only names need a base name; without one the image is skipped, and an archive of only such images fails', async () => {
    const img = await imageOf([{ u: 'moci' }]);
    const { blobs, manifest } = ociBlobs(img);
    const tar = await ociLayoutArchive(blobs, [named(manifest, 'latest')]);
    const into = new MemoryImageLayout();
    const err = await codeOf(importArchive(streamOf(tar), into));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('"latest"');
    expect(await snapshot(into)).toEqual({ blobs: [], refs: [] });

    const result = await importArchive(streamOf(tar), into, { baseName: 'example.test/umoci' });
    expect(result.images[0]!.names).toEqual(['example.test/umoci:latest']);

    const two = await imageOf([{ other: '1' }]);
    const b2 = ociBlobs(two);
    const mixed = await ociLayoutArchive(new Map([...blobs, ...b2.blobs]), [named(manifest, 'v1'), named(b2.manifest, 'example.test/named:1')]);
    const into3 = new MemoryImageLayout();
    const r3 = await importArchive(streamOf(mixed), into3);
    expect(r3.images.map((i) => i.names)).toEqual([['example.test/named:1']]);
    expect(r3.skipped.map((s) => s.target.digest)).toEqual([manifest.digest]);
    expect(loadedMessages(r3)[1]).toMatch(/^Skipped image sha256:.*tag "v1"/);
    expect((await snapshot(into3)).blobs).toEqual([...b2.blobs.keys()].sort()); // the skipped image's blobs are not kept
  });

  it('accepts an index that lacks some platforms, refuses a manifest that lacks a layer', async () => {
    const imgs = [await imageOf([{ a: '1' }], amd64), await imageOf([{ b: '2' }], arm64)];
    const partial = ociIndexBlobs(imgs, [1]);
    const into = new MemoryImageLayout();
    await importArchive(streamOf(await ociLayoutArchive(partial.blobs, [named(partial.index, 'example.test/p:1')])), into);
    expect((await into.getRef('example.test/p:1'))!.digest).toBe(partial.index.digest);

    const { blobs, manifest } = ociBlobs(await imageOf([{ c: '3' }]));
    const m = JSON.parse(fromUtf8(blobs.get(manifest.digest)!)) as ImageManifest;
    blobs.delete(m.layers[0]!.digest);
    const into2 = new MemoryImageLayout();
    const err = await codeOf(importArchive(streamOf(await ociLayoutArchive(blobs, [named(manifest, 'example.test/broken:1')])), into2));
    expect(err.code).toBe('DATA_LOSS');
    expect(err.message).toContain(m.layers[0]!.digest);
    expect(await snapshot(into2)).toEqual({ blobs: [], refs: [] });
  });
});

describe('import: bad input leaves the store as it was', () => {
  async function storeWithImage(): Promise<MemoryImageLayout> {
    const into = new MemoryImageLayout();
    await importArchive(streamOf(await legacyArchive([{ image: await imageOf([{ keep: 'me' }]), tags: ['kept:1'] }])), into);
    return into;
  }

  it('refuses input that is not a tar, an empty input and a tar without image metadata', async () => {
    const into = await storeWithImage();
    const before = await snapshot(into);
    const random = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    expect(await codeOf(importArchive(streamOf(random), into))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('not a tar archive') });
    expect(await codeOf(importArchive(streamOf(new Uint8Array()), into))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('empty') });
    const noManifest = await tarOf([{ path: 'abc/layer.tar', data: await tarOf([{ path: 'f', data: 'x' }]) }, { path: 'repositories', data: '{}' }]);
    expect(await codeOf(importArchive(streamOf(noManifest), into))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('no manifest.json') });
    const badJson = await tarOf([{ path: 'manifest.json', data: '[{"Config":' }]);
    expect(await codeOf(importArchive(streamOf(badJson), into))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('manifest.json is not valid JSON') });
    expect(await snapshot(into)).toEqual(before);
  });

  it('a blob whose content does not match its name fails the whole archive, even after good images', async () => {
    const into = await storeWithImage();
    const before = await snapshot(into);
    const good = ociBlobs(await imageOf([{ good: '1' }]));
    const bad = ociBlobs(await imageOf([{ bad: '2' }]));
    const badManifest = JSON.parse(fromUtf8(bad.blobs.get(bad.manifest.digest)!)) as ImageManifest;
    const victim = badManifest.layers[0]!.digest;
    const tampered = bad.blobs.get(victim)!.slice();
    tampered[600] ^= 1;
    bad.blobs.set(victim, tampered);
    const tar = await ociLayoutArchive(new Map([...good.blobs, ...bad.blobs]), [named(good.manifest, 'example.test/good:1'), named(bad.manifest, 'example.test/bad:1')]);
    const err = await codeOf(importArchive(streamOf(tar), into));
    expect(err.code).toBe('DATA_LOSS');
    expect(err.message).toContain(`blobs/sha256/${victim.slice(7)}`);
    expect(await snapshot(into)).toEqual(before);
  });

  it('a legacy layer that does not match the config\'s diff ID fails, and so does a config that does not match its name', async () => {
    const into = await storeWithImage();
    const before = await snapshot(into);
    const img = await imageOf([{ f: 'original' }]);
    const other = await imageOf([{ f: 'tampered' }]);
    const swapped = await legacyArchive([{ image: { ...img, layers: other.layers }, tags: ['swap:1'] }]);
    expect(await codeOf(importArchive(streamOf(swapped), into))).toMatchObject({ code: 'DATA_LOSS', message: expect.stringContaining('but the config says') });
    const cfgName = `${digestOf(img.config).slice(7)}.json`;
    const badCfg = await tarOf([
      { path: 'l/layer.tar', data: img.layers[0]! },
      { path: cfgName, data: utf8(fromUtf8(img.config).replace('/bin/sh', '/bin/xx')) },
      { path: 'manifest.json', data: JSON.stringify([{ Config: cfgName, RepoTags: ['cfg:1'], Layers: ['l/layer.tar'] }]) },
    ]);
    expect(await codeOf(importArchive(streamOf(badCfg), into))).toMatchObject({ code: 'DATA_LOSS', message: expect.stringContaining(cfgName) });
    expect(await snapshot(into)).toEqual(before);
  });

  it('refuses path traversal in entry names, links and manifest.json paths', async () => {
    const into = await storeWithImage();
    const before = await snapshot(into);
    const img = await imageOf([{ f: '1' }]);
    const cases: Array<Parameters<typeof tarOf>[0]> = [
      [{ path: '../evil/layer.tar', data: img.layers[0]! }],
      [{ path: 'x/../../evil', data: 'x' }],
      [{ path: 'l/layer.tar', type: 'symlink', linkname: '../../../etc/shadow' }],
      [{ path: 'cfg.json', data: img.config }, { path: 'manifest.json', data: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['t:1'], Layers: ['../../etc/passwd'] }]) }],
    ];
    for (const entries of cases) {
      const err = await codeOf(importArchive(streamOf(await tarOf(entries)), into));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/outside the archive/);
    }
    expect(await snapshot(into)).toEqual(before);
  });

  it('an invalid name in the archive is refused', async () => {
    const into = new MemoryImageLayout();
    const tar = await legacyArchive([{ image: await imageOf([{ f: '1' }]), tags: ['Not A Name:1'] }]);
    expect(await codeOf(importArchive(streamOf(tar), into))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('"Not A Name:1"') });
    expect(await snapshot(into)).toEqual({ blobs: [], refs: [] });
  });

  it('an abort mid-import stops with CANCELLED and keeps nothing', async () => {
    const into = await storeWithImage();
    const before = await snapshot(into);
    const img = await imageOf([{ a: 'a'.repeat(50_000) }, { b: 'b'.repeat(50_000) }]);
    const tar = await legacyArchive([{ image: img, tags: ['abort:1'] }]);
    const ac = new AbortController();
    const err = await codeOf(importArchive(streamOf(tar, 4096), into, { signal: ac.signal, onProgress: () => ac.abort() }));
    expect(err.code).toBe('CANCELLED');
    expect(await snapshot(into)).toEqual(before);
  });
});

describe('export', () => {
  async function storeWithImages(): Promise<{ store: MemoryImageLayout; index: Descriptor; single: Descriptor; singleConfig: Uint8Array }> {
    const store = new MemoryImageLayout();
    const imgs = [await imageOf([{ a: '1' }, { b: '2' }], amd64), await imageOf([{ w: '3' }], wasm)];
    const multi = ociIndexBlobs(imgs);
    await storeBlobs(store, multi.blobs);
    await store.setRef('example.test/multi:1', multi.index);
    const one = await imageOf([{ one: '1' }]);
    const b = ociBlobs(one);
    await storeBlobs(store, b.blobs);
    const { platform: _p, ...single } = b.manifest;
    await store.setRef('docker.io/library/busybox:latest', single);
    await store.setRef('docker.io/library/busybox:1.36', single);
    return { store, index: multi.index, single, singleConfig: one.config };
  }

  it('an OCI archive round-trips: same names, same index and manifest digests, every blob', async () => {
    const { store, index, single } = await storeWithImages();
    const tar = await collect(await exportArchive(store, ['example.test/multi:1', 'busybox', 'busybox:1.36'], { format: 'oci' }));
    const files = await filesOf(tar);
    expect(files.has('manifest.json')).toBe(false);
    expect(JSON.parse(fromUtf8(files.get('oci-layout')!))).toEqual({ imageLayoutVersion: '1.0.0' });
    const idx = JSON.parse(fromUtf8(files.get('index.json')!)) as ImageIndex;
    expect(idx.manifests.map((m) => [m.annotations?.[REF_NAME_ANNOTATION], m.digest])).toEqual([
      ['example.test/multi:1', index.digest],
      ['docker.io/library/busybox:latest', single.digest],
      ['docker.io/library/busybox:1.36', single.digest],
    ]);
    for (const [path, data] of files) if (path.startsWith('blobs/')) expect(digestOf(data)).toBe(`sha256:${path.split('/')[2]}`);

    const back = new MemoryImageLayout();
    const result = await importArchive(streamOf(tar), back);
    expect(result.images.map((i) => i.names)).toEqual([['example.test/multi:1'], ['docker.io/library/busybox:latest', 'docker.io/library/busybox:1.36']]);
    expect(await snapshot(back)).toEqual(await snapshot(store));
  });

  it('a docker archive has manifest.json with familiar RepoTags and repositories, and round-trips', async () => {
    const { store, single, singleConfig } = await storeWithImages();
    const tar = await collect(await exportArchive(store, ['busybox:latest', 'busybox:1.36', 'example.test/multi:1'], { format: 'docker', platforms: [wasm] }));
    const files = await filesOf(tar);
    const manifest = JSON.parse(fromUtf8(files.get('manifest.json')!)) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    const m = JSON.parse(fromUtf8((await store.readBytes(single.digest)))) as ImageManifest;
    expect(manifest[0]).toEqual({ Config: `blobs/sha256/${digestOf(singleConfig).slice(7)}`, RepoTags: ['busybox:latest', 'busybox:1.36'], Layers: m.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) });
    // For the index, manifest.json describes the platform asked for.
    const wasmCfg = JSON.parse(fromUtf8(files.get(manifest[1]!.Config)!)) as { os: string };
    expect([manifest[1]!.RepoTags, wasmCfg.os, manifest[1]!.Layers.length]).toEqual([['example.test/multi:1'], 'wasip1', 1]);
    for (const e of manifest) for (const p of [e.Config, ...e.Layers]) expect(files.has(p)).toBe(true);
    expect(JSON.parse(fromUtf8(files.get('repositories')!))).toEqual({
      busybox: { latest: digestOf(singleConfig).slice(7), '1.36': digestOf(singleConfig).slice(7) },
      'example.test/multi': { '1': manifest[1]!.Config.split('/')[2] },
    });
    const idx = JSON.parse(fromUtf8(files.get('index.json')!)) as ImageIndex;
    expect(idx.manifests[0]!.annotations).toEqual({ [CONTAINERD_NAME_ANNOTATION]: 'docker.io/library/busybox:latest', [REF_NAME_ANNOTATION]: 'docker.io/library/busybox:latest' });

    const back = new MemoryImageLayout();
    await importArchive(streamOf(tar), back);
    expect(await snapshot(back)).toEqual(await snapshot(store));
  });

  it('a missing image fails the call; a blob that rotted in the store fails the stream', async () => {
    const { store, single } = await storeWithImages();
    expect(await codeOf(exportArchive(store, ['nope:1'], { format: 'oci' }))).toMatchObject({ code: 'NOT_FOUND', message: 'No such image: nope:1' });
    expect(await codeOf(exportArchive(store, [], { format: 'oci' }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const m = JSON.parse(fromUtf8(await store.readBytes(single.digest))) as ImageManifest;
    const rotten = await store.readBytes(m.layers[0]!.digest);
    rotten[700] ^= 0xff; // the memory store hands out its own buffer
    const stream = await exportArchive(store, ['busybox'], { format: 'docker' });
    expect(await codeOf(collect(stream))).toMatchObject({ code: 'DATA_LOSS' });
  });

  it('a reader that cancels stops the export', async () => {
    const { store } = await storeWithImages();
    const stream = await exportArchive(store, ['example.test/multi:1'], { format: 'oci' });
    const reader = stream.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel(new Error('enough'));
    const ac = new AbortController();
    const s2 = await exportArchive(store, ['example.test/multi:1'], { format: 'oci', signal: ac.signal });
    ac.abort();
    expect(await codeOf(collect(s2))).toMatchObject({ code: 'CANCELLED' });
  });
});
