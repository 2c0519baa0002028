/**
 * The directory a layer is applied to, with the checks that keep every write
 * inside it. Node has no openat/RESOLVE_BENEATH, so containment rests on one
 * invariant: a path is only written below directories this object has seen
 * to be real directories (created by it, or lstat'ed), and any replacement
 * or removal forgets what lay below. The final component is never followed
 * (O_EXCL|O_NOFOLLOW, mkdir, symlink, link and l* calls do not follow it).
 * Another process changing the directory at the same time is out of scope.
 *
 * Calls are synchronous: they are small, and a sync call costs a fraction of
 * a thread-pool round trip.
 */
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync, chmodSync, writeSync, type Stats } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { SkiffError, failedPrecondition, internal, invalidArgument, permissionDenied, resourceExhausted, unsupported } from '../errors/index.js';
import { cleanEntryPath, parentOf } from '../layers/paths.js';

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
// Read once: creating files with their mode then needs no fchmod unless bits were masked.
const UMASK = process.umask();

export interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** An fs failure as a SkiffError naming the operation, the path and errno. */
export function osError(op: string, path: string, err: unknown): SkiffError {
  if (err instanceof SkiffError) return err;
  const errno = code(err) ?? (err as Error).message;
  const msg = `unpack: ${op} ${path}: ${errno}`;
  switch (errno) {
    case 'ENOSPC': case 'EDQUOT': return resourceExhausted(`${msg} (the disk is full)`, err);
    case 'EACCES': case 'EPERM': case 'EROFS': return permissionDenied(msg, err);
    default: return internal(msg, err);
  }
}

export class UnpackTarget {
  /** Paths (relative, clean) known to be real directories now; '' is the root. */
  private readonly realDirs = new Set<string>(['']);
  /** Metadata to give directories once their contents are in. */
  private readonly dirMeta = new Map<string, DirMeta>();

  constructor(
    readonly root: string,
    private readonly chown: boolean,
  ) {}

  /**
   * Told of each path about to be replaced or removed (`subtree`: and all
   * below it), for callers that keep records by path (devices, xattrs).
   */
  onRemove?: (rel: string, subtree: boolean) => void;

  abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  /** Makes sure every ancestor of `rel` is a real directory, creating missing ones. */
  ensureParent(rel: string, entry: string): void {
    const parent = parentOf(rel);
    if (!this.realDirs.has(parent)) this.ensureDir(parent, entry);
  }

  private ensureDir(dir: string, entry: string): void {
    if (this.realDirs.has(dir)) return;
    this.ensureDir(parentOf(dir), entry);
    const p = this.abs(dir);
    try {
      mkdirSync(p, 0o755);
    } catch (err) {
      if (code(err) !== 'EEXIST') throw osError('mkdir', p, err);
      this.checkIsDir(dir, entry);
    }
    this.realDirs.add(dir);
  }

  private checkIsDir(dir: string, entry: string): void {
    const st = this.lstat(dir);
    if (st?.isDirectory()) return;
    if (st?.isSymbolicLink()) {
      throw invalidArgument(`refusing tar entry "${entry}": it lies below "${dir}", which is a symlink; a layer never writes through a symlink`);
    }
    throw failedPrecondition(`tar entry "${entry}": "${dir}" is ${st ? 'not a directory' : 'missing'} in ${this.root}`);
  }

  /** Checks that every ancestor of `rel` is a real directory, creating nothing. */
  checkParent(rel: string, entry: string): void {
    const parent = parentOf(rel);
    if (this.realDirs.has(parent)) return;
    this.checkParent(parent, entry);
    this.checkIsDir(parent, entry);
    this.realDirs.add(parent);
  }

  /**
   * For removals: true if every ancestor of `rel` is a real directory, false
   * if one is missing (nothing to remove); refuses a path through a symlink.
   */
  parentExists(rel: string, entry: string): boolean {
    const parent = parentOf(rel);
    if (this.realDirs.has(parent)) return true;
    if (!this.parentExists(parent, entry)) return false;
    const st = this.lstat(parent);
    if (!st) return false;
    if (!st.isDirectory()) this.checkIsDir(parent, entry);
    this.realDirs.add(parent);
    return true;
  }

