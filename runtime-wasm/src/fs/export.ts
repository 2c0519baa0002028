/**
 * What a container changed, as a layer: an uncompressed tar with OCI
 * whiteouts, for `commit` and the build.
 *
 * Each node the container touched is compared with what the layers alone
 * give at its place: a node still at its place is written only when it
 * changed (a directory's header, a file with its bytes), a node somewhere
 * else (made by the container, or renamed there) is written whole, a
 * directory with everything beneath it and, when the layers have a directory
 * of that name, an opaque marker; a tombstone becomes a `.wh.` whiteout.
 * Nodes made by skiff (/tmp, /dev/null, mount points) are left out, and so is
 * everything mounted. The changes are taken at the call: later writes do not
 * show up in a stream already returned.
 */
import { OPAQUE_MARKER, TarWriter, whiteoutPath, type TarHeader } from '@skiff/sdk';
import { LayeredVolume, MDevice, MDir, MFile, MSymlink, type MMeta } from './layered.js';
import type { FsNode } from './node.js';

export interface Change {
  header: TarHeader;
  body?: Uint8Array;
}

type MNode = MDir | MFile | MSymlink | MDevice;

function isM(n: FsNode | null | undefined): n is MNode {
  return n instanceof MDir || n instanceof MFile || n instanceof MSymlink || n instanceof MDevice;
}

/** Is `node` what the layers alone give at `name` in `dir`? */
function atOrigin(dir: MDir, name: string, node: MNode): boolean {
  const hit = dir.lowerAt(name);
  if (!hit) return false;
  if ('dirs' in hit) return node instanceof MDir && node.lowers.length > 0 && node.lowers[0] === hit.dirs[0];
  return !(node instanceof MDir) && node.lower === hit.leaf;
}

function marker(path: string): Change {
  return { header: { path, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0 } };
}

class Collector {
  readonly out: Change[] = [];
  /** Files with several names: the first path written, for the hard links after it. */
  private readonly written = new Map<MFile, string>();

  entry(node: MNode, path: string, out: Change[]): void {
    const h: TarHeader = { path, type: 'directory', mode: node.mode, uid: node.uid, gid: node.gid, size: 0, mtime: Number(node.mtim / 1_000_000_000n) };
    if (node.xattrs) h.xattrs = node.xattrs;
    if (node instanceof MDir) {
      out.push({ header: h });
    } else if (node instanceof MFile) {
      const first = node.nlink > 1 ? this.written.get(node) : undefined;
      if (first !== undefined) {
        out.push({ header: { ...h, type: 'hardlink', linkname: first } });
        return;
      }
      if (node.nlink > 1) this.written.set(node, path);
      const body = node.bytes();
      node.freeze(); // the stream keeps a view of these bytes: the next write copies them first
      out.push({ header: { ...h, type: 'file', size: body.length }, body });
    } else if (node instanceof MSymlink) {
      out.push({ header: { ...h, type: 'symlink', linkname: node.target } });
    } else {
      out.push({ header: { ...h, type: node.kind, devmajor: node.major, devminor: node.minor } });
    }
  }

  /** A directory that has been at its place all along: only what changed. */
  diff(dir: MDir, prefix: string, out: Change[]): void {
    for (const name of [...dir.children.keys()].sort()) {
      const node = dir.children.get(name);
      const path = prefix + name;
      if (node === null) {
        out.push(marker(whiteoutPath(path)));
        continue;
      }
      if (!isM(node)) continue;
      if (node.synthetic) {
        this.synthetic(node, path, out);
        continue;
      }
      if (atOrigin(dir, name, node)) {
        if (node.changed) this.entry(node, path, out);
        if (node instanceof MDir) this.diff(node, `${path}/`, out);
        continue;
      }
      this.entry(node, path, out);
      if (node instanceof MDir) {
        const hit = dir.lowerAt(name);
        if (hit && 'dirs' in hit) out.push(marker(`${path}/${OPAQUE_MARKER}`));
        this.all(node, `${path}/`, out);
      }
    }
  }

  /** A directory new at its place: everything in it. */
  all(dir: MDir, prefix: string, out: Change[]): void {
    for (const [name] of dir.layeredEntries()) {
      const node = dir.lookupLayered(name);
      if (!isM(node)) continue;
      const path = prefix + name;
      if (node.synthetic) {
        this.synthetic(node, path, out);
        continue;
      }
      this.entry(node, path, out);
      if (node instanceof MDir) this.all(node, `${path}/`, out);
    }
  }

  /** A node skiff made: left out, but a directory still carries what the guest put in it. */
  private synthetic(node: MNode, path: string, out: Change[]): void {
    if (!(node instanceof MDir)) return;
    const inner: Change[] = [];
    if (node.lowers.length) this.diff(node, `${path}/`, inner);
    else this.all(node, `${path}/`, inner);
    if (!inner.length) return;
    this.entry(node, path, out);
    for (const c of inner) out.push(c);
  }
}

/** The changes of a layered volume, as tar entries in order (parents first). */
export function collectChanges(vol: LayeredVolume): Change[] {
  // Every name of a changed multi-name file must be seen, not only those looked up.
  for (const [lower, node] of vol.links) {
    if (!node.changed || !lower.paths) continue;
    for (const p of lower.paths) {
      let d: FsNode | null = vol.root;
      for (const part of p.split('/')) d = d instanceof MDir ? d.lookupLayered(part) : null;
    }
  }
  const c = new Collector();
  c.diff(vol.root, '', c.out);
  return c.out;
}

/** The changes as an uncompressed tar stream (OCI whiteouts). */
export function exportChanges(vol: LayeredVolume): ReadableStream<Uint8Array> {
  return changesToTar(collectChanges(vol));
}

export function changesToTar(changes: Change[]): ReadableStream<Uint8Array> {
  const w = new TarWriter();
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const abort = new AbortController();
  w.readable.pipeTo(writable, { signal: abort.signal }).catch(() => {});
  void (async () => {
    for (const c of changes) await w.add(c.header, c.body);
    await w.finish();
  })().catch((err) => abort.abort(err));
  return readable;
}

export type { MMeta };
