/**
 * A container's root file system: the image's layer indexes (read-only,
 * shared) seen through a writable upper layer of the container's own, merged
 * top-down as overlayfs merges them.
 *
 * Nothing is copied or walked when a container starts: a node object is made
 * the first time a path is looked up (an MDir remembers the layer directories
 * that make it up), a file's bytes are copied the first time it is written,
 * and a directory's listing is merged the first time it is read.
 *
 * The upper layer is the set of node objects itself: a directory's `children`
 * holds every child looked up so far, the ones the container made, and
 * tombstones (null) for names it deleted that the layers below still have.
 * What changed is found at export time by comparing each child with what the
 * layers alone would give at its place (see export.ts), so a rename needs no
 * bookkeeping: a directory moves as one object, its contents still come
 * lazily from the same layer directories, and the export writes the whole
 * subtree at its new place with an opaque marker (the lazy choice; nothing is
 * copied at rename time).
 */
import { namesChanged } from '../wasi/resolve.js';
import { openDir } from './dir-fd.js';
import { MAX_FILE_SIZE, MemFileFd, NullFd } from './file-fd.js';
import { newIno } from './ino.js';
import type { LayerIndex, LDevice, LDir, LFile, LLeaf, LNode, LSymlink } from './layer-index.js';
import { DirNode, Errno, FileNode, Filetype, FsNode, makeStat, SymlinkNode, type FsContext, type Listing, type Opened, type Stat, type Volume } from './node.js';

const EMPTY = new Uint8Array(0);
const enc = new TextEncoder();

export function secondsToNs(s: number): bigint {
  const whole = Math.floor(s);
  return BigInt(whole) * 1_000_000_000n + BigInt(Math.round((s - whole) * 1e9));
}

/** Metadata every node of the layered file system carries (for stat and for the export). */
export interface MMeta {
  mode: number;
  uid: number;
  gid: number;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
  /** Differs from the layers: the export writes it. */
  changed: boolean;
  /** Made by skiff, not the image or the guest (/tmp, /dev/null, mount points): never exported itself. */
  synthetic: boolean;
  xattrs?: Record<string, Uint8Array>;
}

function metaFrom(n: MMeta, l: { mode: number; uid: number; gid: number; mtime: number; xattrs?: Record<string, Uint8Array> }): void {
  n.mode = l.mode;
  n.uid = l.uid;
  n.gid = l.gid;
  n.atim = n.mtim = n.ctim = secondsToNs(l.mtime);
  if (l.xattrs) n.xattrs = l.xattrs;
}

function metaNew(n: MMeta, mode: number, now: bigint): void {
  n.mode = mode;
  n.uid = 0;
  n.gid = 0;
  n.atim = n.mtim = n.ctim = now;
  n.changed = true;
}

function setMetaTimes(n: MMeta, now: bigint, a: bigint | null, m: bigint | null): number {
  if (a !== null) n.atim = a;
  if (m !== null) n.mtim = m;
  n.ctim = now;
  n.changed = true;
  return Errno.SUCCESS;
}

/** What the layers alone hold at a name: merged directories, or one leaf. */
export type LowerHit = { dirs: LDir[]; pos: number[] } | { leaf: LLeaf; pos: number };

/**
 * Merges `name` across layer directories (top first; `pos` their places in the
 * stack, 0 = top): the first layer with the name decides, a directory merges
 * with the directories below it until an opaque one, a whiteout hides the
 * layers below its own.
 */
export function lowerHit(vol: LayeredVolume, lowers: LDir[], pos: number[], name: string): LowerHit | null {
  let dirs: LDir[] | undefined;
  let dpos: number[] | undefined;
  for (let k = 0; k < lowers.length; k++) {
    const l = lowers[k]!;
    const c = l.children.get(name);
    if (c) {
      if (c.kind === 'dir') {
        (dirs ??= []).push(c);
        (dpos ??= []).push(pos[k]!);
        if (c.opaque) break;
      } else if (dirs) {
        break;
      } else if (c.kind === 'lowerlink') {
        return vol.lowerLink(c.target, pos[k]! + 1);
      } else {
        return { leaf: c, pos: pos[k]! };
      }
    }
    if (l.whiteouts?.has(name)) break;
  }
  return dirs ? { dirs, pos: dpos! } : null;
}

export class LayeredVolume implements Volume {
  /** Layer roots, top first. */
  readonly roots: LDir[];
  /** Nodes of files with several names in a layer, so every name gives the same node. */
  readonly links = new Map<LFile, MFile>();
  private rootDir: MDir | undefined;

