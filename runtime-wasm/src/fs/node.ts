/**
 * The node model every file system of a container shares (the layered root,
 * tmpfs mounts, host directories): nodes are the shim's `Inode`s, so the WASI
 * layers can hold and pass them (path_lookup, path_link), and a directory node
 * answers for one name at a time. POSIX semantics (which errno when, trailing
 * slashes, read-only mounts) live in one place, the directory Fd (fds.ts), on
 * top of these primitives.
 */
import { Inode, wasi, type Fd } from '@bjorn3/browser_wasi_shim';
import { Errno, Filetype } from '../wasi/defs.js';

export { Errno, Filetype };

/** What all nodes of one container share: its root (where absolute symlinks start) and its clock. */
export interface FsContext {
  root: DirNode | null;
  /** Wall-clock time in ns since the epoch. */
  now(): bigint;
}

/** One file system (a `dev`): the layered root, a tmpfs, a host directory. Renames and links never cross one. */
export interface Volume {
  readonly dev: bigint;
  readonly readOnly: boolean;
  readonly ctx: FsContext;
}

/**
 * A Filestat whose encoder writes the timestamps at the offsets of the WASI
 * ABI (40, 48, 56): the shim's own writes them at 38, 46, 52, so a guest run
 * by the shim's WASI class would read garbage times.
 */
export class Stat extends wasi.Filestat {
  override write_bytes(view: DataView, ptr: number): void {
    view.setBigUint64(ptr, this.dev, true);
    view.setBigUint64(ptr + 8, this.ino, true);
    view.setUint8(ptr + 16, this.filetype);
    for (let i = 17; i < 24; i++) view.setUint8(ptr + i, 0);
    view.setBigUint64(ptr + 24, this.nlink, true);
    view.setBigUint64(ptr + 32, this.size, true);
    view.setBigUint64(ptr + 40, this.atim, true);
    view.setBigUint64(ptr + 48, this.mtim, true);
    view.setBigUint64(ptr + 56, this.ctim, true);
  }
}

export function makeStat(dev: bigint, ino: bigint, filetype: number, nlink: number | bigint, size: number | bigint, atim: bigint, mtim: bigint, ctim: bigint): Stat {
  const s = new Stat(ino, filetype, BigInt(size));
  s.dev = dev;
  s.nlink = BigInt(nlink);
  s.atim = atim;
  s.mtim = mtim;
  s.ctim = ctim;
  return s;
}

/** Returned by open: an Fd, or an errno. */
export type Opened = { ret: number; fd_obj: Fd | null };

export abstract class FsNode extends Inode {
  abstract readonly vol: Volume;
  /** The WASI filetype, without building a Filestat. */
  abstract readonly filetype: number;
  /**
   * Where path_unlink (the first half of the shim's rename protocol) took the
   * node from; path_link (the second half) moves it from there. Nothing
   * changes until then, so a refused link leaves everything as it was.
   */
  pendingMove: { dir: DirNode; name: string } | undefined;

  abstract override stat(): Stat;
  /** Sets atim and/or mtim (null: leave), and ctim to now. */
  abstract setTimes(atim: bigint | null, mtim: bigint | null): number;
  /** Opens the node itself; the directory Fd has checked the path and flags. */
  abstract open(oflags: number, rights: bigint, fdflags: number): Opened;

  override path_open(oflags: number, fs_rights_base: bigint, fd_flags: number): Opened {
    return this.open(oflags, fs_rights_base, fd_flags);
  }
}

export abstract class SymlinkNode extends FsNode {
  readonly filetype: number = Filetype.SYMBOLIC_LINK;
  abstract readlink(): string | number;
  override open(): Opened {
    return { ret: Errno.LOOP, fd_obj: null };
  }
}

/** A directory listing, sorted by name (UTF-16 order), without `.` and `..`. */
export interface Listing {
  names: string[];
  inos: bigint[];
  types: number[];
}

/**
 * Directory cookies that survive changes: a cookie names the entry it comes
 * after, so a listing resumed from it continues with the next name in sorted
 * order, whatever was added or removed meanwhile. 0 is the start, 1 after `.`,
 * 2 after `..`; each name gets its own number the first time it is listed.
 */
export class CookieTable {
  private readonly byName = new Map<string, bigint>();
  private readonly names: string[] = [];

  cookieOf(name: string): bigint {
    let c = this.byName.get(name);
    if (c === undefined) {
      c = BigInt(this.names.length + 3);
      this.names.push(name);
      this.byName.set(name, c);
    }
    return c;
  }

  /** The name a cookie (>= 3) stands for. */
  nameOf(cookie: bigint): string | undefined {
    const i = Number(cookie - 3n);
    return i >= 0 && i < this.names.length ? this.names[i] : undefined;
  }
}

/** Index of the first name greater than `name` in a sorted array. */
export function upperBound(names: string[], name: string): number {
  let lo = 0, hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (names[mid]! <= name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export abstract class DirNode extends FsNode {
  readonly filetype: number = Filetype.DIRECTORY;
  /** The directory `..` leads to; null at the container's root (where `..` stays). */
  abstract parent: DirNode | null;
  cookies: CookieTable | undefined;
  /** The Fd path walks go through this directory with (made once, never given to the guest: see DirFd.walk_fd). */
  walkFd: Fd | undefined;
  /**
   * Its names change only through skiff's own calls, which report removals to
   * path walks (wasi/resolve.ts namesChanged): walks may remember it. Not so
   * for a host directory, which other processes change.
   */
  readonly namesStable: boolean = false;

  /** The node named `name` (a single component), null when absent. */
  abstract lookup(name: string): FsNode | null | number;
  /** The merged, sorted listing. `fresh`: a new listing starts (a host directory reads the disk again). */
  abstract list(fresh: boolean): Listing | number;
  abstract isEmpty(): boolean | number;
  /** Is `name` a mount point (which cannot be removed or renamed: EBUSY)? */
  abstract isMountPoint(name: string): boolean;

  // Mutations. The directory Fd has resolved the path, checked the volume is
  // writable and that `name` is absent (create) or holds `node` (remove).
  abstract createFile(name: string): FsNode | number;
  abstract createDir(name: string): number;
  abstract createSymlink(name: string, target: string): number;
  /** Unlinks a file or removes an (empty) directory. */
  abstract remove(name: string, node: FsNode): number;
  /** Moves `node` from `name` here to `toName` in `to` (same volume), replacing `replaced` there. */
  abstract move(name: string, node: FsNode, to: DirNode, toName: string, replaced: FsNode | null): number;
  /** A new hard link to `node` (a non-directory of this volume) at `name` (absent). */
  abstract link(name: string, node: FsNode): number;
  /** Checks an entry can be moved away (0 or an errno): path_unlink's part of the shim's rename. */
  movable(_name: string): number {
    return Errno.SUCCESS;
  }

}

export abstract class FileNode extends FsNode {
  readonly filetype: number = Filetype.REGULAR_FILE;
}
