/**
 * A host directory mounted into a container (a bind mount, a volume), through
 * a node-fs-shaped synchronous API (node:fs in Node, a memfs Volume in
 * browsers), read-write or read-only.
 *
 * Confinement: the guest's paths are resolved by resolve.ts, one checked name
 * at a time, so the host only ever sees `<source>/<name>/<name>...` built from
 * names that are not `.`, `..` or empty. Symlinks are read with readlink and
 * interpreted in the container's view, never followed by the host: before
 * every operation each directory from the source down is checked with lstat
 * (a directory, not a symlink), and a file is opened with O_NOFOLLOW. Node has
 * no openat(2), so this is a check-then-act on paths: it holds against
 * anything the guest can do (its calls are synchronous and one at a time), not
 * against another process racing on the same host directory.
 */
import type { FsLike } from '@skiff/sdk';
import { Fdflags, Oflags, Rights } from '../wasi/defs.js';
import { openDir, timesFor } from './dir-fd.js';
import { MAX_FILE_SIZE, RightsFd, seekTarget } from './file-fd.js';
import { DirNode, Errno, FileNode, Filetype, FsNode, makeStat, SymlinkNode, type FsContext, type Listing, type Opened, type Stat, type Volume } from './node.js';

type BigStats = ReturnType<FsLike['lstatSync']> & { ino: bigint; nlink: bigint; size: bigint; atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint };

const CODES: Record<string, number> = {
  ENOENT: Errno.NOENT, EEXIST: Errno.EXIST, ENOTDIR: Errno.NOTDIR, EISDIR: Errno.ISDIR, ENOTEMPTY: Errno.NOTEMPTY,
  EACCES: Errno.ACCES, EPERM: Errno.PERM, ELOOP: Errno.LOOP, ENAMETOOLONG: Errno.NAMETOOLONG, EXDEV: Errno.XDEV,
  EROFS: Errno.ROFS, ENOSPC: Errno.NOSPC, EBUSY: Errno.BUSY, EINVAL: Errno.INVAL, EMFILE: Errno.MFILE,
  ENFILE: Errno.NFILE, EBADF: Errno.BADF, EFBIG: Errno.FBIG, EDQUOT: Errno.DQUOT, EIO: Errno.IO, EMLINK: Errno.MLINK,
  ETXTBSY: Errno.TXTBSY, ENXIO: Errno.NXIO, EAGAIN: Errno.AGAIN, EOVERFLOW: Errno.OVERFLOW,
};

/** The WASI errno for an error thrown by the host's fs. */
export function hostErrno(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && CODES[code]) || Errno.IO;
}

function typeOf(st: BigStats): number {
  if (st.isFile()) return Filetype.REGULAR_FILE;
  if (st.isDirectory()) return Filetype.DIRECTORY;
  if (st.isSymbolicLink()) return Filetype.SYMBOLIC_LINK;
  if (st.isCharacterDevice()) return Filetype.CHARACTER_DEVICE;
  if (st.isBlockDevice()) return Filetype.BLOCK_DEVICE;
  if (st.isSocket()) return Filetype.SOCKET_STREAM;
  return Filetype.UNKNOWN;
}

export class HostVolume implements Volume {
  /** Mounts on names inside this volume's directories (nested mounts), by host directory path. */
  readonly mountPoints = new Map<string, Map<string, FsNode>>();
  /** Host descriptors open for the guest; closed by dispose(). */
  readonly openFds = new Set<number>();

  /** `rootPath`: the source directory, already resolved (realpath) by whoever made the mount. */
  constructor(readonly ctx: FsContext, readonly dev: bigint, readonly fs: FsLike, readonly rootPath: string, readonly readOnly: boolean) {}

  lstat(path: string): BigStats {
    return this.fs.lstatSync(path, { bigint: true }) as unknown as BigStats;
  }

  /**
   * Times the guest set, to the ns, by inode: Node's utimes takes seconds as
   * a double, which keeps only about a quarter of a microsecond. While the host
   * still shows what we stored, stat reports what the guest asked for.
   */
  private readonly setTimes = new Map<bigint, { atim: [bigint, bigint]; mtim: [bigint, bigint] }>();