  /** `layers`: bottom first, as in an image manifest. `exported`: exportChanges applies (false for tmpfs). */
  constructor(readonly ctx: FsContext, readonly dev: bigint, layers: LayerIndex[], readonly readOnly: boolean, readonly exported = true) {
    this.roots = layers.map((l) => l.root).reverse();
  }

  get root(): MDir {
    if (!this.rootDir) {
      const lowers: LDir[] = [];
      const pos: number[] = [];
      for (let k = 0; k < this.roots.length; k++) {
        lowers.push(this.roots[k]!);
        pos.push(k);
        if (this.roots[k]!.opaque) break;
      }
      this.rootDir = new MDir(this, null, lowers, pos);
    }
    return this.rootDir;
  }

  /** The merged view, layers alone, of a clean path from stack position `from` down (for hard links across layers). */
  lowerLink(path: string, from: number): LowerHit | null {
    let lowers = this.roots.slice(from);
    let pos = lowers.map((_, k) => k + from);
    const parts = path.split('/');
    for (let i = 0; i < parts.length; i++) {
      const hit = lowerHit(this, lowers, pos, parts[i]!);
      if (!hit) return null;
      if (i === parts.length - 1) return 'leaf' in hit ? hit : null;
      if (!('dirs' in hit)) return null;
      lowers = hit.dirs;
      pos = hit.pos;
    }
    return null;
  }

  /** The node for a leaf of the layers (one per file with several names). */
  leafNode(leaf: LLeaf): FsNode {
    switch (leaf.kind) {
      case 'file': {
        if (leaf.nlink < 2) return new MFile(this, leaf);
        let n = this.links.get(leaf);
        if (!n) {
          n = new MFile(this, leaf);
          this.links.set(leaf, n);
        }
        return n;
      }
      case 'symlink':
        return new MSymlink(this, '', leaf);
      default:
        return new MDevice(this, leaf.kind, leaf.major, leaf.minor, leaf);
    }
  }
}

export class MDir extends DirNode implements MMeta {
  mode = 0o755;
  uid = 0;
  gid = 0;
  atim = 0n;
  mtim = 0n;
  ctim = 0n;
  changed = false;
  synthetic = false;
  xattrs?: Record<string, Uint8Array>;
  /** Children looked up or made so far; null: deleted here, though the layers have it. */
  readonly children = new Map<string, FsNode | null>();
  /** Mounts on names in this directory (they hide what is there, and are never exported). */
  mounts: Map<string, FsNode> | undefined;
  private listing: Listing | undefined;
  private subdirs: number | undefined;
  /** Removed by rmdir (or replaced by a rename): nothing can be made in it any more (ENOENT, as on Linux). */
  removed = false;
  /** Its names change only through the methods below, which report removals (see namesChanged). */
  override readonly namesStable = true;

  /** `lowers`: the layer directories merged here, top first (empty: made by the container); `pos`: their stack places. */
  constructor(readonly vol: LayeredVolume, public parent: DirNode | null, readonly lowers: LDir[], readonly pos: number[]) {
    super();
    if (lowers.length) {
      this.ino = lowers[0]!.ino;
      metaFrom(this, lowers.find((l) => !l.implicit) ?? lowers[0]!);
    } else {
      this.ino = newIno();
      metaNew(this, 0o755, vol.ctx.now());
    }
  }

  override lookup(name: string): FsNode | null {
    if (this.mounts) {
      const m = this.mounts.get(name);
      if (m) return m;
    }
    return this.lookupLayered(name);
  }

  /** The node at `name` in this file system, beneath any mount. */
  lookupLayered(name: string): FsNode | null {
    const c = this.children.get(name);
    if (c !== undefined) return c;
    if (this.lowers.length === 0) return null;
    const hit = lowerHit(this.vol, this.lowers, this.pos, name);
    if (!hit) return null;
    const node = 'dirs' in hit ? new MDir(this.vol, this, hit.dirs, hit.pos) : this.vol.leafNode(hit.leaf);
    this.children.set(name, node);
    return node;
  }

  /** What the layers alone give at `name` (ignoring this container's changes). */
  lowerAt(name: string): LowerHit | null {
    return this.lowers.length ? lowerHit(this.vol, this.lowers, this.pos, name) : null;
  }

