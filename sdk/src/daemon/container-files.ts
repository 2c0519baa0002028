/**
 * A container's files as `docker cp` sees them (`GET/HEAD
 * /containers/{id}/archive`): the image's layers, then what the container
 * changed (the backend's exportChanges), applied with OCI whiteouts; paths
 * under a bind mount or a host-path volume are read from the host. Symlinks
 * in the parent directories of the path are followed; the last one is not.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { notFound } from '../errors/index.js';
import type { Engine } from '../runtime/engine.js';
import type { ContainerRecord } from '../runtime/records.js';
import type { ImageManifest } from '../image/types.js';
import type { ImageSummary } from '../image/store.js';
import { readTar } from '../layers/tar-reader.js';
import { TarWriter, type TarHeader } from '../layers/tar-writer.js';
import { decompressLayer } from '../layers/compression.js';
import { classifyWhiteout, isWhiteoutMeta } from '../layers/whiteout.js';
import { cleanEntryPath, parentOf, resolveInside } from '../layers/paths.js';

interface Node {
  header: TarHeader;
  data?: Uint8Array;
}

/** What `X-Docker-Container-Path-Stat` carries (Go's os.FileMode in `mode`). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
const GO_MODE_NAMED_PIPE = 2 ** 25;
const GO_MODE_DEVICE = 2 ** 26;
const GO_MODE_CHAR = 2 ** 21;
const GO_MODE_SETUID = 2 ** 23;
const GO_MODE_SETGID = 2 ** 22;
const GO_MODE_STICKY = 2 ** 20;

export function goFileMode(h: Pick<TarHeader, 'type' | 'mode'>): number {
  let m = h.mode & 0o777;
  if (h.mode & 0o4000) m += GO_MODE_SETUID;
  if (h.mode & 0o2000) m += GO_MODE_SETGID;
  if (h.mode & 0o1000) m += GO_MODE_STICKY;
  if (h.type === 'directory') m += GO_MODE_DIR;
  else if (h.type === 'symlink') m += GO_MODE_SYMLINK;
  else if (h.type === 'fifo') m += GO_MODE_NAMED_PIPE;
  else if (h.type === 'char') m += GO_MODE_DEVICE + GO_MODE_CHAR;
  else if (h.type === 'block') m += GO_MODE_DEVICE;
  return m;
}

type Source = () => Promise<ReadableStream<Uint8Array>>;

function layerSources(engine: Engine, r: ContainerRecord): Promise<Source[]> {
  return engine.layout.readBytes(r.manifestDigest).then((bytes) => {
    const manifest = JSON.parse(new TextDecoder().decode(bytes)) as ImageManifest;
    const sources: Source[] = manifest.layers.map((d) => async () => decompressLayer(engine.layout.readStream(d.digest), d.mediaType));
    sources.push(() => engine.exportChanges(r.id));
    return sources;
  });
}

const inside = (p: string, dir: string) => dir === '' || p === dir || p.startsWith(`${dir}/`);
const below = (p: string, dir: string) => (dir === '' ? p !== '' : p.startsWith(`${dir}/`));

/** Applies the layers, keeping the bodies of entries at or under `want`, and every symlink. */
async function collect(sources: Source[], want: string): Promise<{ nodes: Map<string, Node>; links: Map<string, string> }> {
  const nodes = new Map<string, Node>();
  const links = new Map<string, string>();
  const drop = (dir: string, self: boolean) => {
    for (const m of [nodes, links] as Array<Map<string, unknown>>) {
      for (const k of [...m.keys()]) if ((self && k === dir) || below(k, dir)) m.delete(k);
    }
  };
  for (const open of sources) {
    const entries: Array<{ path: string; node: Node }> = [];
    const opaque: string[] = [];
    const whiteouts: string[] = [];
    for await (const e of readTar(await open())) {
      const path = cleanEntryPath(e.header.path);
      if (path === '' || isWhiteoutMeta(path)) continue;
      const w = classifyWhiteout(path);
      if (w?.kind === 'opaque') opaque.push(w.dir);
      else if (w?.kind === 'whiteout') whiteouts.push(w.target);
      else {
        const keep = inside(path, want) || inside(want, path);
        const node: Node = { header: { ...e.header, path } };
        if (keep && e.header.type === 'file') node.data = await e.bytes();
        entries.push({ path, node });
      }
    }
    // A layer's opaque markers and whiteouts hide the layers below it, whatever their order in the tar.
    for (const dir of opaque) drop(dir, false);
    for (const t of whiteouts) drop(t, true);
    for (const { path, node } of entries) {
      const old = nodes.get(path) ?? (links.has(path) ? { header: { type: 'symlink' } } : undefined);
      if (old && old.header.type === 'directory' && node.header.type !== 'directory') drop(path, false);
      if (node.header.type === 'symlink') links.set(path, node.header.linkname ?? '');
      else links.delete(path);
      if (inside(path, want) || inside(want, path)) nodes.set(path, node);
    }
  }
  return { nodes, links };
}