  statOf(st: BigStats): Stat {
    const ino = BigInt(st.ino);
    let atim = BigInt(st.atimeNs);
    let mtim = BigInt(st.mtimeNs);
    const exact = this.setTimes.size ? this.setTimes.get(ino) : undefined;
    if (exact) {
      if (exact.atim[0] === atim) atim = exact.atim[1];
      if (exact.mtim[0] === mtim) mtim = exact.mtim[1];
    }
    return makeStat(this.dev, ino, typeOf(st), BigInt(st.nlink), BigInt(st.size), atim, mtim, BigInt(st.ctimeNs));
  }

  /** Sets times through `apply` (seconds), then remembers the exact ns against what the host stored. */
  utimes(current: BigStats, a: bigint | null, m: bigint | null, apply: (atime: number, mtime: number) => void, reread: () => BigStats): void {
    const atim = a ?? BigInt(current.atimeNs);
    const mtim = m ?? BigInt(current.mtimeNs);
    apply(Number(atim) / 1e9, Number(mtim) / 1e9);
    const st = reread();
    if (this.setTimes.size > 4096) this.setTimes.clear();
    this.setTimes.set(BigInt(st.ino), { atim: [BigInt(st.atimeNs), atim], mtim: [BigInt(st.mtimeNs), mtim] });
  }

  dispose(): void {
    for (const fd of this.openFds) {
      try {
        this.fs.closeSync(fd);
      } catch {
        /* already gone */
      }
    }
    this.openFds.clear();
  }
}

/** Runs a host call, turning a thrown error into its errno. */
function attempt(f: () => void): number {
  try {
    f();
    return Errno.SUCCESS;
  } catch (err) {
    return hostErrno(err);
  }
}

export class HostDir extends DirNode {
  private cached: Listing | undefined;

  /** `rel`: the names from the volume's root down to here. `parent`: where `..` leads (a container directory for the root). */
  constructor(readonly vol: HostVolume, readonly path: string, readonly rel: readonly string[], public parent: DirNode | null, ino: bigint) {
    super();
    this.ino = ino;
  }

  /** Every directory from the source down to this one is still a directory, not a symlink: 0, or the errno. */
  verify(): number {
    let p = this.vol.rootPath;
    try {
      if (!this.vol.lstat(p).isDirectory()) return Errno.NOENT;
      for (const name of this.rel) {
        p += `/${name}`;
        if (!this.vol.lstat(p).isDirectory()) return Errno.NOENT;
      }
    } catch (err) {
      return hostErrno(err);
    }
    return Errno.SUCCESS;
  }

  childPath(name: string): string {
    return `${this.path}/${name}`;
  }

  private mounted(): Map<string, FsNode> | undefined {
    return this.vol.mountPoints.size ? this.vol.mountPoints.get(this.path) : undefined;
  }

  override lookup(name: string): FsNode | null | number {
    const m = this.mounted()?.get(name);
    if (m) return m;
    const v = this.verify();
    if (v) return v;
    let st: BigStats;
    try {
      st = this.vol.lstat(this.childPath(name));
    } catch (err) {
      const e = hostErrno(err);
      return e === Errno.NOENT ? null : e;
    }
    return this.nodeFor(name, st);
  }

  private nodeFor(name: string, st: BigStats): FsNode {
    const ino = BigInt(st.ino);
    if (st.isDirectory()) return new HostDir(this.vol, this.childPath(name), [...this.rel, name], this, ino);
    if (st.isFile()) return new HostFile(this.vol, this, name, ino);
    if (st.isSymbolicLink()) return new HostSymlink(this.vol, this, name, ino);
    return new HostOther(this.vol, this, name, ino, typeOf(st));
  }

  override list(fresh: boolean): Listing | number {
    if (this.cached && !fresh) return this.cached;
    const v = this.verify();
    if (v) return v;
    let raw: string[];
    try {
      raw = (this.vol.fs.readdirSync(this.path) as unknown[]).map(String);
    } catch (err) {
      return hostErrno(err);
    }
    const found = new Map<string, [bigint, number]>();
    for (const name of raw) {
      try {
        const st = this.vol.lstat(this.childPath(name));
        found.set(name, [BigInt(st.ino), typeOf(st)]);
      } catch {
        /* gone meanwhile */
      }
    }
    for (const [name, node] of this.mounted() ?? []) found.set(name, [node.ino, node.filetype]);
    const names = [...found.keys()].sort();
    this.cached = { names, inos: names.map((n) => found.get(n)![0]), types: names.map((n) => found.get(n)![1]) };
    return this.cached;
  }