  /** Names in this file system, merged and sorted, beneath any mount; with the node or layer entry of each. */
  layeredEntries(): Array<[string, FsNode | LNode]> {
    const decided = new Map<string, FsNode | LNode | null>(this.children);
    for (const l of this.lowers) {
      for (const [name, c] of l.children) if (!decided.has(name)) decided.set(name, c);
      if (l.whiteouts) for (const w of l.whiteouts) if (!decided.has(w)) decided.set(w, null);
    }
    const out: Array<[string, FsNode | LNode]> = [];
    for (const [name, v] of decided) if (v) out.push([name, v]);
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return out;
  }

  override list(): Listing {
    if (this.listing) return this.listing;
    const entries = this.layeredEntries();
    if (this.mounts) {
      const byName = new Map<string, FsNode | LNode>(entries);
      for (const [name, m] of this.mounts) byName.set(name, m);
      entries.length = 0;
      for (const e of byName) entries.push(e);
      entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    }
    const names: string[] = [];
    const inos: bigint[] = [];
    const types: number[] = [];
    let subdirs = 0;
    for (const [name, v] of entries) {
      let ino: bigint, type: number;
      if (v instanceof FsNode) {
        ino = v.ino;
        type = v.filetype;
      } else if (v.kind === 'lowerlink') {
        const hit = this.lowerAt(name);
        if (!hit || !('leaf' in hit)) continue;
        ino = hit.leaf.ino;
        type = leafType(hit.leaf);
      } else {
        ino = v.ino;
        type = v.kind === 'dir' ? Filetype.DIRECTORY : leafType(v);
      }
      if (type === Filetype.DIRECTORY) subdirs++;
      names.push(name);
      inos.push(ino);
      types.push(type);
    }
    this.subdirs = subdirs;
    this.listing = { names, inos, types };
    return this.listing;
  }

  override isEmpty(): boolean {
    return this.list().names.length === 0;
  }

  override isMountPoint(name: string): boolean {
    return this.mounts?.has(name) ?? false;
  }

  override stat(): Stat {
    if (this.subdirs === undefined) this.list();
    return makeStat(this.vol.dev, this.ino, Filetype.DIRECTORY, 2 + this.subdirs!, 4096, this.atim, this.mtim, this.ctim);
  }

  override setTimes(a: bigint | null, m: bigint | null): number {
    return setMetaTimes(this, this.vol.ctx.now(), a, m);
  }

  override open(): Opened {
    return openDir(this);
  }

  /** The directory changed: new times, and the listing is merged again when next read. */
  private touch(dirDelta: number, now = this.vol.ctx.now()): void {
    this.mtim = this.ctim = now;
    this.changed = true;
    this.listing = undefined;
    if (this.subdirs !== undefined) this.subdirs += dirDelta;
  }

  /** Takes `name` out: a tombstone when the layers have it. */
  private unset(name: string, node: FsNode): void {
    // A directory or symlink gone from its name: remembered walk prefixes may be stale.
    if (!(node instanceof MFile) && !(node instanceof MDevice)) namesChanged();
    if (this.lowerAt(name)) this.children.set(name, null);
    else this.children.delete(name);
  }

  override createFile(name: string): MFile | number {
    if (this.removed) return Errno.NOENT;
    const f = new MFile(this.vol, undefined);
    this.children.set(name, f);
    this.touch(0, f.mtim);
    return f;
  }

  override createDir(name: string): number {
    if (this.removed) return Errno.NOENT;
    this.makeDir(name);
    return Errno.SUCCESS;
  }

  makeDir(name: string, mode = 0o755): MDir {
    const d = new MDir(this.vol, this, [], []);
    d.mode = mode;
    this.children.set(name, d);
    this.touch(1);
    return d;
  }

  override createSymlink(name: string, target: string): number {
    if (this.removed) return Errno.NOENT;
    this.children.set(name, new MSymlink(this.vol, target));
    this.touch(0);
    return Errno.SUCCESS;
  }

  /** Mounts `node` on `name` (at container creation). */
  addMount(name: string, node: FsNode): void {
    namesChanged();
    (this.mounts ??= new Map()).set(name, node);
    this.listing = undefined;
    this.subdirs = undefined;
  }

  /** Puts a node made by skiff (not exported itself) at `name`. */
  putSynthetic(name: string, node: FsNode & MMeta): void {
    namesChanged();
    node.synthetic = true;
    this.children.set(name, node);
    if (node instanceof MDir) node.parent = this;
    this.listing = undefined;
    if (this.subdirs !== undefined && node instanceof MDir) this.subdirs++;
  }

  override remove(name: string, node: FsNode): number {
    this.unset(name, node);
    const isDir = node instanceof MDir;
    if (isDir) node.removed = true;
    else dropLink(node);
    this.touch(isDir ? -1 : 0);
    return Errno.SUCCESS;
  }