  lstat(rel: string): Stats | undefined {
    const p = this.abs(rel);
    try {
      return lstatSync(p);
    } catch (err) {
      if (code(err) === 'ENOENT') return undefined;
      throw osError('lstat', p, err);
    }
  }

  /** Removes whatever is at `rel` (a tree too), forgetting what lay below. */
  remove(rel: string): void {
    const p = this.abs(rel);
    const st = this.lstat(rel);
    this.onRemove?.(rel, !st || st.isDirectory());
    if (!st) return;
    try {
      if (st.isDirectory()) {
        this.forgetBelow(rel);
        rmSync(p, { recursive: true, force: true });
      } else {
        unlinkSync(p);
      }
    } catch (err) {
      throw osError('remove', p, err);
    }
  }

  private forgetBelow(rel: string): void {
    const prefix = rel === '' ? '' : `${rel}/`;
    for (const d of this.realDirs) if (d === rel || d.startsWith(prefix)) this.realDirs.delete(d);
    for (const d of this.dirMeta.keys()) if (d === rel || d.startsWith(prefix)) this.dirMeta.delete(d);
    if (rel === '') this.realDirs.add('');
  }

  /** Clears `rel` for a new entry: a directory stays only if the entry is one too. */
  private clear(rel: string, keepDir: boolean): boolean {
    const st = this.lstat(rel);
    if (!st) return false;
    if (keepDir && st.isDirectory()) return true;
    this.remove(rel);
    return false;
  }

  /** A directory (an existing one is kept); its metadata is set by finishDirs. Parent checked. */
  mkdir(rel: string, meta: DirMeta): void {
    const p = this.abs(rel);
    if (rel !== '') {
      try {
        mkdirSync(p, 0o700); // opened up to its mode once its contents are in
      } catch (err) {
        if (code(err) !== 'EEXIST') throw osError('mkdir', p, err);
        if (!this.clear(rel, true)) {
          try { mkdirSync(p, 0o700); } catch (e) { throw osError('mkdir', p, e); }
        }
      }
      this.onRemove?.(rel, false); // a device or xattr record at this path is void now
      this.realDirs.add(rel);
    }
    this.dirMeta.set(rel, meta);
  }

  /** Creates a regular file (replacing what was there) and returns its fd. */
  createFile(rel: string, mode: number): number {
    const p = this.abs(rel);
    this.onRemove?.(rel, false);
    try {
      return openSync(p, CREATE, mode & 0o777);
    } catch (err) {
      if (code(err) !== 'EEXIST') throw osError('create', p, err);
    }
    this.clear(rel, false);
    try {
      return openSync(p, CREATE, mode & 0o777);
    } catch (err) {
      throw osError('create', p, err);
    }
  }

  /** Owner, mode and times of an open file, in that order (chown clears setuid). */
  finishFile(fd: number, rel: string, meta: DirMeta): void {
    try {
      if (this.chown) fchownSync(fd, meta.uid, meta.gid);
      if ((meta.mode & 0o7000) !== 0 || (meta.mode & UMASK) !== 0) fchmodSync(fd, meta.mode & 0o7777);
      futimesSync(fd, meta.mtime, meta.mtime);
    } catch (err) {
      throw osError('set metadata of', this.abs(rel), err);
    }
  }

  write(fd: number, rel: string, data: Uint8Array): void {
    try {
      for (let o = 0; o < data.length; ) o += writeSync(fd, data, o, data.length - o);
    } catch (err) {
      throw osError('write', this.abs(rel), err);
    }
  }

  close(fd: number): void {
    closeSync(fd);
  }

  symlink(rel: string, target: string, meta: DirMeta): void {
    const p = this.abs(rel);
    this.onRemove?.(rel, false);
    try {
      symlinkSync(target, p);
    } catch (err) {
      if (code(err) !== 'EEXIST') throw osError('symlink', p, err);
      this.clear(rel, false);
      try { symlinkSync(target, p); } catch (e) { throw osError('symlink', p, e); }
    }
    try {
      if (this.chown) lchownSync(p, meta.uid, meta.gid);
      lutimesSync(p, meta.mtime, meta.mtime);
    } catch (err) {
      throw osError('set metadata of', p, err);
    }
  }