  override isEmpty(): boolean | number {
    const v = this.verify();
    if (v) return v;
    try {
      return this.vol.fs.readdirSync(this.path).length === 0 && !this.mounted()?.size;
    } catch (err) {
      return hostErrno(err);
    }
  }

  override isMountPoint(name: string): boolean {
    return this.mounted()?.has(name) ?? false;
  }

  override stat(): Stat {
    return hostStat(this.vol, this.verify(), this.path, this.ino, Filetype.DIRECTORY);
  }

  override setTimes(a: bigint | null, m: bigint | null): number {
    return hostSetTimes(this.vol, this.verify(), this.path, a, m);
  }

  override open(): Opened {
    return openDir(this);
  }

  private mutate(f: () => void): number {
    const v = this.verify();
    if (v) return v;
    this.cached = undefined;
    return attempt(f);
  }

  override createFile(name: string): FsNode | number {
    const c = this.vol.fs.constants;
    let made: FsNode | number = Errno.IO;
    const ret = this.mutate(() => {
      const p = this.childPath(name);
      this.vol.fs.closeSync(this.vol.fs.openSync(p, c.O_CREAT | c.O_EXCL | c.O_WRONLY | c.O_NOFOLLOW, 0o644));
      made = new HostFile(this.vol, this, name, BigInt(this.vol.lstat(p).ino));
    });
    return ret || made;
  }

  override createDir(name: string): number {
    return this.mutate(() => this.vol.fs.mkdirSync(this.childPath(name), 0o755));
  }

  override createSymlink(name: string, target: string): number {
    // Stored as the guest wrote it; only resolve.ts ever interprets it.
    return this.mutate(() => this.vol.fs.symlinkSync(target, this.childPath(name)));
  }

  override remove(name: string, node: FsNode): number {
    const p = this.childPath(name);
    return this.mutate(() => (node.filetype === Filetype.DIRECTORY ? this.vol.fs.rmdirSync(p) : this.vol.fs.unlinkSync(p)));
  }

  override move(name: string, _node: FsNode, to: DirNode, toName: string): number {
    if (!(to instanceof HostDir) || to.vol !== this.vol) return Errno.XDEV;
    const v = to.verify();
    if (v) return v;
    to.cached = undefined;
    return this.mutate(() => this.vol.fs.renameSync(this.childPath(name), to.childPath(toName)));
  }

  override link(name: string, node: FsNode): number {
    if (!(isHostLeaf(node)) || node.vol !== this.vol) return Errno.XDEV;
    const v = node.dir.verify();
    if (v) return v;
    return this.mutate(() => this.vol.fs.linkSync(node.path, this.childPath(name)));
  }

  override movable(): number {
    return this.verify();
  }

  /** The host directory holding this one (undefined for the volume's root). */
  hostParent(): HostDir | undefined {
    return this.rel.length && this.parent instanceof HostDir && this.parent.vol === this.vol ? this.parent : undefined;
  }
}

function hostStat(vol: HostVolume, verified: number, path: string, ino: bigint, filetype: number): Stat {
  if (verified === Errno.SUCCESS) {
    try {
      return vol.statOf(vol.lstat(path));
    } catch {
      /* gone: report what we knew */
    }
  }
  return makeStat(vol.dev, ino, filetype, 0, 0, 0n, 0n, 0n);
}

function hostSetTimes(vol: HostVolume, verified: number, path: string, a: bigint | null, m: bigint | null): number {
  if (verified) return verified;
  return attempt(() => {
    // lutimes: never follows a symlink, whatever is at the path now.
    vol.utimes(vol.lstat(path), a, m, (at, mt) => vol.fs.lutimesSync(path, at, mt), () => vol.lstat(path));
  });
}

/** A non-directory in a host directory. */
export interface HostLeaf extends FsNode {
  readonly vol: HostVolume;
  readonly dir: HostDir;
  readonly path: string;
}

function isHostLeaf(x: FsNode): x is HostLeaf {
  return x instanceof HostFile || x instanceof HostSymlink || x instanceof HostOther;
}