/** Follows symlinks in the parent directories of `path` (not in its last part). */
function resolveParents(path: string, links: Map<string, string>): string {
  let parts = path.split('/').filter(Boolean);
  for (let hops = 0; hops < 40; hops++) {
    let changed = false;
    for (let i = 0; i < parts.length - 1; i++) {
      const prefix = parts.slice(0, i + 1).join('/');
      const target = links.get(prefix);
      if (target === undefined) continue;
      const resolved = resolveInside(parentOf(prefix), target);
      parts = [...resolved.split('/').filter(Boolean), ...parts.slice(i + 1)];
      changed = true;
      break;
    }
    if (!changed) return parts.join('/');
  }
  throw notFound(`too many levels of symbolic links in ${path}`);
}

function hostNode(path: string, rel: string): Node {
  const st = lstatSync(path);
  const type: TarHeader['type'] = st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : 'file';
  const header: TarHeader = { path: rel, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: type === 'file' ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000) };
  if (type === 'symlink') header.linkname = readlinkSync(path);
  const node: Node = { header };
  if (type === 'file') node.data = new Uint8Array(readFileSync(path));
  return node;
}

/** The files at or under a host directory, keyed by their path in the container. */
function hostTree(hostPath: string, containerPath: string): Map<string, Node> {
  const out = new Map<string, Node>();
  const walk = (host: string, rel: string) => {
    let node: Node;
    try {
      node = hostNode(host, rel);
    } catch {
      return;
    }
    out.set(rel, node);
    if (node.header.type === 'directory') for (const name of readdirSync(host).sort()) walk(join(host, name), `${rel}/${name}`);
  };
  walk(hostPath, containerPath);
  return out;
}

export interface ContainerPath {
  stat: PathStat;
  /** The tar `docker cp` expects: the path's base name at the top. */
  archive(): ReadableStream<Uint8Array>;
}

/** Finds `path` in the container; NOT_FOUND when it is not there. */
export async function containerPath(engine: Engine, r: ContainerRecord, path: string): Promise<ContainerPath> {
  if (!path.startsWith('/')) path = `/${path}`;
  let want = cleanEntryPath(path);
  let nodes: Map<string, Node>;
  // A bind mount or a host-path volume covers the path: read the host's files.
  const mountFor = async (p: string) => {
    const m = [...r.mounts].sort((a, b) => b.target.length - a.target.length).find((m) => m.type !== 'tmpfs' && inside(p, m.target.slice(1)));
    if (!m) return undefined;
    const host = m.type === 'bind' ? m.source : (await engine.volumes.handle(m.source)).hostPath;
    return host ? { host, target: m.target.slice(1) } : undefined;
  };
  let mount = await mountFor(want);
  if (mount) {
    nodes = hostTree(join(mount.host, want.slice(mount.target.length)), want);
  } else {
    const sources = await layerSources(engine, r);
    let found = await collect(sources, want);
    const resolved = resolveParents(want, found.links);
    if (resolved !== want) {
      want = resolved;
      mount = await mountFor(want);
      found = mount ? { nodes: hostTree(join(mount.host, want.slice(mount.target.length)), want), links: new Map() } : await collect(sources, want);
    }
    nodes = found.nodes;
  }
  let top = nodes.get(want);
  const under = [...nodes.keys()].filter((k) => below(k, want)).sort();
  if (!top && want === '') top = { header: { path: '', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 } };
  if (!top && under.length) top = { header: { path: want, type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 } };
  if (!top) throw notFound(`Could not find the file ${path} in container ${r.name}`);
  // `DIR/.` archives the directory's contents under `.`, as dockerd does (docker cp CTR:DIR/. DEST).
  const base = want === '' || /(^|\/)\.$/.test(path) ? '.' : want.slice(want.lastIndexOf('/') + 1);
  const rebase = (p: string) => (p === want ? base : `${base}${want === '' ? '/' : ''}${p.slice(want.length)}`);
  const stat: PathStat = {
    name: want === '' ? '/' : base,
    size: top.header.type === 'file' ? top.header.size : 0,
    mode: goFileMode(top.header),
    mtime: new Date(top.header.mtime * 1000).toISOString(),
    linkTarget: top.header.type === 'symlink' ? (top.header.linkname ?? '') : '',
  };
  const entries = top.header.type === 'directory' ? [want, ...under] : [want];
  return {
    stat,
    archive() {
      const w = new TarWriter();
      void (async () => {
        for (const p of entries) {
          const n = p === want ? top! : nodes.get(p)!;
          const h: TarHeader = { ...n.header, path: rebase(p) };
          if (h.type === 'hardlink') {
            const target = cleanEntryPath(h.linkname ?? '');
            if (!inside(target, want) || !nodes.has(target)) continue;
            h.linkname = rebase(target);
          }
          await w.add(h, n.data ?? (h.type === 'file' && h.size > 0 ? new Uint8Array(h.size) : undefined));
        }
        await w.finish();
      })().catch((err) => w.abort(err));
      return w.readable;
    },
  };
}

