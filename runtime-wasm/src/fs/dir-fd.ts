/**
 * The directory Fd: the shim's `Fd` contract for an open directory of any of
 * skiff's file systems. Paths may be single names (a syscall layer that walks
 * them itself) or whole relative paths (the shim's WASI class); both resolve
 * here, with Linux's errno for each case. Mutations check, in Linux's order:
 * the path, the existence of the name, then a read-only volume (EROFS).
 */
import { Fd, wasi, type Inode } from '@bjorn3/browser_wasi_shim';
import { Fstflags, LOOKUP_SYMLINK_FOLLOW, Oflags, Rights, RIGHTS_ALL, RIGHTS_DIRECTORY } from '../wasi/defs.js';
import { CookieTable, DirNode, Errno, Filetype, FsNode, type Listing, type Opened, type Stat, type SymlinkNode, upperBound } from './node.js';
import { resolve, tooLong, type Found } from './resolve.js';

/**
 * The atim/mtim to set for fd/path_filestat_set_times flags (null: leave
 * alone), the *_NOW flags read from the volume's clock; or an errno.
 */
export function timesFor(node: FsNode, atim: bigint, mtim: bigint, flags: number): { a: bigint | null; m: bigint | null } | number {
  if ((flags & Fstflags.ATIM && flags & Fstflags.ATIM_NOW) || (flags & Fstflags.MTIM && flags & Fstflags.MTIM_NOW) || flags & ~0xf) return Errno.INVAL;
  if (node.vol.readOnly && flags & 0xf) return Errno.ROFS;
  const now = flags & (Fstflags.ATIM_NOW | Fstflags.MTIM_NOW) ? node.vol.ctx.now() : 0n;
  return {
    a: flags & Fstflags.ATIM_NOW ? now : flags & Fstflags.ATIM ? atim : null,
    m: flags & Fstflags.MTIM_NOW ? now : flags & Fstflags.MTIM ? mtim : null,
  };
}

/** Applies fd/path_filestat_set_times flags to a node. */
export function setTimesOf(node: FsNode, atim: bigint, mtim: bigint, flags: number): number {
  const t = timesFor(node, atim, mtim, flags);
  if (typeof t === 'number') return t;
  if (t.a === null && t.m === null) return Errno.SUCCESS;
  return node.setTimes(t.a, t.m);
}

/** Is `dir` the node `ancestor` or below it? (a directory cannot move into itself) */
function isWithin(dir: DirNode, ancestor: FsNode): boolean {
  for (let d: DirNode | null = dir, hops = 0; d && hops < 4096; d = d.parent === d ? null : d.parent, hops++) {
    if (d === ancestor) return true;
  }
  return false;
}

const NO_STAT = { ret: Errno.NOENT, filestat: null };

export class DirFd extends Fd {
  private hintCookie = -1n;
  private hintIdx = 0;
  private hintListing: Listing | undefined;

  /** `preopenName`: the guest-visible name when this fd is a preopen (`/`, `/data`). */
  constructor(readonly dir: DirNode, readonly preopenName?: string) {
    super();
  }

  /** Resolves a path that must name what is there: a trailing slash after a non-directory is ENOTDIR. */
  find(path: string, follow: boolean): Found | number {
    const f = resolve(this.dir, path, follow, this.dir.vol.ctx.root);
    if (typeof f !== 'number' && f.slash && f.node && f.node.filetype !== Filetype.DIRECTORY) return Errno.NOTDIR;
    return f;
  }

  /** Resolves a path to make something at (mkdir, symlink, link): an existing node is EEXIST, slash or not. */
  private findNew(path: string): Found | number {
    return resolve(this.dir, path, false, this.dir.vol.ctx.root);
  }

