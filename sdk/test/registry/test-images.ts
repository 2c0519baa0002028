/** Small test images made on the spot: random tar+gzip layers, a config, a manifest, optionally an index. */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ImageLayout } from '../../src/content/types.js';
import { utf8 } from '../../src/content/util.js';
import { digestOf } from '../../src/image/digest.js';
import { MediaType } from '../../src/image/media-types.js';
import { normalizeName } from '../../src/image/reference.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from '../../src/image/types.js';

/** A one-file ustar archive. */
export function tarOf(name: string, data: Uint8Array): Uint8Array {
  const header = new Uint8Array(512);
  const put = (off: number, len: number, s: string) => header.set(utf8(s).subarray(0, len), off);
  put(0, 100, name);
  put(100, 8, '0000644\0');
  put(108, 8, '0000000\0');
  put(116, 8, '0000000\0');
  put(124, 12, `${data.length.toString(8).padStart(11, '0')}\0`);
  put(136, 12, '00000000000\0');
  header.fill(0x20, 148, 156);
  put(156, 1, '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const b of header) sum += b;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padded = Math.ceil(data.length / 512) * 512;
  const out = new Uint8Array(512 + padded + 1024);
  out.set(header, 0);
  out.set(data, 512);
  return out;
}

export interface TestImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** Every blob by digest, for comparisons. */
  blobs: Map<string, Uint8Array>;
}

export interface ImageSpec {
  /** Sizes of the random file in each layer. */
  layerSizes?: number[];
  platform?: Platform;
  /** Docker schema2 media types instead of OCI. */
  docker?: boolean;
}

/** Writes one image's blobs into `layout` (without a name) and returns its descriptors. */
export async function writeImage(layout: ImageLayout, spec: ImageSpec = {}): Promise<TestImage> {
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const blobs = new Map<string, Uint8Array>();
  const put = async (mediaType: string, data: Uint8Array): Promise<Descriptor> => {
    await layout.writeBytes(data);
    const d = { mediaType, digest: digestOf(data), size: data.length };
    blobs.set(d.digest, data);
    return d;
  };
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const [i, size] of (spec.layerSizes ?? [1000, 20_000]).entries()) {
    const tar = tarOf(`file-${i}.bin`, new Uint8Array(randomBytes(size)));
    diffIds.push(digestOf(tar));
    layers.push(await put(spec.docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip, new Uint8Array(gzipSync(tar))));
  }
  const cfg: ImageConfig = { architecture: platform.architecture, os: platform.os, config: { Cmd: ['/file-0.bin'] }, rootfs: { type: 'layers', diff_ids: diffIds } };
  const config = await put(spec.docker ? MediaType.DockerConfig : MediaType.OciConfig, utf8(JSON.stringify(cfg)));
  const mediaType = spec.docker ? MediaType.DockerManifest : MediaType.OciManifest;
  const man: ImageManifest = { schemaVersion: 2, mediaType, config, layers };
  const manifest = { ...(await put(mediaType, utf8(JSON.stringify(man)))), platform };
  return { manifest, config, layers, blobs };
}

/** An image under `name`. */
export async function makeImage(layout: ImageLayout, name: string, spec: ImageSpec = {}): Promise<TestImage> {
  const img = await writeImage(layout, spec);
  const { platform: _p, ...target } = img.manifest;
  await layout.setRef(normalizeName(name), target);
  return img;
}

/** A multi-platform index under `name`, one image per platform. */
export async function makeIndex(layout: ImageLayout, name: string, platforms: Platform[], spec: Omit<ImageSpec, 'platform'> = {}): Promise<{ index: Descriptor; images: TestImage[] }> {
  const images: TestImage[] = [];
  for (const platform of platforms) images.push(await writeImage(layout, { ...spec, platform }));
  const mediaType = spec.docker ? MediaType.DockerManifestList : MediaType.OciIndex;
  const idx: ImageIndex = { schemaVersion: 2, mediaType, manifests: images.map((i) => i.manifest) };
  const bytes = utf8(JSON.stringify(idx));
  await layout.writeBytes(bytes);
  const index = { mediaType, digest: digestOf(bytes), size: bytes.length };
  await layout.setRef(normalizeName(name), index);
  return { index, images };
}