export class HostFile extends FileNode implements HostLeaf {
  constructor(readonly vol: HostVolume, readonly dir: HostDir, readonly name: string, ino: bigint) {
    super();
    this.ino = ino;
  }

  get path(): string {
    return this.dir.childPath(this.name);
  }

  override stat(): Stat {
    return hostStat(this.vol, this.dir.verify(), this.path, this.ino, Filetype.REGULAR_FILE);
  }

  override setTimes(a: bigint | null, m: bigint | null): number {
    return hostSetTimes(this.vol, this.dir.verify(), this.path, a, m);
  }

  override open(oflags: number, rights: bigint, fdflags: number): Opened {
    const v = this.dir.verify();
    if (v) return { ret: v, fd_obj: null };
    const c = this.vol.fs.constants;
    const read = (rights & Rights.FD_READ) !== 0n;
    const write = (rights & Rights.FD_WRITE) !== 0n && !this.vol.readOnly;
    let flags = write ? (read ? c.O_RDWR : c.O_WRONLY) : c.O_RDONLY;
    // O_NOFOLLOW: never a symlink swapped in; O_NONBLOCK: never hang on a FIFO swapped in (refused below).
    flags |= c.O_NOFOLLOW | c.O_NONBLOCK;
    if (oflags & Oflags.TRUNC && write) flags |= c.O_TRUNC;
    let fd: number;
    try {
      fd = this.vol.fs.openSync(this.path, flags);
    } catch (err) {
      return { ret: hostErrno(err), fd_obj: null };
    }
    try {
      if (!this.vol.fs.fstatSync(fd).isFile()) {
        this.vol.fs.closeSync(fd);
        return { ret: Errno.NXIO, fd_obj: null };
      }
    } catch (err) {
      this.vol.fs.closeSync(fd);
      return { ret: hostErrno(err), fd_obj: null };
    }
    this.vol.openFds.add(fd);
    return { ret: Errno.SUCCESS, fd_obj: new HostFileFd(this, fd, rights, fdflags) };
  }
}

export class HostSymlink extends SymlinkNode implements HostLeaf {
  constructor(readonly vol: HostVolume, readonly dir: HostDir, readonly name: string, ino: bigint) {
    super();
    this.ino = ino;
  }

  get path(): string {
    return this.dir.childPath(this.name);
  }

  override readlink(): string | number {
    const v = this.dir.verify();
    if (v) return v;
    try {
      return String(this.vol.fs.readlinkSync(this.path));
    } catch (err) {
      return hostErrno(err);
    }
  }

  override stat(): Stat {
    return hostStat(this.vol, this.dir.verify(), this.path, this.ino, Filetype.SYMBOLIC_LINK);
  }

  override setTimes(a: bigint | null, m: bigint | null): number {
    return hostSetTimes(this.vol, this.dir.verify(), this.path, a, m);
  }
}

/** A FIFO, socket or device in a host directory: visible, never opened (it could block, or reach hardware). */
export class HostOther extends FsNode implements HostLeaf {
  constructor(readonly vol: HostVolume, readonly dir: HostDir, readonly name: string, ino: bigint, readonly filetype: number) {
    super();
    this.ino = ino;
  }

  get path(): string {
    return this.dir.childPath(this.name);
  }

  override stat(): Stat {
    return hostStat(this.vol, this.dir.verify(), this.path, this.ino, this.filetype);
  }

  override setTimes(a: bigint | null, m: bigint | null): number {
    return hostSetTimes(this.vol, this.dir.verify(), this.path, a, m);
  }

  override open(): Opened {
    return { ret: Errno.NXIO, fd_obj: null };
  }
}

export class HostFileFd extends RightsFd {
  private pos = 0;

  constructor(readonly node: HostFile, readonly fd: number, rights: bigint, fdflags: number) {
    super(rights, fdflags, Filetype.REGULAR_FILE);
    if (node.vol.readOnly) this.writable = false;
  }

  private get fs(): FsLike {
    return this.node.vol.fs;
  }

  private size(): number | undefined {
    try {
      return this.fs.fstatSync(this.fd).size;
    } catch {
      return undefined;
    }
  }

  override fd_close(): number {
    this.node.vol.openFds.delete(this.fd);
    return attempt(() => this.fs.closeSync(this.fd));
  }