  /** Takes `node` out of `name` for a move: no nlink change. */
  private takeOut(name: string, node: FsNode): void {
    this.unset(name, node);
    this.touch(node instanceof MDir ? -1 : 0);
  }

  /** Puts a moved node in at `name`. */
  private putIn(name: string, node: FsNode): void {
    this.children.set(name, node);
    if (node instanceof MDir) node.parent = this;
    if (isMeta(node)) {
      node.ctim = this.vol.ctx.now();
      node.changed = true;
    }
    this.touch(node instanceof MDir ? 1 : 0);
  }

  override move(name: string, node: FsNode, to: DirNode, toName: string, replaced: FsNode | null): number {
    if (!(to instanceof MDir) || to.vol !== this.vol) return Errno.XDEV;
    if (to.removed) return Errno.NOENT;
    if (replaced) {
      const ret = to.remove(toName, replaced);
      if (ret !== Errno.SUCCESS) return ret;
    }
    this.takeOut(name, node);
    to.putIn(toName, node);
    return Errno.SUCCESS;
  }

  override link(name: string, node: FsNode): number {
    if (this.removed) return Errno.NOENT;
    this.children.set(name, node);
    if (node instanceof MFile || node instanceof MSymlink || node instanceof MDevice) {
      node.nlink++;
      node.ctim = this.vol.ctx.now();
      node.changed = true;
    }
    this.touch(0);
    return Errno.SUCCESS;
  }
}

function isMeta(n: FsNode): n is FsNode & MMeta {
  return n instanceof MDir || n instanceof MFile || n instanceof MSymlink || n instanceof MDevice;
}

function dropLink(node: FsNode): void {
  if (node instanceof MFile || node instanceof MSymlink || node instanceof MDevice) {
    node.nlink = Math.max(0, node.nlink - 1);
    node.ctim = node.vol.ctx.now();
  }
}

function leafType(l: LLeaf): number {
  switch (l.kind) {
    case 'file': return Filetype.REGULAR_FILE;
    case 'symlink': return Filetype.SYMBOLIC_LINK;
    case 'char': return Filetype.CHARACTER_DEVICE;
    case 'block': return Filetype.BLOCK_DEVICE;
    default: return Filetype.UNKNOWN;
  }
}

export class MFile extends FileNode implements MMeta {
  mode = 0o644;
  uid = 0;
  gid = 0;
  atim = 0n;
  mtim = 0n;
  ctim = 0n;
  changed = false;
  synthetic = false;
  xattrs?: Record<string, Uint8Array>;
  nlink: number;
  /** The bytes: the layer's own until the first write (owned: false), then a buffer of ours with room to grow. */
  data: Uint8Array;
  size: number;
  owned = false;

  constructor(readonly vol: LayeredVolume, readonly lower: LFile | undefined) {
    super();
    if (lower) {
      this.ino = lower.ino;
      this.data = lower.data;
      this.size = lower.data.length;
      this.nlink = lower.nlink;
      metaFrom(this, lower);
    } else {
      this.ino = newIno();
      this.data = EMPTY;
      this.size = 0;
      this.nlink = 1;
      metaNew(this, 0o644, vol.ctx.now());
    }
  }

  /** The content (a view: copy it to keep it). */
  bytes(): Uint8Array {
    return this.data.subarray(0, this.size);
  }

  /** Still the layer's bytes, unchanged? */
  get pristine(): boolean {
    return !this.owned && this.lower !== undefined && this.data === this.lower.data;
  }

  read(pos: number, len: number): Uint8Array {
    const end = Math.min(this.size, pos + len);
    if (pos >= end) return EMPTY;
    // The layer's bytes never change, so a view will do; ours are copied (a later write would show through).
    return this.owned ? this.data.slice(pos, end) : this.data.subarray(pos, end);
  }

  write(pos: number, src: Uint8Array): number {
    const end = pos + src.length;
    if (end > MAX_FILE_SIZE) return Errno.FBIG;
    if (src.length === 0) return Errno.SUCCESS;
    if (!this.owned || end > this.data.length) {
      const ret = this.grow(end);
      if (ret !== Errno.SUCCESS) return ret;
    }
    this.data.set(src, pos);
    if (end > this.size) this.size = end;
    this.modified();
    return Errno.SUCCESS;
  }

