/**
 * A read-only index of one image layer, built once per layer (diffID) from its
 * tar entries and shared by every container of every image that has the
 * layer. File bodies are kept as the Uint8Arrays the tar reader gave, and
 * never copied again: a container reads them in place and copies a file only
 * when it writes to it.
 *
 * Recorded as the OCI image spec defines a layer: directories, files, symlinks,
 * hard links (one node under several names), devices and FIFOs, modes, owners,
 * mtimes and xattrs, whiteouts (`.wh.NAME`: NAME is deleted from the layers
 * below) and opaque directories (`.wh..wh..opq`: the layers below contribute
 * nothing to this directory).
 */
import { classifyWhiteout, cleanEntryPath, type TarHeader } from '@skiff/sdk';
import { newIno } from './ino.js';

/** One tar entry as the sdk's readTar yields it (the body must be read before the next entry). */
export interface TarEntryLike {
  header: TarHeader;
  bytes(): Promise<Uint8Array>;
}

interface LMeta {
  /** Stable for the life of the process: every container sees the same inode number. */
  readonly ino: bigint;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, possibly fractional (as in the tar header). */
  mtime: number;
  xattrs?: Record<string, Uint8Array>;
}

export interface LDir extends LMeta {
  kind: 'dir';
  children: Map<string, LNode>;
  /** Names this layer deletes from the layers below. */
  whiteouts?: Set<string>;
  /** The layers below contribute nothing here. */
  opaque: boolean;
  /** Made up for a path's parent that the layer has no entry for: its metadata yields to a lower layer's. */
  implicit: boolean;
}

export interface LFile extends LMeta {
  kind: 'file';
  data: Uint8Array;
  /** Names of this node in the layer (hard links). */
  nlink: number;
  /** Every path of the node, when it has more than one. */
  paths?: string[];
}

export interface LSymlink extends LMeta {
  kind: 'symlink';
  target: string;
}

export interface LDevice extends LMeta {
  kind: 'char' | 'block' | 'fifo';
  major: number;
  minor: number;
}

/** A hard link whose target is in a lower layer (docker accepts those): resolved against the layers below. */
export interface LLowerLink {
  kind: 'lowerlink';
  /** Clean path from the root. */
  target: string;
}

export type LNode = LDir | LFile | LSymlink | LDevice | LLowerLink;
export type LLeaf = LFile | LSymlink | LDevice;

export interface LayerIndex {
  /** The uncompressed layer's digest, when known. */
  readonly diffId: string | undefined;
  readonly root: LDir;
  /** Regular files and their total size (for cache accounting). */
  readonly files: number;
  readonly bytes: number;
}

const EMPTY = new Uint8Array(0);

function newDir(implicit: boolean, meta?: Partial<LMeta>): LDir {
  return {
    kind: 'dir', ino: newIno(), mode: meta?.mode ?? 0o755, uid: meta?.uid ?? 0, gid: meta?.gid ?? 0, mtime: meta?.mtime ?? 0,
    children: new Map(), opaque: false, implicit,
  };
}

function metaOf(h: TarHeader): Omit<LMeta, 'ino'> {
  const m: Omit<LMeta, 'ino'> = { mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, mtime: h.mtime };
  if (h.xattrs && Object.keys(h.xattrs).length) m.xattrs = h.xattrs;
  return m;
}

/** The node at a clean path in one layer's tree, if any. */
export function lookupInLayer(root: LDir, path: string): LNode | undefined {
  let node: LNode = root;
  if (path === '') return node;
  for (const part of path.split('/')) {
    if (node.kind !== 'dir') return undefined;
    const next: LNode | undefined = node.children.get(part);
    if (!next) return undefined;
    node = next;
  }
  return node;
}

/** Builds the index of one layer from its entries (in tar order). */
export async function indexLayer(entries: AsyncIterable<TarEntryLike>, diffId?: string): Promise<LayerIndex> {
  const root = newDir(false);
  let files = 0;
  let bytes = 0;

  /** The directory at a clean path, made (implicitly) where missing. */
  const dirAt = (path: string): LDir => {
    let dir = root;
    if (path === '') return dir;
    for (const part of path.split('/')) {
      const next = dir.children.get(part);
      if (next && next.kind === 'dir') {
        dir = next;
        continue;
      }
      // A missing parent, or a non-directory in the way (tar would fail; we make the directory).
      const made = newDir(true);
      if (next) unlinkLeaf(next);
      dir.children.set(part, made);
      dir = made;
    }
    return dir;
  };

  const unlinkLeaf = (n: LNode, path?: string) => {
    if (n.kind === 'file' && n.nlink > 1) {
      n.nlink--;
      if (n.paths && path) n.paths = n.paths.filter((p) => p !== path);
    }
  };

  for await (const entry of entries) {
    const h = entry.header;
    const path = cleanEntryPath(h.path);
    if (path === '') {
      if (h.type === 'directory') Object.assign(root, metaOf(h), { implicit: false });
      continue;
    }
    const slash = path.lastIndexOf('/');
    const parentPath = slash < 0 ? '' : path.slice(0, slash);
    const name = path.slice(slash + 1);
    const wo = classifyWhiteout(path);
    if (wo) {
      if (wo.kind === 'opaque') dirAt(wo.dir).opaque = true;
      else (dirAt(parentPath).whiteouts ??= new Set()).add(name.slice(4));
      continue;
    }
    const dir = dirAt(parentPath);
    const existing = dir.children.get(name);
    let node: LNode;
    switch (h.type) {
      case 'directory':
        if (existing?.kind === 'dir') {
          Object.assign(existing, metaOf(h), { implicit: false });
          continue;
        }
        node = { ...newDir(false), ...metaOf(h) };
        break;
      case 'file': {
        const data = h.size > 0 ? await entry.bytes() : EMPTY;
        node = { kind: 'file', ino: newIno(), ...metaOf(h), data, nlink: 1 };
        files++;
        bytes += data.length;
        break;
      }
      case 'symlink':
        node = { kind: 'symlink', ino: newIno(), ...metaOf(h), target: h.linkname ?? '' };
        break;
      case 'hardlink': {
        const target = cleanEntryPath(h.linkname ?? '');
        if (target === path) continue;
        const t = lookupInLayer(root, target);
        if (!t) node = { kind: 'lowerlink', target };
        else if (t.kind === 'dir') continue; // a hard link to a directory: tar refuses it, so do we
        else {
          if (t.kind === 'file') {
            t.nlink++;
            (t.paths ??= [target]).push(path);
          }
          node = t;
        }
        break;
      }
      case 'char':
      case 'block':
      case 'fifo':
        node = { kind: h.type, ino: newIno(), ...metaOf(h), major: h.devmajor ?? 0, minor: h.devminor ?? 0 };
        break;
      default:
        continue;
    }
    if (existing && existing !== node) unlinkLeaf(existing, path);
    dir.children.set(name, node);
  }
  return { diffId, root, files, bytes };
}
