/**
 * Small images and archives made on the spot for the import/export tests:
 * layer tars, `docker save` archives (legacy and docker 25+ forms) and OCI
 * layout tars, written with skiff's TarWriter. Isomorphic (no node: imports).
 */
import type { ImageLayout } from '../../src/content/types.js';
import { collect, utf8 } from '../../src/content/util.js';
import { digestOf } from '../../src/image/digest.js';
import { MediaType } from '../../src/image/media-types.js';
import { REF_NAME_ANNOTATION, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from '../../src/image/types.js';
import { TarWriter } from '../../src/layers/tar-writer.js';

export interface Entry {
  path: string;
  data?: Uint8Array | string;
  type?: 'file' | 'directory' | 'symlink' | 'hardlink';
  linkname?: string;
  mode?: number;
}

/** A tar of the given entries, in that order. */
export async function tarOf(entries: Entry[]): Promise<Uint8Array> {
  const tw = new TarWriter();
  const out = collect(tw.readable);
  for (const e of entries) {
    const data = typeof e.data === 'string' ? utf8(e.data) : e.data ?? new Uint8Array();
    const type = e.type ?? 'file';
    const h = { path: e.path, type, size: type === 'file' ? data.length : 0, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: 0, gid: 0, mtime: 1_700_000_000 };
    await tw.add(e.linkname === undefined ? h : { ...h, linkname: e.linkname }, type === 'file' ? data : undefined);
  }
  await tw.finish();
  return out;
}

/** A layer: a tar of files (path -> content). */
export function layerOf(files: Record<string, string>): Promise<Uint8Array> {
  return tarOf(Object.entries(files).map(([path, data]) => ({ path, data })));
}

export interface Image {
  config: Uint8Array;
  layers: Uint8Array[];
  platform: Platform;
}

/** An image of uncompressed layers with a config that lists their diff IDs. */
export async function imageOf(layerFiles: Array<Record<string, string>>, platform: Platform = { os: 'linux', architecture: 'amd64' }, extra: Partial<ImageConfig> = {}): Promise<Image> {
  const layers = await Promise.all(layerFiles.map(layerOf));
  const cfg: ImageConfig = {
    created: '2024-01-02T03:04:05Z',
    architecture: platform.architecture,
    os: platform.os,
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map(digestOf) },
    ...extra,
  };
  // Two-space indented, so a byte-exact check notices any re-serialisation.
  return { config: utf8(JSON.stringify(cfg, null, 2)), layers, platform };
}

const hex = (d: string) => d.slice('sha256:'.length);

/** A legacy `docker save` archive: <id>/layer.tar, <id>/json, <id>/VERSION, <config>.json, manifest.json, repositories. */
export async function legacyArchive(images: Array<{ image: Image; tags: string[] }>, opts: { linkDuplicates?: boolean; manifestFirst?: boolean } = {}): Promise<Uint8Array> {
  const entries: Entry[] = [];
  const manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  const firstPathOf = new Map<string, string>();
  let n = 0;
  for (const { image, tags } of images) {
    const layerPaths: string[] = [];
    for (const layer of image.layers) {
      const id = hex(digestOf(utf8(`v1-id-${n++}`)));
      const path = `${id}/layer.tar`;
      const first = firstPathOf.get(digestOf(layer));
      entries.push({ path: id, type: 'directory' }, { path: `${id}/VERSION`, data: '1.0' }, { path: `${id}/json`, data: `{"id":"${id}"}` });
      if (first && opts.linkDuplicates) entries.push({ path, type: 'symlink', linkname: `../${first}` });
      else entries.push({ path, data: layer });
      if (!first) firstPathOf.set(digestOf(layer), path);
      layerPaths.push(path);
    }
    const cfgPath = `${hex(digestOf(image.config))}.json`;
    entries.push({ path: cfgPath, data: image.config });
    manifest.push({ Config: cfgPath, RepoTags: tags.length ? tags : null, Layers: layerPaths });
    for (const t of tags) {
      const [repo, tag] = [t.slice(0, t.lastIndexOf(':')), t.slice(t.lastIndexOf(':') + 1)];
      (repositories[repo] ??= {})[tag] = layerPaths.at(-1)!.split('/')[0]!;
    }
  }
  const meta: Entry[] = [{ path: 'manifest.json', data: JSON.stringify(manifest) }, { path: 'repositories', data: JSON.stringify(repositories) }];
  return tarOf(opts.manifestFirst ? [...meta, ...entries] : [...entries, ...meta]);
}