  override fd_filestat_get(): { ret: number; filestat: Stat | null } {
    try {
      return { ret: Errno.SUCCESS, filestat: this.node.vol.statOf(this.fs.fstatSync(this.fd, { bigint: true }) as unknown as BigStats) };
    } catch (err) {
      return { ret: hostErrno(err), filestat: null };
    }
  }

  override fd_filestat_set_size(size: bigint): number {
    if (!this.writable) return Errno.INVAL;
    if (size > BigInt(MAX_FILE_SIZE)) return Errno.FBIG;
    return attempt(() => this.fs.ftruncateSync(this.fd, Number(size)));
  }

  override fd_filestat_set_times(atim: bigint, mtim: bigint, flags: number): number {
    const t = timesFor(this.node, atim, mtim, flags);
    if (typeof t === 'number') return t;
    if (t.a === null && t.m === null) return Errno.SUCCESS;
    return attempt(() => {
      const stat = () => this.fs.fstatSync(this.fd, { bigint: true }) as unknown as BigStats;
      this.node.vol.utimes(stat(), t.a, t.m, (at, mt) => this.fs.futimesSync(this.fd, at, mt), stat);
    });
  }

  override fd_allocate(offset: bigint, len: bigint): number {
    if (!this.writable) return Errno.BADF;
    const end = offset + len;
    if (end > BigInt(MAX_FILE_SIZE)) return Errno.FBIG;
    const size = this.size();
    if (size === undefined) return Errno.IO;
    return Number(end) > size ? attempt(() => this.fs.ftruncateSync(this.fd, Number(end))) : Errno.SUCCESS;
  }

  private readAt(size: number, at: number): { ret: number; data: Uint8Array } {
    if (!this.readable) return { ret: Errno.BADF, data: new Uint8Array(0) };
    const buf = new Uint8Array(Math.min(size, 1 << 24));
    try {
      const n = this.fs.readSync(this.fd, buf, 0, buf.length, at);
      return { ret: Errno.SUCCESS, data: buf.subarray(0, n) };
    } catch (err) {
      return { ret: hostErrno(err), data: new Uint8Array(0) };
    }
  }

  override fd_read(size: number): { ret: number; data: Uint8Array } {
    const r = this.readAt(size, this.pos);
    this.pos += r.data.length;
    return r;
  }

  override fd_pread(size: number, offset: bigint): { ret: number; data: Uint8Array } {
    return this.readAt(size, Number(offset));
  }

  private writeAt(data: Uint8Array, at: number): { ret: number; nwritten: number } {
    if (!this.writable) return { ret: Errno.BADF, nwritten: 0 };
    if (at + data.length > MAX_FILE_SIZE) return { ret: Errno.FBIG, nwritten: 0 };
    try {
      return { ret: Errno.SUCCESS, nwritten: this.fs.writeSync(this.fd, data, 0, data.length, at) };
    } catch (err) {
      return { ret: hostErrno(err), nwritten: 0 };
    }
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    let at = this.pos;
    if (this.fdflags & Fdflags.APPEND) {
      const size = this.size();
      if (size === undefined) return { ret: Errno.IO, nwritten: 0 };
      at = size;
    }
    const r = this.writeAt(data, at);
    if (r.ret === Errno.SUCCESS) this.pos = at + r.nwritten;
    return r;
  }

  override fd_pwrite(data: Uint8Array, offset: bigint): { ret: number; nwritten: number } {
    let at = Number(offset);
    if (this.fdflags & Fdflags.APPEND) at = this.size() ?? at;
    return this.writeAt(data, at);
  }

  override fd_seek(offset: bigint, whence: number): { ret: number; offset: bigint } {
    const t = seekTarget(this.pos, whence === 2 ? this.size() ?? 0 : 0, offset, whence);
    if (t < 0) return { ret: -t, offset: 0n };
    this.pos = t;
    return { ret: Errno.SUCCESS, offset: BigInt(t) };
  }

  override fd_tell(): { ret: number; offset: bigint } {
    return { ret: Errno.SUCCESS, offset: BigInt(this.pos) };
  }

  override fd_sync(): number {
    return attempt(() => this.fs.fsyncSync(this.fd));
  }
}
