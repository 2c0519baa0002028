/** Interoperability with skopeo through a real registry: skiff pushes and skopeo pulls, and the other way round. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryImageLayout } from '../../src/content/memory.js';
import { MediaType } from '../../src/image/media-types.js';
import type { ImageIndex, ImageManifest } from '../../src/image/types.js';
import { FsImageLayout } from '../../src/node/fs-layout.js';
import { installNodeHasher } from '../../src/node/hasher.js';
import { pullImage } from '../../src/registry/pull.js';
import { pushImage } from '../../src/registry/push.js';
import { requireTool, startRegistry, type RegistryServer } from './registry-server.js';
import { makeImage, makeIndex, writeImage } from './test-images.js';

installNodeHasher();
const retry = { baseDelayMs: 10, maxDelayMs: 50 };

let reg: RegistryServer;
let tmp: string;
beforeAll(async () => {
  requireTool('/usr/bin/skopeo', 'skopeo');
  reg = await startRegistry();
  tmp = mkdtempSync(join(tmpdir(), 'skiff-skopeo-'));
});
afterAll(async () => {
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function skopeo(...args: string[]): string {
  try {
    return execFileSync('/usr/bin/skopeo', ['--insecure-policy', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`skopeo ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr}`);
  }
}

function ociIndex(dir: string): ImageIndex {
  return JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as ImageIndex;
}

function ociBlob(dir: string, digest: string): Buffer {
  return readFileSync(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
}

describe('skopeo interop', () => {
  it('skiff pushes, skopeo copies to an OCI layout: same manifest and blobs', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/interop/by-skiff:1`;
    const img = await makeImage(src, name, { layerSizes: [5000, 70_000] });
    await pushImage({ layout: src, reference: name, retry });
    const out = join(tmp, 'out1');
    skopeo('copy', '--src-tls-verify=false', `docker://${name}`, `oci:${out}:x`);
    const top = ociIndex(out).manifests[0]!;
    expect(top.digest).toBe(img.manifest.digest);
    const manifest = JSON.parse(ociBlob(out, top.digest).toString()) as ImageManifest;
    expect(manifest.layers.map((l) => l.digest)).toEqual(img.layers.map((l) => l.digest));
    for (const l of img.layers) expect(ociBlob(out, l.digest).equals(Buffer.from(img.blobs.get(l.digest)!))).toBe(true);
  });

  it('skiff pushes a multi-platform index, skopeo copies it whole (--all)', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/interop/multi:1`;
    const { index, images } = await makeIndex(src, name, [{ os: 'linux', architecture: 'amd64' }, { os: 'wasip1', architecture: 'wasm' }]);
    await pushImage({ layout: src, reference: name, retry });
    const out = join(tmp, 'out2');
    skopeo('copy', '--all', '--src-tls-verify=false', `docker://${name}`, `oci:${out}:x`);
    expect(ociIndex(out).manifests[0]!.digest).toBe(index.digest);
    const idx = JSON.parse(ociBlob(out, index.digest).toString()) as ImageIndex;
    expect(idx.manifests.map((m) => m.platform)).toEqual([{ os: 'linux', architecture: 'amd64' }, { os: 'wasip1', architecture: 'wasm' }]);
    for (const i of images) for (const l of i.layers) expect(ociBlob(out, l.digest).length).toBe(l.size);
  });

  it('skopeo pushes from an OCI layout made by skiff, skiff pulls: identical blobs', async () => {
    const dir = join(tmp, 'layout1');
    const layout = await FsImageLayout.open(dir);
    const img = await writeImage(layout, { layerSizes: [1234, 40_000] });
    const { platform: _p, ...target } = img.manifest;
    await layout.setRef('skopeo-src', target);
    const name = `${reg.domain}/interop/by-skopeo:1`;
    skopeo('copy', '--dest-tls-verify=false', `oci:${dir}:skopeo-src`, `docker://${name}`);

    const dst = new MemoryImageLayout();
    const pulled = await pullImage({ layout: dst, reference: name, retry });
    expect(pulled.target.digest).toBe(img.manifest.digest);
    for (const [digest, bytes] of img.blobs) expect(Buffer.from(await dst.readBytes(digest)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('skopeo pushes as Docker schema2 (--format v2s2), skiff pulls the Docker manifest', async () => {
    const dir = join(tmp, 'layout2');
    const layout = await FsImageLayout.open(dir);
    const img = await writeImage(layout, { layerSizes: [999] });
    const { platform: _p, ...target } = img.manifest;
    await layout.setRef('v2s2', target);
    const name = `${reg.domain}/interop/v2s2:1`;
    skopeo('copy', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${dir}:v2s2`, `docker://${name}`);

    const dst = new MemoryImageLayout();
    const pulled = await pullImage({ layout: dst, reference: name, retry });
    expect(pulled.target.mediaType).toBe(MediaType.DockerManifest);
    const manifest = JSON.parse(Buffer.from(await dst.readBytes(pulled.target.digest)).toString()) as ImageManifest;
    expect(manifest.config.mediaType).toBe(MediaType.DockerConfig);
    expect(manifest.layers.map((l) => l.digest)).toEqual(img.layers.map((l) => l.digest));
    for (const l of img.layers) expect(Buffer.from(await dst.readBytes(l.digest)).equals(Buffer.from(img.blobs.get(l.digest)!))).toBe(true);
  });
});