  /**
   * A hard link to `target` (clean, inside). The target must be a file or a
   * symlink that stays inside the root; its parents are checked like any path.
   */
  link(rel: string, target: string, entry: string): void {
    this.checkParent(target, entry);
    const st = this.lstat(target);
    if (!st) throw failedPrecondition(`tar entry "${entry}": its hard link target "${target}" does not exist (not in this layer or below it)`);
    if (st.isDirectory()) throw invalidArgument(`refusing tar entry "${entry}": it hard-links to the directory "${target}"`);
    if (st.isSymbolicLink()) {
      const to = readlinkSync(this.abs(target));
      if (escapes(parentOf(target), to)) throw invalidArgument(`refusing tar entry "${entry}": it hard-links to "${target}", a symlink that points outside the target directory ("${to}")`);
    }
    if (target === rel) return;
    const p = this.abs(rel);
    this.onRemove?.(rel, false);
    try {
      linkSync(this.abs(target), p);
    } catch (err) {
      if (code(err) !== 'EEXIST') throw osError(`link to ${this.abs(target)}`, p, err);
      if (this.lstat(rel)?.ino === st.ino) return; // already that file
      this.clear(rel, false);
      try { linkSync(this.abs(target), p); } catch (e) { throw osError(`link to ${this.abs(target)}`, p, e); }
    }
  }

  /** A FIFO, made by mkfifo(1): Node has no mknod. */
  fifo(rel: string, meta: DirMeta): void {
    const p = this.abs(rel);
    this.vacate(rel);
    try {
      execFileSync('mkfifo', ['-m', (meta.mode & 0o7777).toString(8), '--', p], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      if (code(err) === 'ENOENT') throw unsupported(`unpack: cannot make the FIFO ${p}: the mkfifo command is missing (install coreutils)`, err);
      throw internal(`unpack: mkfifo ${p}: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}`, err);
    }
    try {
      if (this.chown) lchownSync(p, meta.uid, meta.gid);
      lutimesSync(p, meta.mtime, meta.mtime);
    } catch (err) {
      throw osError('set metadata of', p, err);
    }
  }

  /** Frees `rel` for a node the caller makes natively (device, whiteout). */
  vacate(rel: string): void {
    this.onRemove?.(rel, false);
    this.clear(rel, false);
  }

  /** The children of a real directory (parents already checked). */
  children(rel: string): string[] {
    try {
      return readdirSync(this.abs(rel));
    } catch (err) {
      if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return [];
      throw osError('read directory', this.abs(rel), err);
    }
  }

  isRealDir(rel: string): boolean {
    if (this.realDirs.has(rel)) return true;
    if (this.lstat(rel)?.isDirectory()) { this.realDirs.add(rel); return true; }
    return false;
  }

  /** Directory modes, owners and times, after everything else is written. */
  finishDirs(): void {
    // Deepest first, so a read-only parent is closed after its children.
    const dirs = [...this.dirMeta.keys()].sort((a, b) => b.length - a.length);
    for (const rel of dirs) {
      const m = this.dirMeta.get(rel)!;
      const p = this.abs(rel);
      try {
        if (this.chown) lchownSync(p, m.uid, m.gid);
        chmodSync(p, m.mode & 0o7777); // a real directory: the invariant says so
        lutimesSync(p, m.mtime, m.mtime);
      } catch (err) {
        throw osError('set metadata of', p, err);
      }
    }
    this.dirMeta.clear();
  }
}

/** Whether a symlink at `fromDir` pointing to `to` would resolve outside the root (lexically). */
export function escapes(fromDir: string, to: string): boolean {
  if (to.startsWith('/')) return true;
  try {
    cleanEntryPath(fromDir ? `${fromDir}/${to}` : to);
    return false;
  } catch {
    return true;
  }
}