  // ---- the directory itself ---------------------------------------------------

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    const s = new wasi.Fdstat(Filetype.DIRECTORY, 0);
    // wasi-libc opens files with (wanted & this fd's inheriting rights): a zero here would give files no rights.
    s.fs_rights_base = RIGHTS_DIRECTORY;
    s.fs_rights_inherited = RIGHTS_ALL;
    return { ret: Errno.SUCCESS, fdstat: s };
  }

  override fd_fdstat_set_flags(): number {
    return Errno.SUCCESS;
  }

  override fd_fdstat_set_rights(): number {
    return Errno.SUCCESS;
  }

  override fd_filestat_get(): { ret: number; filestat: Stat | null } {
    return { ret: Errno.SUCCESS, filestat: this.dir.stat() };
  }

  override fd_filestat_set_times(atim: bigint, mtim: bigint, flags: number): number {
    return setTimesOf(this.dir, atim, mtim, flags);
  }

  override fd_prestat_get(): { ret: number; prestat: wasi.Prestat | null } {
    if (this.preopenName === undefined) return { ret: Errno.BADF, prestat: null };
    return { ret: Errno.SUCCESS, prestat: wasi.Prestat.dir(this.preopenName) };
  }

  override fd_readdir_single(cookie: bigint): { ret: number; dirent: wasi.Dirent | null } {
    const dir = this.dir;
    if (cookie === 0n) return { ret: Errno.SUCCESS, dirent: new wasi.Dirent(1n, dir.ino, '.', Filetype.DIRECTORY) };
    if (cookie === 1n) return { ret: Errno.SUCCESS, dirent: new wasi.Dirent(2n, (dir.parent ?? dir).ino, '..', Filetype.DIRECTORY) };
    const listing = dir.list(cookie === 2n);
    if (typeof listing === 'number') return { ret: listing, dirent: null };
    let idx: number;
    if (cookie === this.hintCookie && listing === this.hintListing) idx = this.hintIdx;
    else if (cookie === 2n) idx = 0;
    else {
      const after = dir.cookies?.nameOf(cookie);
      if (after === undefined) return { ret: Errno.SUCCESS, dirent: null };
      idx = upperBound(listing.names, after);
    }
    if (idx >= listing.names.length) return { ret: Errno.SUCCESS, dirent: null };
    const name = listing.names[idx]!;
    const next = (dir.cookies ??= new CookieTable()).cookieOf(name);
    this.hintCookie = next;
    this.hintIdx = idx + 1;
    this.hintListing = listing;
    return { ret: Errno.SUCCESS, dirent: new wasi.Dirent(next, listing.inos[idx]!, name, listing.types[idx]!) };
  }

  override fd_read(): { ret: number; data: Uint8Array } {
    return { ret: Errno.ISDIR, data: new Uint8Array(0) };
  }

  override fd_pread(): { ret: number; data: Uint8Array } {
    return { ret: Errno.ISDIR, data: new Uint8Array(0) };
  }

  override fd_write(): { ret: number; nwritten: number } {
    return { ret: Errno.BADF, nwritten: 0 };
  }

  override fd_pwrite(): { ret: number; nwritten: number } {
    return { ret: Errno.BADF, nwritten: 0 };
  }

  override fd_seek(): { ret: number; offset: bigint } {
    return { ret: Errno.BADF, offset: 0n };
  }

  override fd_tell(): { ret: number; offset: bigint } {
    return { ret: Errno.BADF, offset: 0n };
  }

  override fd_allocate(): number {
    return Errno.BADF;
  }

  override fd_filestat_set_size(): number {
    return Errno.BADF;
  }

  // ---- paths ------------------------------------------------------------------

  /**
   * The Fd a path walk (wasi/resolve.ts) continues with at the directory
   * `inode`: one per directory node, kept, so a walk opens nothing per
   * component. Only walks use it; the guest's own descriptors come from path_open.
   */
  walk_fd(inode: Inode): Fd | null {
    return inode instanceof DirNode ? (inode.walkFd ??= new DirFd(inode)) : null;
  }

  /** Walks may remember this directory (see WalkCache in wasi/resolve.ts). */
  get walk_cacheable(): boolean {
    return this.dir.namesStable;
  }

  /** One name for a path walk (wasi/resolve.ts), which has checked it has no slash and no NUL and is not `.` or `..`. */
  lookup_name(name: string): FsNode | null | number {
    return tooLong(name) ? Errno.NAMETOOLONG : this.dir.lookup(name);
  }

  override path_lookup(path: string, dirflags: number): { ret: number; inode_obj: FsNode | null } {
    const f = this.find(path, (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0);
    if (typeof f === 'number') return { ret: f, inode_obj: null };
    const node = f.name === null ? f.dir : f.node;
    return node ? { ret: Errno.SUCCESS, inode_obj: node } : { ret: Errno.NOENT, inode_obj: null };
  }

  override path_filestat_get(flags: number, path: string): { ret: number; filestat: Stat | null } {
    const f = this.find(path, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0);
    if (typeof f === 'number') return { ret: f, filestat: null };
    const node = f.name === null ? f.dir : f.node;
    return node ? { ret: Errno.SUCCESS, filestat: node.stat() } : NO_STAT;
  }

  override path_filestat_set_times(flags: number, path: string, atim: bigint, mtim: bigint, fstFlags: number): number {
    const f = this.find(path, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0);
    if (typeof f === 'number') return f;
    const node = f.name === null ? f.dir : f.node;
    return node ? setTimesOf(node, atim, mtim, fstFlags) : Errno.NOENT;
  }

  override path_open(dirflags: number, path: string, oflags: number, rights: bigint, _inheriting: bigint, fdflags: number): Opened {
    // O_CREAT|O_EXCL never follows a symlink in the last component (a dangling one is EEXIST).
    const excl = (oflags & (Oflags.CREAT | Oflags.EXCL)) === (Oflags.CREAT | Oflags.EXCL);
    const f = resolve(this.dir, path, !excl && (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0, this.dir.vol.ctx.root);
    if (typeof f === 'number') return { ret: f, fd_obj: null };
    if (f.slash && f.node && f.node.filetype !== Filetype.DIRECTORY) return { ret: oflags & Oflags.CREAT ? Errno.ISDIR : Errno.NOTDIR, fd_obj: null };
    const node = f.name === null ? f.dir : f.node;
    if (!node) {
      if (!(oflags & Oflags.CREAT)) return { ret: Errno.NOENT, fd_obj: null };
      if (oflags & Oflags.DIRECTORY) return { ret: Errno.INVAL, fd_obj: null };
      if (f.slash) return { ret: Errno.ISDIR, fd_obj: null };
      if (f.dir.vol.readOnly) return { ret: Errno.ROFS, fd_obj: null };
      const made = f.dir.createFile(f.name!);
      if (typeof made === 'number') return { ret: made, fd_obj: null };
      return made.open(oflags & ~Oflags.TRUNC, rights, fdflags);
    }
    if (excl) return { ret: Errno.EXIST, fd_obj: null };
    const type = node.filetype;
    if (type === Filetype.SYMBOLIC_LINK) return { ret: Errno.LOOP, fd_obj: null }; // O_NOFOLLOW on a symlink
    if (type === Filetype.DIRECTORY) {
      if (oflags & Oflags.TRUNC || (!(oflags & Oflags.DIRECTORY) && rights & Rights.FD_WRITE)) return { ret: Errno.ISDIR, fd_obj: null };
      return node.open(oflags, rights, fdflags);
    }
    if (oflags & Oflags.DIRECTORY) return { ret: Errno.NOTDIR, fd_obj: null };
    // Devices stay writable on a read-only file system (/dev/null under --read-only).
    if (type === Filetype.REGULAR_FILE && node.vol.readOnly && (oflags & Oflags.TRUNC || rights & Rights.FD_WRITE)) return { ret: Errno.ROFS, fd_obj: null };
    return node.open(oflags, rights, fdflags);
  }

  override path_create_directory(path: string): number {
    const f = this.findNew(path);
    if (typeof f === 'number') return f;
    if (f.name === null || f.node) return Errno.EXIST;
    if (f.dir.vol.readOnly) return Errno.ROFS;
    return f.dir.createDir(f.name);
  }

  /** symlink(2); not in the shim's Fd, but what a syscall layer looks for (SymlinkCapable). */
  path_symlink(target: string, path: string): number {
    if (target.indexOf('\0') >= 0) return Errno.INVAL;
    const f = this.findNew(path);
    if (typeof f === 'number') return f;
    if (f.name === null || f.node) return Errno.EXIST;
    if (f.slash) return Errno.NOENT;
    if (target.length === 0) return Errno.NOENT;
    if (f.dir.vol.readOnly) return Errno.ROFS;
    return f.dir.createSymlink(f.name, target);
  }

  override path_readlink(path: string): { ret: number; data: string | null } {
    const f = this.find(path, false);
    if (typeof f === 'number') return { ret: f, data: null };
    if (f.name === null) return { ret: Errno.INVAL, data: null };
    if (!f.node) return { ret: Errno.NOENT, data: null };
    if (f.node.filetype !== Filetype.SYMBOLIC_LINK) return { ret: Errno.INVAL, data: null };
    const t = (f.node as SymlinkNode).readlink();
    return typeof t === 'number' ? { ret: t, data: null } : { ret: Errno.SUCCESS, data: t };
  }

  override path_unlink_file(path: string): number {
    // With trailing slashes Linux looks at the last component itself, unfollowed: a directory is EISDIR, anything else ENOTDIR.
    const bare = path.replace(/\/+$/, '');
    if (bare.length !== path.length && bare.length > 0) {
      const g = resolve(this.dir, bare, false, this.dir.vol.ctx.root);
      if (typeof g === 'number') return g;
      if (g.name === null || g.node?.filetype === Filetype.DIRECTORY) return Errno.ISDIR;
      return g.node ? Errno.NOTDIR : Errno.NOENT;
    }
    const f = this.find(path, false);
    if (typeof f === 'number') return f;
    if (f.name === null) return Errno.ISDIR;
    if (!f.node) return Errno.NOENT;
    if (f.node.filetype === Filetype.DIRECTORY) return Errno.ISDIR;
    if (f.dir.isMountPoint(f.name)) return Errno.BUSY;
    if (f.dir.vol.readOnly) return Errno.ROFS;
    return f.dir.remove(f.name, f.node);
  }

  override path_remove_directory(path: string): number {
    const f = this.find(path, false);
    if (typeof f === 'number') return f;
    if (f.name === null) return lastPart(path) === '..' ? Errno.NOTEMPTY : Errno.INVAL;
    if (!f.node) return Errno.NOENT;
    if (f.node.filetype !== Filetype.DIRECTORY) return Errno.NOTDIR;
    if (f.dir.isMountPoint(f.name)) return Errno.BUSY;
    if (f.dir.vol.readOnly) return Errno.ROFS;
    const empty = (f.node as DirNode).isEmpty();
    if (typeof empty === 'number') return empty;
    if (!empty) return Errno.NOTEMPTY;
    return f.dir.remove(f.name, f.node);
  }

  /**
   * link(2) when `node` comes from path_lookup (allow_dir false), or the second
   * half of the shim's rename when it comes from path_unlink (allow_dir true).
   */
  override path_link(path: string, node: FsNode, allowDir: boolean): number {
    if (!(node instanceof FsNode)) return Errno.XDEV;
    const f = node.pendingMove && allowDir ? this.find(path, false) : this.findNew(path);
    if (typeof f === 'number') return f;
    if (node.pendingMove && allowDir) return this.finishMove(f, node, node.pendingMove);
    if (node.filetype === Filetype.DIRECTORY) return Errno.PERM;
    if (f.name === null || f.node) return Errno.EXIST;
    if (f.slash) return Errno.NOENT;
    if (node.vol !== f.dir.vol) return Errno.XDEV;
    if (f.dir.vol.readOnly) return Errno.ROFS;
    return f.dir.link(f.name, node);
  }

  /** The second half of the shim's rename: what rename() does, from where path_unlink took the node. */
  private finishMove(f: Found, node: FsNode, from: { dir: DirNode; name: string }): number {
    const there = from.dir.lookup(from.name);
    if (!there || typeof there === 'number' || (there !== node && (there.vol !== node.vol || there.ino !== node.ino))) {
      node.pendingMove = undefined; // gone from where path_unlink saw it
      return typeof there === 'number' ? there : Errno.NOENT;
    }
    if (f.name === null) return Errno.BUSY;
    if (node.vol !== f.dir.vol) return Errno.XDEV;
    const srcDir = node.filetype === Filetype.DIRECTORY;
    if (f.slash && !srcDir) return Errno.NOTDIR;
    const same = f.node !== null && (f.node === node || (f.node.vol === node.vol && f.node.ino === node.ino));
    if (same) {
      // Back where it was (a refused link undone), or onto another name of the same file: nothing to do, as rename(2).
      node.pendingMove = undefined;
      return Errno.SUCCESS;
    }
    if (f.node) {
      const ret = this.checkReplace(node, f.node);
      if (ret !== Errno.SUCCESS) return ret;
      if (f.dir.isMountPoint(f.name)) return Errno.BUSY;
    }
    if (srcDir && isWithin(f.dir, node)) return Errno.INVAL;
    if (f.dir.vol.readOnly) return Errno.ROFS;
    const ret = from.dir.move(from.name, node, f.dir, f.name, f.node);
    if (ret === Errno.SUCCESS) node.pendingMove = undefined;
    return ret;
  }

  private checkReplace(src: FsNode, dst: FsNode): number {
    const srcDir = src.filetype === Filetype.DIRECTORY;
    const dstDir = dst.filetype === Filetype.DIRECTORY;
    if (srcDir && !dstDir) return Errno.NOTDIR;
    if (!srcDir && dstDir) return Errno.ISDIR;
    if (dstDir) {
      const empty = (dst as DirNode).isEmpty();
      if (typeof empty === 'number') return empty;
      if (!empty) return Errno.NOTEMPTY;
    }
    return Errno.SUCCESS;
  }

  /**
   * The first half of the shim's rename protocol (path_unlink, then
   * path_link with allow_dir): returns the node and notes where it was; the
   * move itself happens in path_link, so a refused link changes nothing and a
   * directory moved into itself is still seen (EINVAL). Only that protocol
   * uses path_unlink: on its own it removes nothing.
   */
  override path_unlink(path: string): { ret: number; inode_obj: FsNode | null } {
    const f = this.find(path, false);
    if (typeof f === 'number') return { ret: f, inode_obj: null };
    if (f.name === null) return { ret: Errno.BUSY, inode_obj: null };
    if (!f.node) return { ret: Errno.NOENT, inode_obj: null };
    if (f.dir.isMountPoint(f.name)) return { ret: Errno.BUSY, inode_obj: null };
    if (f.dir.vol.readOnly) return { ret: Errno.ROFS, inode_obj: null };
    const ret = f.dir.movable(f.name);
    if (ret !== Errno.SUCCESS) return { ret, inode_obj: null };
    f.node.pendingMove = { dir: f.dir, name: f.name };
    return { ret: Errno.SUCCESS, inode_obj: f.node };
  }

  /** rename(2), atomic, from a path under this fd to a path under `to`. */
  rename(oldPath: string, to: DirFd, newPath: string): number {
    const a = this.find(oldPath, false);
    if (typeof a === 'number') return a;
    const b = to.find(newPath, false);
    if (typeof b === 'number') return b;
    if (a.name === null || b.name === null) return Errno.BUSY;
    const src = a.node;
    if (!src) return Errno.NOENT;
    const srcDir = src.filetype === Filetype.DIRECTORY;
    if (!srcDir && b.slash) return Errno.NOTDIR;
    if (a.dir.isMountPoint(a.name) || (b.node && b.dir.isMountPoint(b.name))) return Errno.BUSY;
    if (a.dir.vol !== b.dir.vol) return Errno.XDEV;
    if (b.node === src) return Errno.SUCCESS;
    if (b.node) {
      const ret = this.checkReplace(src, b.node);
      if (ret !== Errno.SUCCESS) return ret;
    }
    if (srcDir && isWithin(b.dir, src)) return Errno.INVAL;
    if (a.dir.vol.readOnly) return Errno.ROFS;
    return a.dir.move(a.name, src, b.dir, b.name, b.node);
  }
}

function lastPart(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return parts[parts.length - 1] ?? '.';
}

/** Opens a directory node (what every DirNode.open does). */
export function openDir(dir: DirNode): Opened {
  return { ret: Errno.SUCCESS, fd_obj: new DirFd(dir) };
}
