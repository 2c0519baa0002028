/**
 * MemoryFs: a small in-memory file system with node:fs's synchronous API, the
 * part of it a container's host-directory mounts use (src/fs/host.ts):
 * open/read/write/close, stat/lstat/fstat (also with `{ bigint: true }`),
 * readdir, mkdir, rmdir, unlink, rename, link, symlink, readlink, realpath,
 * truncate, utimes, fsync. Errors carry node's `code` (ENOENT, EEXIST, ...)
 * with Linux's choice of code where cases overlap.
 *
 * Why not memfs: memfs needs node:buffer, node:events, node:stream and more,
 * which a browser bundle must not carry. This one is plain TypeScript, so it
 * serves where node:fs does not exist:
 * - a browser's volumes (browser/volume-store.ts keeps them in IndexedDB);
 * - a worker's copy of a volume that lives in the host's memory
 *   (worker/volume-bridge.ts), whose every change is reported by `onChange`
 *   so the host can apply it to the original.
 *
 * Times are kept in nanoseconds; inode numbers are per file system.
 */

export type FsChange =
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'create'; path: string; mode: number }
  | { op: 'write'; path: string; offset: number; data: Uint8Array }
  | { op: 'truncate'; path: string; size: number }
  | { op: 'unlink'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'rename'; from: string; to: string }
  | { op: 'link'; from: string; to: string }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'utimes'; path: string; atimeNs: bigint; mtimeNs: bigint };

/** A whole tree as plain data (structured-cloneable): for IndexedDB and for postMessage. */
export interface FsSnapshot {
  entries: SnapshotEntry[];
}

export interface SnapshotEntry {
  /** Absolute, `/` for the root. Parents come before children. */
  path: string;
  type: 'dir' | 'file' | 'symlink';
  mode: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  data?: Uint8Array;
  target?: string;
  /** A hard link: the path of an earlier entry with the same file. */
  linkOf?: string;
}

const S_IFMT = 0o170000, S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000;

/** Linux's values, which node:fs reports on Linux and memfs copies. */
export const constants = {
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_NOCTTY: 0o400, O_TRUNC: 0o1000,
  O_APPEND: 0o2000, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000, O_SYNC: 0o4010000, O_DSYNC: 0o10000,
  O_NONBLOCK: 0o4000, O_NOATIME: 0o1000000,
  S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR: 0o020000, S_IFBLK: 0o060000, S_IFIFO: 0o010000, S_IFSOCK: 0o140000,
  F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1,
} as const;

const ERRNO: Record<string, [number, string]> = {
  ENOENT: [-2, 'no such file or directory'], EBADF: [-9, 'bad file descriptor'], EEXIST: [-17, 'file already exists'],
  ENOTDIR: [-20, 'not a directory'], EISDIR: [-21, 'illegal operation on a directory'], EINVAL: [-22, 'invalid argument'],
  ENOTEMPTY: [-39, 'directory not empty'], ELOOP: [-40, 'too many symbolic links encountered'], EPERM: [-1, 'operation not permitted'],
  ENAMETOOLONG: [-36, 'name too long'], EFBIG: [-27, 'file too large'], EBUSY: [-16, 'resource busy or locked'],
};

export class FsError extends Error {
  readonly errno: number;
  constructor(readonly code: string, readonly syscall: string, readonly path?: string, readonly dest?: string) {
    const [errno, text] = ERRNO[code] ?? [-5, 'i/o error'];
    super(`${code}: ${text}, ${syscall}${path !== undefined ? ` '${path}'` : ''}${dest !== undefined ? ` -> '${dest}'` : ''}`);
    this.errno = errno;
  }
}

const MAX_SYMLINKS = 40;
const MAX_FILE = 2 ** 31;

interface Meta {
  ino: number;
  mode: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  birthNs: bigint;
}

interface DirNode extends Meta {
  kind: 'dir';
  entries: Map<string, Node>;
  parent: DirNode;
  name: string;
}

interface FileNode extends Meta {
  kind: 'file';
  data: Uint8Array;
  size: number;
  /** Where the file is linked (hard links): directory and name. */
  links: Array<[DirNode, string]>;
}