  /** Copy-up, or more room: bytes past `size` in our buffer are always zero. */
  private grow(min: number): number {
    const cap = this.owned ? Math.max(min, Math.min(MAX_FILE_SIZE, this.data.length * 2)) : Math.max(min, this.size);
    let b: Uint8Array;
    try {
      b = new Uint8Array(cap);
    } catch {
      return Errno.NOSPC;
    }
    b.set(this.data.subarray(0, this.size));
    this.data = b;
    this.owned = true;
    return Errno.SUCCESS;
  }

  truncate(size: number): number {
    if (size > MAX_FILE_SIZE) return Errno.FBIG;
    if (size < this.size) {
      if (this.owned) this.data.fill(0, size, this.size);
      else this.data = this.data.subarray(0, size);
      this.size = size;
    } else if (size > this.size) {
      if (!this.owned || size > this.data.length) {
        const ret = this.grow(size);
        if (ret !== Errno.SUCCESS) return ret;
      }
      this.size = size;
    }
    this.modified();
    return Errno.SUCCESS;
  }

  /** After an export took a view of the bytes: the next write copies them first. */
  freeze(): void {
    if (this.owned) {
      this.data = this.data.subarray(0, this.size);
      this.owned = false;
    }
  }

  private modified(): void {
    this.mtim = this.ctim = this.vol.ctx.now();
    this.changed = true;
  }

  override stat(): Stat {
    return makeStat(this.vol.dev, this.ino, Filetype.REGULAR_FILE, this.nlink, this.size, this.atim, this.mtim, this.ctim);
  }

  override setTimes(a: bigint | null, m: bigint | null): number {
    return setMetaTimes(this, this.vol.ctx.now(), a, m);
  }

  override open(oflags: number, rights: bigint, fdflags: number): Opened {
    if (oflags & 8 /* TRUNC */) this.truncate(0);
    return { ret: Errno.SUCCESS, fd_obj: new MemFileFd(this, rights, fdflags) };
  }
}

export class MSymlink extends SymlinkNode implements MMeta {
  mode = 0o777;
  uid = 0;
  gid = 0;
  atim = 0n;
  mtim = 0n;
  ctim = 0n;
  changed = false;
  synthetic = false;
  xattrs?: Record<string, Uint8Array>;
  nlink = 1;
  readonly target: string;

  constructor(readonly vol: LayeredVolume, target: string, readonly lower?: LSymlink) {
    super();
    if (lower) {
      this.ino = lower.ino;
      this.target = lower.target;
      metaFrom(this, lower);
    } else {
      this.ino = newIno();
      this.target = target;
      metaNew(this, 0o777, vol.ctx.now());
    }
  }

  override readlink(): string {
    return this.target;
  }

  override stat(): Stat {
    return makeStat(this.vol.dev, this.ino, Filetype.SYMBOLIC_LINK, this.nlink, enc.encode(this.target).length, this.atim, this.mtim, this.ctim);
  }

  override setTimes(a: bigint | null, m: bigint | null): number {
    return setMetaTimes(this, this.vol.ctx.now(), a, m);
  }
}

/** A device node or FIFO. Only the null device (1:3) opens; others have no driver here (ENXIO). */
export class MDevice extends FsNode implements MMeta {
  mode = 0o666;
  uid = 0;
  gid = 0;
  atim = 0n;
  mtim = 0n;
  ctim = 0n;
  changed = false;
  synthetic = false;
  xattrs?: Record<string, Uint8Array>;
  nlink = 1;
  readonly filetype: number;

  constructor(readonly vol: LayeredVolume, readonly kind: 'char' | 'block' | 'fifo', readonly major: number, readonly minor: number, readonly lower?: LDevice) {
    super();
    this.filetype = kind === 'char' ? Filetype.CHARACTER_DEVICE : kind === 'block' ? Filetype.BLOCK_DEVICE : Filetype.UNKNOWN;
    if (lower) {
      this.ino = lower.ino;
      metaFrom(this, lower);
    } else {
      this.ino = newIno();
      metaNew(this, 0o666, vol.ctx.now());
    }
  }

  get isNull(): boolean {
    return this.kind === 'char' && this.major === 1 && this.minor === 3;
  }

  override stat(): Stat {
    return makeStat(this.vol.dev, this.ino, this.filetype, this.nlink, 0, this.atim, this.mtim, this.ctim);
  }

  override setTimes(a: bigint | null, m: bigint | null): number {
    return setMetaTimes(this, this.vol.ctx.now(), a, m);
  }

  override open(_oflags: number, rights: bigint, fdflags: number): Opened {
    if (this.isNull) return { ret: Errno.SUCCESS, fd_obj: new NullFd(this, rights, fdflags) };
    return { ret: Errno.NXIO, fd_obj: null };
  }
}