/** Blobs of an OCI image: layers, config, manifest (descriptor carries the platform). */
export function ociBlobs(image: Image, layerMediaType: string = MediaType.OciLayer): { blobs: Map<string, Uint8Array>; manifest: Descriptor } {
  const blobs = new Map<string, Uint8Array>();
  const put = (mediaType: string, data: Uint8Array): Descriptor => {
    blobs.set(digestOf(data), data);
    return { mediaType, digest: digestOf(data), size: data.length };
  };
  const layers = image.layers.map((l) => put(layerMediaType, l));
  const config = put(MediaType.OciConfig, image.config);
  const m: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers };
  return { blobs, manifest: { ...put(MediaType.OciManifest, utf8(JSON.stringify(m))), platform: image.platform } };
}

/** A multi-platform index over some images; `omit` leaves platforms' blobs out (a partial index). */
export function ociIndexBlobs(images: Image[], omit: number[] = []): { blobs: Map<string, Uint8Array>; index: Descriptor; manifests: Descriptor[] } {
  const blobs = new Map<string, Uint8Array>();
  const manifests: Descriptor[] = [];
  images.forEach((img, i) => {
    const b = ociBlobs(img);
    manifests.push(b.manifest);
    if (!omit.includes(i)) for (const [d, data] of b.blobs) blobs.set(d, data);
  });
  const idx: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
  const bytes = utf8(JSON.stringify(idx));
  blobs.set(digestOf(bytes), bytes);
  return { blobs, index: { mediaType: MediaType.OciIndex, digest: digestOf(bytes), size: bytes.length }, manifests };
}

/** An OCI layout tar. `refs` are index.json entries (descriptor plus annotations). */
export function ociLayoutArchive(blobs: Map<string, Uint8Array>, refs: Descriptor[], extra: Entry[] = []): Promise<Uint8Array> {
  const entries: Entry[] = [
    { path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { path: 'index.json', data: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: refs }) },
    { path: 'blobs', type: 'directory' },
    { path: 'blobs/sha256', type: 'directory' },
    ...[...blobs].map(([d, data]) => ({ path: `blobs/sha256/${hex(d)}`, data })),
    ...extra,
  ];
  return tarOf(entries);
}

export function named(d: Descriptor, name: string, more: Record<string, string> = {}): Descriptor {
  const { platform: _p, ...rest } = d;
  return { ...rest, annotations: { [REF_NAME_ANNOTATION]: name, ...more } };
}

export function streamOf(data: Uint8Array, chunk = 7000): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= data.length) return c.close();
      c.enqueue(data.slice(off, off + chunk));
      off += chunk;
    },
  });
}

/** Everything a layout holds, to compare before and after. */
export async function snapshot(layout: ImageLayout): Promise<{ blobs: string[]; refs: Array<[string, string]> }> {
  const blobs: string[] = [];
  for await (const b of layout.list()) blobs.push(b.digest);
  const refs = (await layout.listRefs()).map((r) => [r.name, r.target.digest] as [string, string]);
  return { blobs: blobs.sort(), refs: refs.sort() };
}

/** Stores an image's blobs directly (for export tests). */
export async function storeBlobs(layout: ImageLayout, blobs: Map<string, Uint8Array>): Promise<void> {
  for (const data of blobs.values()) await layout.writeBytes(data);
}