/** `docker diff`: what the container changed against its image (Kind 0 changed, 1 added, 2 deleted). */
export async function containerChanges(engine: Engine, r: ContainerRecord): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }>> {
  const sources = await layerSources(engine, r);
  const changes = sources.pop()!;
  // The image's paths (headers only: collect keeps no bodies for a path that matches nothing).
  const inImage = new Set<string>();
  for (const open of sources) {
    for await (const e of readTar(await open())) {
      const path = cleanEntryPath(e.header.path);
      if (path === '' || isWhiteoutMeta(path)) continue;
      const w = classifyWhiteout(path);
      if (w?.kind === 'opaque') for (const k of [...inImage]) { if (below(k, w.dir)) inImage.delete(k); }
      else if (w?.kind === 'whiteout') for (const k of [...inImage]) { if (k === w.target || below(k, w.target)) inImage.delete(k); }
      else inImage.add(path);
    }
  }
  const out: Array<{ Path: string; Kind: 0 | 1 | 2 }> = [];
  for await (const e of readTar(await changes())) {
    const path = cleanEntryPath(e.header.path);
    if (path === '' || isWhiteoutMeta(path)) continue;
    const w = classifyWhiteout(path);
    if (w?.kind === 'whiteout') out.push({ Path: `/${w.target}`, Kind: 2 });
    else if (!w) out.push({ Path: `/${path}`, Kind: inImage.has(path) ? 0 : 1 });
  }
  return out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

const utf8 = new TextEncoder();

/**
 * docker ps -s's SizeRw: the bytes of the files the container wrote, from its
 * changes (what docker diff and commit read); 0 when they cannot be read (a
 * WASI container that ran in another process keeps none).
 */
async function writableSize(engine: Engine, r: ContainerRecord): Promise<number> {
  let size = 0;
  try {
    for await (const e of readTar(await engine.exportChanges(r.id))) {
      // As dockerd's directory.Size: files and symlinks (their target's length), not directories.
      if (e.header.type === 'file') size += e.header.size;
      else if (e.header.type === 'symlink') size += utf8.encode(e.header.linkname ?? '').length;
    }
  } catch {
    return 0;
  }
  return size;
}

/** docker ps -s, inspect -s and system df: SizeRw (what a container wrote) and SizeRootFs (that and its image's size, as `images` lists it). */
export function containerSizes(engine: Engine, images: ImageSummary[]): (r: ContainerRecord) => Promise<{ SizeRw: number; SizeRootFs: number }> {
  const imageSize = new Map(images.map((s) => [s.id, s.size]));
  return async (r) => {
    const rw = await writableSize(engine, r);
    return { SizeRw: rw, SizeRootFs: rw + (imageSize.get(r.imageId) ?? 0) };
  };
}
