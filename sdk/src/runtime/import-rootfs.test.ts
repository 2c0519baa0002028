import { describe, expect, it } from 'vitest';
import { importReference, importRootfs } from './import-rootfs.js';
import { MemoryImageLayout } from '../content/memory.js';
import { collect } from '../content/util.js';
import { digestOf } from '../image/digest.js';
import { ImageStore } from '../image/store.js';
import { TarWriter } from '../layers/tar-writer.js';
import { gzip } from '../layers/compression.js';
import { readTar } from '../layers/tar-reader.js';

const LINUX = { os: 'linux', architecture: 'amd64' };

async function tarOf(files: Record<string, string>): Promise<Uint8Array> {
  const w = new TarWriter();
  const out = collect(w.readable);
  for (const [path, text] of Object.entries(files)) {
    const data = new TextEncoder().encode(text);
    await w.add({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: 0 }, data);
  }
  await w.finish();
  return out;
}

const stream = (b: Uint8Array) => new ReadableStream<Uint8Array>({ start(c) { if (b.length) c.enqueue(b); c.close(); } });

async function listBlobs(layout: MemoryImageLayout): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const b of layout.list()) out.add(b.digest);
  return out;
}

describe('importRootfs (docker import)', () => {
  it('one layer whose diffID is the digest of the tar as given; config from the changes; history with the message', async () => {
    const layout = new MemoryImageLayout();
    const images = new ImageStore(layout);
    const tar = await tarOf({ 'bin/hello': 'hi', 'etc/motd': 'welcome\n' });
    const made = await importRootfs(images, stream(tar), LINUX, { reference: 'imp:1', changes: ['CMD ["sh"]', 'ENV A=1'], message: 'msg' });
    expect(made.name).toMatch(/imp:1$/);
    expect(made.diffId).toBe(digestOf(tar));
    const img = await images.resolve('imp:1', [LINUX]);
    expect(img.id).toBe(made.id);
    expect(img.config).toMatchObject({ os: 'linux', architecture: 'amd64', config: { Cmd: ['sh'], Env: ['A=1'] }, rootfs: { type: 'layers', diff_ids: [made.diffId] } });
    expect(img.config.history).toEqual([{ created: img.config.created, comment: 'msg' }]);
    // The tar as given is the layer, uncompressed (as docker load keeps docker save's).
    expect(img.manifest.layers).toEqual([{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: made.diffId, size: tar.length }]);
    expect(await collect(layout.readStream(made.diffId))).toEqual(tar);
  });

  it('a gzip tarball gives the same diffID as the plain one; no name keeps it dangling; the default comment is dockerd\'s', async () => {
    const layout = new MemoryImageLayout();
    const images = new ImageStore(layout);
    const tar = await tarOf({ f: 'x' });
    const gz = await collect(stream(tar).pipeThrough(gzip()));
    const made = await importRootfs(images, stream(gz), { os: 'wasip1', architecture: 'wasm' });
    expect(made.diffId).toBe(digestOf(tar));
    // Stored as given, as containerd's import keeps a gzip upload.
    const img0 = await images.resolve((await layout.listRefs())[0]!.name, [{ os: 'wasip1', architecture: 'wasm' }]);
    expect(img0.manifest.layers).toEqual([{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(gz), size: gz.length }]);
    expect(made.name).toBeUndefined();
    const refs = await layout.listRefs();
    expect(refs.map((r) => r.name)).toEqual([expect.stringContaining('skiff-dangling@sha256:')]);
    const img = await images.resolve(refs[0]!.name, [{ os: 'wasip1', architecture: 'wasm' }]);
    expect(img.config.history?.[0]?.comment).toBe('Imported from -');
    expect(img.config.config).toEqual({});
  });

  it('an empty upload is an empty layer, as dockerd takes it', async () => {
    const images = new ImageStore(new MemoryImageLayout());
    const made = await importRootfs(images, stream(new Uint8Array()), LINUX, { reference: 'empty' });
    expect(made.diffId).toBe(digestOf(new Uint8Array()));
    const img = await images.resolve('empty', [LINUX]);
    const entries = [];
    for await (const e of readTar(images.layout.readStream(img.manifest.layers[0]!.digest))) entries.push(e.header.path);
    expect(entries).toEqual([]);
  });

  it('a change that is not allowed, a damaged tar or a bzip2 one is refused and stores nothing', async () => {
    const layout = new MemoryImageLayout();
    const images = new ImageStore(layout);
    const tar = await tarOf({ f: 'x' });
    await expect(importRootfs(images, stream(tar), LINUX, { reference: 'bad', changes: ['RUN x'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('run is not a valid change command') });
    await expect(importRootfs(images, stream(tar), LINUX, { reference: 'bad', changes: ['FROM x'] })).rejects.toThrow(/from is not a valid change command/);
    const garbage = new TextEncoder().encode('this is not a tar archive, just some text that is long enough to fill a header block. '.repeat(8));
    await expect(importRootfs(images, stream(garbage), LINUX, { reference: 'bad' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('not a valid tar archive') });
    await expect(importRootfs(images, stream(tar.subarray(0, 700)), LINUX, { reference: 'bad' })).rejects.toThrow(/not a valid tar archive.*truncated/);
    const gzCut = await collect(stream(tar.subarray(0, 700)).pipeThrough(gzip()));
    await expect(importRootfs(images, stream(gzCut), LINUX, { reference: 'bad' })).rejects.toThrow(/not a valid tar archive.*truncated/);
    const badGzip = (await collect(stream(tar).pipeThrough(gzip()))).slice(0, 30);
    await expect(importRootfs(images, stream(badGzip), LINUX, { reference: 'bad' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(importRootfs(images, stream(new Uint8Array([0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59])), LINUX, { reference: 'bad' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('bzip2 -dc') });
    expect(await layout.listRefs()).toEqual([]);
    expect((await listBlobs(layout)).size).toBe(0);
  });

  it('importReference: repo and tag as dockerd\'s RepoTagReference', () => {
    expect(importReference('imp', '1')).toMatch(/imp:1$/);
    expect(importReference('imp:2', undefined)).toMatch(/imp:2$/);
    expect(importReference('imp', undefined)).toMatch(/imp:latest$/);
    expect(importReference(undefined, undefined)).toBeUndefined();
    expect(() => importReference('imp@sha256:' + 'a'.repeat(64), undefined)).toThrow(/digest/);
    expect(() => importReference('Bad Name', undefined)).toThrow(/invalid reference format/);
    expect(() => importReference('imp', '-x')).toThrow(/invalid tag/);
    expect(() => importReference(undefined, 'x')).toThrow(/needs a repository/);
  });
});