interface LinkNode extends Meta {
  kind: 'symlink';
  target: string;
  links: Array<[DirNode, string]>;
}

type Node = DirNode | FileNode | LinkNode;

interface OpenFile {
  node: Node;
  flags: number;
  pos: number;
}

function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/** node's Stats (and BigIntStats), enough for what callers read. */
export class MemoryStats {
  dev: number | bigint;
  ino: number | bigint;
  mode: number | bigint;
  nlink: number | bigint;
  uid: number | bigint;
  gid: number | bigint;
  rdev: number | bigint;
  size: number | bigint;
  blksize: number | bigint;
  blocks: number | bigint;
  atimeMs: number | bigint;
  mtimeMs: number | bigint;
  ctimeMs: number | bigint;
  birthtimeMs: number | bigint;
  atimeNs?: bigint;
  mtimeNs?: bigint;
  ctimeNs?: bigint;
  birthtimeNs?: bigint;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;
  private readonly fmt: number;

  constructor(n: Node, nlink: number, size: number, big: boolean) {
    const v = big ? (x: number) => BigInt(x) : (x: number) => x;
    const ms = (ns: bigint) => (big ? ns / 1_000_000n : Number(ns) / 1e6);
    this.fmt = n.mode & S_IFMT;
    this.dev = v(1);
    this.ino = v(n.ino);
    this.mode = v(n.mode);
    this.nlink = v(nlink);
    this.uid = v(0);
    this.gid = v(0);
    this.rdev = v(0);
    this.size = v(size);
    this.blksize = v(4096);
    this.blocks = v(Math.ceil(size / 512));
    this.atimeMs = ms(n.atimeNs);
    this.mtimeMs = ms(n.mtimeNs);
    this.ctimeMs = ms(n.ctimeNs);
    this.birthtimeMs = ms(n.birthNs);
    if (big) {
      this.atimeNs = n.atimeNs;
      this.mtimeNs = n.mtimeNs;
      this.ctimeNs = n.ctimeNs;
      this.birthtimeNs = n.birthNs;
    }
    this.atime = new Date(Number(n.atimeNs / 1_000_000n));
    this.mtime = new Date(Number(n.mtimeNs / 1_000_000n));
    this.ctime = new Date(Number(n.ctimeNs / 1_000_000n));
    this.birthtime = new Date(Number(n.birthNs / 1_000_000n));
  }

  isFile(): boolean { return this.fmt === S_IFREG; }
  isDirectory(): boolean { return this.fmt === S_IFDIR; }
  isSymbolicLink(): boolean { return this.fmt === S_IFLNK; }
  isCharacterDevice(): boolean { return false; }
  isBlockDevice(): boolean { return false; }
  isFIFO(): boolean { return false; }
  isSocket(): boolean { return false; }
}

type PathLike = string | URL | Uint8Array;
type StatOptions = { bigint?: boolean; throwIfNoEntry?: boolean };

function pathString(p: PathLike): string {
  if (typeof p === 'string') return p;
  if (p instanceof Uint8Array) return new TextDecoder().decode(p);
  return decodeURIComponent(p.pathname);
}

export interface MemoryFsOptions {
  /** Called after every change that succeeded, with absolute paths. */
  onChange?: (change: FsChange) => void;
}

export class MemoryFs {
  readonly constants = constants;
  private nextIno = 1;
  private readonly root: DirNode;
  private readonly fds = new Map<number, OpenFile>();
  private nextFd = 3;
  onChange: ((change: FsChange) => void) | undefined;

  constructor(options: MemoryFsOptions = {}) {
    this.onChange = options.onChange;
    const t = nowNs();
    const root = { kind: 'dir', entries: new Map(), name: '', ino: this.nextIno++, mode: S_IFDIR | 0o755, atimeNs: t, mtimeNs: t, ctimeNs: t, birthNs: t } as unknown as DirNode;
    root.parent = root;
    this.root = root;
  }

  // ---- paths ----------------------------------------------------------------

  private meta(mode: number): Meta {
    const t = nowNs();
    return { ino: this.nextIno++, mode, atimeNs: t, mtimeNs: t, ctimeNs: t, birthNs: t };
  }

