/**
 * Layers for the builder: a layer from a list of files (COPY, ADD, WORKDIR),
 * a layer from a container's changes (RUN), and the merged file view of a
 * stage (COPY --from, WORKDIR checks).
 */
import { readTar } from '../layers/tar-reader.js';
import { TarWriter, type TarHeader } from '../layers/tar-writer.js';
import { decompressLayer } from '../layers/compression.js';
import { classifyWhiteout } from '../layers/whiteout.js';
import { createSha256 } from '../image/digest.js';
import { MediaType } from '../image/media-types.js';
import type { Descriptor } from '../image/types.js';
import type { Ingester, Provider } from '../content/types.js';
import { collect } from '../content/util.js';

export interface FileSpec {
  /** Absolute path in the image. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  uid?: number;
  gid?: number;
  data?: Uint8Array;
  linkname?: string;
  /** Seconds since the epoch; default the build's epoch, else 0. Clamped to the epoch when one is set. */
  mtime?: number;
}

/** Path (no leading slash) -> file, after applying every layer's whiteouts. */
export type StageFiles = Map<string, FileSpec>;

export interface BuiltLayer {
  descriptor: Descriptor;
  diffId: string;
}

/** gzips a tar stream into the store, computing the diffID and digest in one pass. */
export async function storeLayer(store: Ingester, tar: ReadableStream<Uint8Array>): Promise<BuiltLayer> {
  const diff = createSha256();
  const hashed = tar.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ transform(c, ctl) { diff.update(c); ctl.enqueue(c); } }));
  const gz = await collect(hashed.pipeThrough(new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>));
  const info = await store.writeBytes(gz);
  return { descriptor: { mediaType: MediaType.OciLayerGzip, digest: info.digest, size: info.size }, diffId: `sha256:${diff.hex()}` };
}

export async function layerFromFiles(store: Ingester, files: FileSpec[], epoch?: number): Promise<BuiltLayer> {
  const mtime = epoch ?? 0;
  const byPath = new Map<string, FileSpec>();
  for (const f of files) {
    const p = f.path.replace(/^\/+/, '').replace(/\/+$/, '');
    if (p === '') continue;
    // Parent directories first, as tar readers expect.
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!byPath.has(dir)) byPath.set(dir, { path: dir, type: 'directory', mode: 0o755 });
    }
    byPath.set(p, { ...f, path: p });
  }
  const entries = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const w = new TarWriter();
  const done = storeLayer(store, w.readable);
  for (const f of entries) {
    const header: TarHeader = {
      path: f.type === 'directory' ? `${f.path}/` : f.path,
      type: f.type,
      mode: f.mode,
      uid: f.uid ?? 0,
      gid: f.gid ?? 0,
      size: f.type === 'file' ? (f.data?.length ?? 0) : 0,
      mtime: f.mtime === undefined ? mtime : epoch === undefined ? f.mtime : Math.min(f.mtime, epoch),
      ...(f.linkname !== undefined ? { linkname: f.linkname } : {}),
    };
    await w.add(header, f.type === 'file' ? (f.data ?? new Uint8Array()) : undefined);
  }
  await w.finish();
  return done;
}

/** A RUN step's changes; with an epoch, every mtime is clamped to it for reproducible layers. */
export async function layerFromChanges(store: Ingester, changes: ReadableStream<Uint8Array>, epoch?: number): Promise<BuiltLayer> {
  if (epoch === undefined) return storeLayer(store, changes);
  const w = new TarWriter();
  const done = storeLayer(store, w.readable);
  for await (const e of readTar(changes)) {
    const header = { ...e.header, mtime: Math.min(e.header.mtime, epoch) };
    await w.add(header, e.header.type === 'file' ? await e.bytes() : undefined);
  }
  await w.finish();
  return done;
}

export async function stageFiles(store: Provider, layers: Descriptor[]): Promise<StageFiles> {
  const files: StageFiles = new Map();
  for (const l of layers) {
    const tar = decompressLayer(store.readStream(l.digest), l.mediaType);
    const opaque: string[] = [];
    const entries: FileSpec[] = [];
    for await (const e of readTar(tar)) {
      const p = e.header.path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
      const w = classifyWhiteout(p);
      if (w?.kind === 'opaque') { opaque.push(w.dir); continue; }
      if (w?.kind === 'whiteout') {
        for (const k of [...files.keys()]) if (k === w.target || k.startsWith(w.target + '/')) files.delete(k);
        continue;
      }
      const type = e.header.type === 'directory' ? 'directory' : e.header.type === 'symlink' ? 'symlink' : e.header.type === 'file' || e.header.type === 'hardlink' ? 'file' : undefined;
      if (!type) continue;
      const spec: FileSpec = { path: p, type, mode: e.header.mode, uid: e.header.uid, gid: e.header.gid, mtime: e.header.mtime };
      if (e.header.type === 'file') spec.data = await e.bytes();
      if (e.header.type === 'hardlink') spec.data = files.get(e.header.linkname!.replace(/^\.?\/+/, ''))?.data ?? new Uint8Array();
      if (e.header.type === 'symlink' && e.header.linkname !== undefined) spec.linkname = e.header.linkname;
      entries.push(spec);
    }
    for (const dir of opaque) for (const k of [...files.keys()]) if (k.startsWith(dir + '/')) files.delete(k);
    for (const s of entries) files.set(s.path, s);
  }
  return files;
}