  /**
   * Walks `path` from the root. Returns the parent directory, the last name
   * (null for the root) and the node there (null when absent). Symlinks in
   * the middle are always followed, the last one only when `follow`.
   */
  private walk(path: string, follow: boolean, syscall: string, shown = path, depth = { n: 0 }): { dir: DirNode; name: string | null; node: Node | null; slash: boolean } {
    if (path === '') throw new FsError('ENOENT', syscall, shown);
    const slash = path.length > 1 && path.endsWith('/');
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    let dir = this.root;
    let node: Node | null = this.root;
    let name: string | null = null;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const last = i === parts.length - 1;
      if (!node || node.kind !== 'dir') throw new FsError(node ? 'ENOTDIR' : 'ENOENT', syscall, shown);
      dir = node;
      if (part === '..') {
        node = dir.parent;
        dir = node.parent;
        name = node === this.root ? null : node.name;
        continue;
      }
      if (part.length > 255) throw new FsError('ENAMETOOLONG', syscall, shown);
      name = part;
      node = dir.entries.get(part) ?? null;
      if (node?.kind === 'symlink' && (!last || follow || slash)) {
        if (++depth.n > MAX_SYMLINKS) throw new FsError('ELOOP', syscall, shown);
        const base = node.target.startsWith('/') ? node.target : `${this.pathOf(dir)}/${node.target}`;
        const rest = parts.slice(i + 1).join('/');
        return this.walk(rest ? `${base}/${rest}${slash ? '/' : ''}` : `${base}${slash ? '/' : ''}`, follow, syscall, shown, depth);
      }
    }
    if (name === null) return { dir: this.root, name: null, node: this.root, slash };
    if (slash && node && node.kind !== 'dir') throw new FsError('ENOTDIR', syscall, shown);
    return { dir, name, node, slash };
  }

  private pathOf(dir: DirNode): string {
    const names: string[] = [];
    for (let d = dir; d !== this.root; d = d.parent) names.push(d.name);
    return `/${names.reverse().join('/')}`;
  }

  /** A current path of a node (undefined when it has no name left). */
  private nodePath(n: Node): string | undefined {
    if (n.kind === 'dir') return n === this.root || n.parent.entries.get(n.name) === n ? this.pathOf(n) : undefined;
    const l = n.links[0];
    if (!l) return undefined;
    const d = this.pathOf(l[0]);
    return d === '/' ? `/${l[1]}` : `${d}/${l[1]}`;
  }

  private existing(path: PathLike, follow: boolean, syscall: string): Node {
    const p = pathString(path);
    const r = this.walk(p, follow, syscall);
    if (!r.node) throw new FsError('ENOENT', syscall, p);
    return r.node;
  }

  private emit(c: FsChange): void {
    this.onChange?.(c);
  }

  private nlinkOf(n: Node): number {
    if (n.kind === 'dir') {
      let subdirs = 0;
      for (const c of n.entries.values()) if (c.kind === 'dir') subdirs++;
      return 2 + subdirs;
    }
    return n.links.length;
  }

  private sizeOf(n: Node): number {
    if (n.kind === 'file') return n.size;
    if (n.kind === 'symlink') return new TextEncoder().encode(n.target).length;
    return 4096;
  }

  private stats(n: Node, big = false): MemoryStats {
    return new MemoryStats(n, this.nlinkOf(n), this.sizeOf(n), big);
  }

  private touch(n: Node, m = true): void {
    const t = nowNs();
    if (m) n.mtimeNs = t;
    n.ctimeNs = t;
  }

  private link(dir: DirNode, name: string, n: Node): void {
    dir.entries.set(name, n);
    if (n.kind === 'dir') {
      n.parent = dir;
      n.name = name;
    } else n.links.push([dir, name]);
    this.touch(dir);
  }

  private unlinkEntry(dir: DirNode, name: string): void {
    const n = dir.entries.get(name);
    dir.entries.delete(name);
    if (n && n.kind !== 'dir') {
      const i = n.links.findIndex(([d, nm]) => d === dir && nm === name);
      if (i >= 0) n.links.splice(i, 1);
      n.ctimeNs = nowNs();
    }
    this.touch(dir);
  }

  // ---- stat -----------------------------------------------------------------

  statSync(path: PathLike, options: StatOptions = {}): MemoryStats | undefined {
    try {
      return this.stats(this.existing(path, true, 'stat'), options.bigint);
    } catch (err) {
      if (options.throwIfNoEntry === false && (err as FsError).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  lstatSync(path: PathLike, options: StatOptions = {}): MemoryStats | undefined {
    try {
      return this.stats(this.existing(path, false, 'lstat'), options.bigint);
    } catch (err) {
      if (options.throwIfNoEntry === false && (err as FsError).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  fstatSync(fd: number, options: StatOptions = {}): MemoryStats {
    return this.stats(this.fd(fd, 'fstat').node, options.bigint);
  }

  existsSync(path: PathLike): boolean {
    try {
      this.existing(path, true, 'access');
      return true;
    } catch {
      return false;
    }
  }

  realpathSync(path: PathLike): string {
    const n = this.existing(path, true, 'realpath');
    const p = this.nodePath(n);
    if (p === undefined) throw new FsError('ENOENT', 'realpath', pathString(path));
    return p;
  }

  readlinkSync(path: PathLike): string {
    const n = this.existing(path, false, 'readlink');
    if (n.kind !== 'symlink') throw new FsError('EINVAL', 'readlink', pathString(path));
    return n.target;
  }

  readdirSync(path: PathLike, options?: { withFileTypes?: boolean } | string): string[] {
    if (typeof options === 'object' && options?.withFileTypes) throw new FsError('EINVAL', 'scandir', pathString(path));
    const n = this.existing(path, true, 'scandir');
    if (n.kind !== 'dir') throw new FsError('ENOTDIR', 'scandir', pathString(path));
    return [...n.entries.keys()];
  }

  // ---- descriptors ----------------------------------------------------------

  private fd(fd: number, syscall: string): OpenFile {
    const f = this.fds.get(fd);
    if (!f) throw new FsError('EBADF', syscall);
    return f;
  }

  openSync(path: PathLike, flags: number | string = 'r', mode = 0o666): number {
    const p = pathString(path);
    const f = typeof flags === 'string' ? parseFlags(flags) : flags;
    const access = f & 3;
    const nofollow = (f & constants.O_NOFOLLOW) !== 0;
    const r = this.walk(p, !nofollow, 'open');
    let node = r.node;
    if (node && f & constants.O_CREAT && f & constants.O_EXCL) throw new FsError('EEXIST', 'open', p);
    if (!node) {
      if (!(f & constants.O_CREAT) || r.name === null) throw new FsError('ENOENT', 'open', p);
      if (r.slash) throw new FsError('EISDIR', 'open', p);
      const file: FileNode = { kind: 'file', data: new Uint8Array(0), size: 0, links: [], ...this.meta(S_IFREG | (mode & 0o7777)) };
      this.link(r.dir, r.name, file);
      node = file;
      this.emit({ op: 'create', path: this.nodePath(file)!, mode: mode & 0o7777 });
    } else {
      if (node.kind === 'symlink') throw new FsError('ELOOP', 'open', p);
      if (node.kind === 'dir' && access !== constants.O_RDONLY) throw new FsError('EISDIR', 'open', p);
      if (f & constants.O_DIRECTORY && node.kind !== 'dir') throw new FsError('ENOTDIR', 'open', p);
      if (node.kind === 'file' && f & constants.O_TRUNC && access !== constants.O_RDONLY && node.size > 0) {
        node.size = 0;
        node.data = new Uint8Array(0);
        this.touch(node);
        this.emit({ op: 'truncate', path: this.nodePath(node)!, size: 0 });
      }
    }
    const fd = this.nextFd++;
    this.fds.set(fd, { node, flags: f, pos: 0 });
    return fd;
  }

  closeSync(fd: number): void {
    this.fd(fd, 'close');
    this.fds.delete(fd);
  }

  fsyncSync(fd: number): void {
    this.fd(fd, 'fsync');
  }

  fdatasyncSync(fd: number): void {
    this.fd(fd, 'fdatasync');
  }

  readSync(fd: number, buffer: Uint8Array, offset = 0, length = buffer.byteLength - offset, position: number | bigint | null = null): number {
    const f = this.fd(fd, 'read');
    if ((f.flags & 3) === constants.O_WRONLY) throw new FsError('EBADF', 'read');
    if (f.node.kind === 'dir') throw new FsError('EISDIR', 'read');
    if (f.node.kind !== 'file') throw new FsError('EINVAL', 'read');
    const file = f.node;
    const at = position === null || position === undefined || Number(position) < 0 ? f.pos : Number(position);
    const n = Math.max(0, Math.min(length, file.size - at));
    const target = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    if (n > 0) target.set(file.data.subarray(at, at + n), offset);
    if (position === null || position === undefined || Number(position) < 0) f.pos = at + n;
    file.atimeNs = nowNs();
    return n;
  }

  writeSync(fd: number, buffer: Uint8Array | string, offset?: number, length?: number, position?: number | bigint | null): number {
    const f = this.fd(fd, 'write');
    if ((f.flags & 3) === constants.O_RDONLY) throw new FsError('EBADF', 'write');
    if (f.node.kind !== 'file') throw new FsError('EBADF', 'write');
    let data: Uint8Array;
    if (typeof buffer === 'string') {
      data = new TextEncoder().encode(buffer);
      position = typeof offset === 'number' ? offset : null;
    } else {
      const o = offset ?? 0;
      data = new Uint8Array(buffer.buffer, buffer.byteOffset + o, length ?? buffer.byteLength - o);
    }
    const file = f.node;
    const useAppend = (f.flags & constants.O_APPEND) !== 0;
    const positional = position !== null && position !== undefined;
    const at = useAppend ? file.size : positional ? Number(position) : f.pos;
    if (at + data.length > MAX_FILE) throw new FsError('EFBIG', 'write');
    this.ensure(file, at + data.length);
    file.data.set(data, at);
    if (at + data.length > file.size) file.size = at + data.length;
    if (!positional || useAppend) f.pos = at + data.length;
    this.touch(file);
    const p = this.nodePath(file);
    if (p !== undefined && data.length) this.emit({ op: 'write', path: p, offset: at, data: data.slice() });
    return data.length;
  }

  private ensure(file: FileNode, size: number): void {
    if (file.data.length >= size) return;
    const grown = new Uint8Array(Math.max(size, Math.min(file.data.length * 2, size + (1 << 24))));
    grown.set(file.data.subarray(0, file.size));
    file.data = grown;
  }

  private truncateNode(file: FileNode, len: number): void {
    if (len > MAX_FILE) throw new FsError('EFBIG', 'ftruncate');
    if (len < 0) throw new FsError('EINVAL', 'ftruncate');
    if (len > file.size) {
      this.ensure(file, len);
      file.data.fill(0, file.size, len);
    } else if (len < file.size && file.data.length > len) {
      file.data.fill(0, len, file.size);
    }
    file.size = len;
    this.touch(file);
    const p = this.nodePath(file);
    if (p !== undefined) this.emit({ op: 'truncate', path: p, size: len });
  }

  ftruncateSync(fd: number, len = 0): void {
    const f = this.fd(fd, 'ftruncate');
    if ((f.flags & 3) === constants.O_RDONLY || f.node.kind !== 'file') throw new FsError('EINVAL', 'ftruncate');
    this.truncateNode(f.node, len);
  }

  truncateSync(path: PathLike, len = 0): void {
    const n = this.existing(path, true, 'open');
    if (n.kind === 'dir') throw new FsError('EISDIR', 'open', pathString(path));
    if (n.kind !== 'file') throw new FsError('EINVAL', 'open', pathString(path));
    this.truncateNode(n, len);
  }

  futimesSync(fd: number, atime: number | Date, mtime: number | Date): void {
    this.setTimes(this.fd(fd, 'futime').node, atime, mtime);
  }

  utimesSync(path: PathLike, atime: number | Date, mtime: number | Date): void {
    this.setTimes(this.existing(path, true, 'utime'), atime, mtime);
  }

  lutimesSync(path: PathLike, atime: number | Date, mtime: number | Date): void {
    this.setTimes(this.existing(path, false, 'lutime'), atime, mtime);
  }

  private setTimes(n: Node, atime: number | Date, mtime: number | Date): void {
    const ns = (t: number | Date) => BigInt(Math.round((t instanceof Date ? t.getTime() / 1000 : t) * 1e6)) * 1000n;
    n.atimeNs = ns(atime);
    n.mtimeNs = ns(mtime);
    n.ctimeNs = nowNs();
    const p = this.nodePath(n);
    if (p !== undefined) this.emit({ op: 'utimes', path: p, atimeNs: n.atimeNs, mtimeNs: n.mtimeNs });
  }

  chmodSync(path: PathLike, mode: number): void {
    const n = this.existing(path, true, 'chmod');
    n.mode = (n.mode & S_IFMT) | (mode & 0o7777);
    this.touch(n, false);
  }

  // ---- names ----------------------------------------------------------------

  mkdirSync(path: PathLike, options?: number | { recursive?: boolean; mode?: number }): string | undefined {
    const p = pathString(path);
    const mode = (typeof options === 'number' ? options : options?.mode) ?? 0o777;
    if (typeof options === 'object' && options?.recursive) {
      const parts = p.split('/').filter(Boolean);
      let first: string | undefined;
      for (let i = 1; i <= parts.length; i++) {
        const sub = `/${parts.slice(0, i).join('/')}`;
        const r = this.walk(sub, true, 'mkdir', p);
        if (r.node) {
          if (r.node.kind !== 'dir') throw new FsError(i === parts.length ? 'EEXIST' : 'ENOTDIR', 'mkdir', p);
          continue;
        }
        this.makeDir(r.dir, r.name!, mode);
        first ??= sub;
      }
      return first;
    }
    const r = this.walk(p, false, 'mkdir');
    if (r.node || r.name === null) throw new FsError('EEXIST', 'mkdir', p);
    this.makeDir(r.dir, r.name, mode);
    return undefined;
  }

  private makeDir(parent: DirNode, name: string, mode: number): void {
    const d = { kind: 'dir', entries: new Map(), parent, name, ...this.meta(S_IFDIR | (mode & 0o7777)) } as DirNode;
    this.link(parent, name, d);
    this.emit({ op: 'mkdir', path: this.pathOf(d), mode: mode & 0o7777 });
  }

  rmdirSync(path: PathLike): void {
    const p = pathString(path);
    const r = this.walk(p, false, 'rmdir');
    if (!r.node) throw new FsError('ENOENT', 'rmdir', p);
    if (r.name === null) throw new FsError('EBUSY', 'rmdir', p);
    if (r.node.kind !== 'dir') throw new FsError('ENOTDIR', 'rmdir', p);
    if (r.node.entries.size) throw new FsError('ENOTEMPTY', 'rmdir', p);
    const at = this.pathOf(r.node);
    this.unlinkEntry(r.dir, r.name);
    this.emit({ op: 'rmdir', path: at });
  }

  unlinkSync(path: PathLike): void {
    const p = pathString(path);
    const r = this.walk(p, false, 'unlink');
    if (!r.node) throw new FsError('ENOENT', 'unlink', p);
    if (r.node.kind === 'dir') throw new FsError('EISDIR', 'unlink', p);
    const at = this.nodePathAt(r.dir, r.name!);
    this.unlinkEntry(r.dir, r.name!);
    this.emit({ op: 'unlink', path: at });
  }

  private nodePathAt(dir: DirNode, name: string): string {
    const d = this.pathOf(dir);
    return d === '/' ? `/${name}` : `${d}/${name}`;
  }

  rmSync(path: PathLike, options: { recursive?: boolean; force?: boolean } = {}): void {
    const p = pathString(path);
    let r;
    try {
      r = this.walk(p, false, 'rm');
    } catch (err) {
      if (options.force) return;
      throw err;
    }
    if (!r.node) {
      if (options.force) return;
      throw new FsError('ENOENT', 'rm', p);
    }
    if (r.node.kind === 'dir') {
      if (!options.recursive) throw new FsError('EISDIR', 'rm', p);
      for (const name of [...r.node.entries.keys()]) this.rmSync(`${this.pathOf(r.node)}/${name}`, options);
      this.rmdirSync(p);
    } else this.unlinkSync(p);
  }

  symlinkSync(target: PathLike, path: PathLike): void {
    const p = pathString(path);
    const t = pathString(target);
    const r = this.walk(p, false, 'symlink');
    if (r.node || r.name === null) throw new FsError('EEXIST', 'symlink', t, p);
    const l: LinkNode = { kind: 'symlink', target: t, links: [], ...this.meta(S_IFLNK | 0o777) };
    this.link(r.dir, r.name, l);
    this.emit({ op: 'symlink', target: t, path: this.nodePath(l)! });
  }

  linkSync(existingPath: PathLike, newPath: PathLike): void {
    const from = pathString(existingPath), to = pathString(newPath);
    const src = this.walk(from, false, 'link');
    if (!src.node) throw new FsError('ENOENT', 'link', from, to);
    if (src.node.kind === 'dir') throw new FsError('EPERM', 'link', from, to);
    const dst = this.walk(to, false, 'link');
    if (dst.node || dst.name === null) throw new FsError('EEXIST', 'link', from, to);
    const fromPath = this.nodePathAt(src.dir, src.name!);
    this.link(dst.dir, dst.name, src.node);
    src.node.ctimeNs = nowNs();
    this.emit({ op: 'link', from: fromPath, to: this.nodePathAt(dst.dir, dst.name) });
  }

  renameSync(oldPath: PathLike, newPath: PathLike): void {
    const from = pathString(oldPath), to = pathString(newPath);
    const src = this.walk(from, false, 'rename');
    if (!src.node) throw new FsError('ENOENT', 'rename', from, to);
    if (src.name === null) throw new FsError('EBUSY', 'rename', from, to);
    const dst = this.walk(to, false, 'rename');
    if (dst.name === null) throw new FsError('EBUSY', 'rename', from, to);
    const moving = src.node;
    const replaced = dst.node;
    if (replaced === moving) return;
    if (moving.kind === 'dir') {
      for (let d: DirNode = dst.dir; ; d = d.parent) {
        if (d === moving) throw new FsError('EINVAL', 'rename', from, to);
        if (d === this.root) break;
      }
      if (replaced && replaced.kind !== 'dir') throw new FsError('ENOTDIR', 'rename', from, to);
      if (replaced && replaced.kind === 'dir' && replaced.entries.size) throw new FsError('ENOTEMPTY', 'rename', from, to);
    } else if (replaced?.kind === 'dir') throw new FsError('EISDIR', 'rename', from, to);
    const fromAt = this.nodePathAt(src.dir, src.name);
    const toAt = this.nodePathAt(dst.dir, dst.name);
    if (replaced) this.unlinkEntry(dst.dir, dst.name);
    this.unlinkEntry(src.dir, src.name);
    this.link(dst.dir, dst.name, moving);
    moving.ctimeNs = nowNs();
    this.emit({ op: 'rename', from: fromAt, to: toAt });
  }

  // ---- whole files (conveniences) ------------------------------------------

  readFileSync(path: PathLike, options?: { encoding?: string } | string): Uint8Array | string {
    const n = this.existing(path, true, 'open');
    if (n.kind === 'dir') throw new FsError('EISDIR', 'read', pathString(path));
    if (n.kind !== 'file') throw new FsError('EINVAL', 'read', pathString(path));
    const data = n.data.slice(0, n.size);
    const enc = typeof options === 'string' ? options : options?.encoding;
    return enc ? new TextDecoder().decode(data) : data;
  }

  writeFileSync(path: PathLike, data: Uint8Array | string, options?: { mode?: number } | string): void {
    const mode = typeof options === 'object' ? options.mode ?? 0o666 : 0o666;
    const fd = this.openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode);
    try {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      if (bytes.length) this.writeSync(fd, bytes, 0, bytes.length, 0);
    } finally {
      this.closeSync(fd);
    }
  }

  // ---- snapshots ------------------------------------------------------------

  /** The tree under `root` (default: everything) as plain data, root first, with hard links as links. */
  snapshot(root = '/'): FsSnapshot {
    const start = this.existing(root, true, 'scandir');
    if (start.kind !== 'dir') throw new FsError('ENOTDIR', 'scandir', root);
    const entries: SnapshotEntry[] = [];
    const seen = new Map<Node, string>();
    const visit = (n: Node, path: string) => {
      const base = { path, mode: n.mode & 0o7777, atimeNs: n.atimeNs, mtimeNs: n.mtimeNs };
      const earlier = seen.get(n);
      if (earlier !== undefined) {
        entries.push({ ...base, type: n.kind === 'dir' ? 'dir' : n.kind, linkOf: earlier });
        return;
      }
      seen.set(n, path);
      if (n.kind === 'dir') {
        entries.push({ ...base, type: 'dir' });
        for (const name of [...n.entries.keys()].sort()) visit(n.entries.get(name)!, path === '/' ? `/${name}` : `${path}/${name}`);
      } else if (n.kind === 'file') entries.push({ ...base, type: 'file', data: n.data.slice(0, n.size) });
      else entries.push({ ...base, type: 'symlink', target: n.target });
    };
    visit(start, '/');
    return { entries };
  }

  /** A file system holding `snapshot` (as made by `snapshot()` or `snapshotOf`). */
  static fromSnapshot(snapshot: FsSnapshot, options: MemoryFsOptions = {}): MemoryFs {
    const fs = new MemoryFs();
    fs.restore(snapshot);
    fs.onChange = options.onChange;
    return fs;
  }

  private restore(snapshot: FsSnapshot): void {
    const dirTimes: Array<[DirNode, SnapshotEntry]> = [];
    for (const e of snapshot.entries) {
      if (e.path === '/') {
        this.root.mode = S_IFDIR | e.mode;
        dirTimes.push([this.root, e]);
        continue;
      }
      const r = this.walk(e.path, false, 'restore');
      if (r.node || r.name === null) throw new FsError('EEXIST', 'restore', e.path);
      if (e.linkOf !== undefined) {
        const target = this.existing(e.linkOf, false, 'restore');
        if (target.kind === 'dir') throw new FsError('EPERM', 'restore', e.path);
        this.link(r.dir, r.name, target);
        continue;
      }
      let n: Node;
      if (e.type === 'dir') {
        n = { kind: 'dir', entries: new Map(), parent: r.dir, name: r.name, ...this.meta(S_IFDIR | e.mode) } as DirNode;
        dirTimes.push([n, e]);
      } else if (e.type === 'file') {
        const data = e.data ?? new Uint8Array(0);
        n = { kind: 'file', data: data.slice(), size: data.length, links: [], ...this.meta(S_IFREG | e.mode) };
      } else n = { kind: 'symlink', target: e.target ?? '', links: [], ...this.meta(S_IFLNK | 0o777) };
      n.atimeNs = e.atimeNs;
      n.mtimeNs = e.mtimeNs;
      this.link(r.dir, r.name, n);
    }
    // Linking children touched their directories: put the recorded times back.
    for (const [d, e] of dirTimes) {
      d.atimeNs = e.atimeNs;
      d.mtimeNs = e.mtimeNs;
    }
  }
}

function parseFlags(flags: string): number {
  const c = constants;
  switch (flags) {
    case 'r': return c.O_RDONLY;
    case 'r+': return c.O_RDWR;
    case 'w': return c.O_WRONLY | c.O_CREAT | c.O_TRUNC;
    case 'wx': case 'xw': return c.O_WRONLY | c.O_CREAT | c.O_TRUNC | c.O_EXCL;
    case 'w+': return c.O_RDWR | c.O_CREAT | c.O_TRUNC;
    case 'a': return c.O_WRONLY | c.O_CREAT | c.O_APPEND;
    case 'a+': return c.O_RDWR | c.O_CREAT | c.O_APPEND;
    default: throw new FsError('EINVAL', 'open');
  }
}
