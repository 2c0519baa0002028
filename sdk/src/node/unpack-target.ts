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
 * a thread-pool round trip. The exception is creating a new inode at a fresh
 * path (writeNewFile, symlinkNew), where the kernel spends tens to hundreds
 * of microseconds, so it runs on the thread pool while the caller reads on; isFresh
 * says when that cannot race with anything else this target does.
 */
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, open, openSync, readdirSync, readlinkSync, rmSync, symlink, symlinkSync, unlinkSync, chmodSync, writevSync, writeSync, type Stats } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { SkiffError, failedPrecondition, internal, invalidArgument, permissionDenied, resourceExhausted, unsupported } from '../errors/index.js';
import { cleanEntryPath, parentOf } from '../layers/paths.js';

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
// Read once: creating files with their mode then needs no fchmod unless bits were masked.
const UMASK = process.umask();
const EUID = process.geteuid?.() ?? -1;
const EGID = process.getegid?.() ?? -1;

/** node:fs callbacks as promises, without FileHandle objects (one fewer allocation and finalizer per file). */
const call = <T = void>(fn: (cb: (err: NodeJS.ErrnoException | null, v?: T) => void) => void): Promise<T> =>
  new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));

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
  /**
   * Directories this target created (or found empty), so that everything in
   * them is in `made`; and the paths it made and has not removed since.
   * Together they tell a fresh path (see isFresh) without asking the disk.
   */
  private readonly ownDirs = new Set<string>();
  private readonly made = new Set<string>();
  /** New files get our own uid and gid unless the root hands down a setgid group. */
  private readonly inheritsOwner: boolean;

  constructor(
    readonly root: string,
    private readonly chown: boolean,
  ) {
    let st: Stats | undefined;
    try {
      st = lstatSync(root);
      if (readdirSync(root).length === 0) this.ownDirs.add('');
    } catch {
      // Not ours to judge here: the first write names the problem.
    }
    this.inheritsOwner = st !== undefined && (st.mode & 0o2000) === 0 // S_ISGID;
  }

  /**
   * True when nothing can be at `rel`: its parent is a real directory this
   * target created, and nothing was made at `rel` since. A fresh path can be
   * written without clearing anything, so such writes may run side by side
   * (writeNewFile, symlinkNew) while later entries are read.
   */
  isFresh(rel: string): boolean {
    return this.ownDirs.has(parentOf(rel)) && !this.made.has(rel);
  }

  /** Whether every ancestor of `rel` is known to be a real directory (ensureParent has nothing to do). */
  hasParent(rel: string): boolean {
    return this.realDirs.has(parentOf(rel));
  }

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
      this.ownDirs.add(dir);
    } catch (err) {
      if (code(err) !== 'EEXIST') throw osError('mkdir', p, err);
      this.checkIsDir(dir, entry);
    }
    this.made.add(dir);
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
    this.made.delete(rel);
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
    for (const d of this.ownDirs) if (d === rel || d.startsWith(prefix)) this.ownDirs.delete(d);
    for (const d of this.made) if (d === rel || d.startsWith(prefix)) this.made.delete(d);
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
        this.ownDirs.add(rel);
      } catch (err) {
        if (code(err) !== 'EEXIST') throw osError('mkdir', p, err);
        if (!this.clear(rel, true)) {
          try { mkdirSync(p, 0o700); } catch (e) { throw osError('mkdir', p, e); }
          this.ownDirs.add(rel);
        }
      }
      this.made.add(rel);
      this.onRemove?.(rel, false); // a device or xattr record at this path is void now
      this.realDirs.add(rel);
    }
    this.dirMeta.set(rel, meta);
  }

  /** Creates a regular file (replacing what was there) and returns its fd. */
  createFile(rel: string, mode: number): number {
    const p = this.abs(rel);
    this.onRemove?.(rel, false);
    this.made.add(rel);
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

  /**
   * A regular file at a fresh path (isFresh). Only the create goes to the
   * thread pool: it is the costly call (allocating an inode), and a pool
   * round trip per call costs more than the rest done here at once: one
   * writev, the owner only when it differs from ours, the mode only when the
   * umask took bits, times, close. The caller keeps the parts unchanged
   * until this settles.
   */
  async writeNewFile(rel: string, meta: DirMeta, parts: Uint8Array[]): Promise<void> {
    const p = this.abs(rel);
    this.onRemove?.(rel, false);
    this.made.add(rel);
    let fd: number;
    try {
      fd = await call<number>((cb) => open(p, CREATE, meta.mode & 0o777, cb));
    } catch (err) {
      throw osError('create', p, err);
    }
    try {
      for (let left = parts; left.length > 0; ) left = rest(left, writevSync(fd, left));
    } catch (err) {
      closeSync(fd);
      throw osError('write', p, err);
    }
    try {
      if (this.chown && !(this.inheritsOwner && meta.uid === EUID && meta.gid === EGID)) fchownSync(fd, meta.uid, meta.gid);
      if ((meta.mode & 0o7000) !== 0 || (meta.mode & UMASK) !== 0) fchmodSync(fd, meta.mode & 0o7777);
      futimesSync(fd, meta.mtime, meta.mtime);
    } catch (err) {
      throw osError('set metadata of', p, err);
    } finally {
      closeSync(fd);
    }
  }

  /** A symlink at a fresh path (isFresh): created on the thread pool, owner and times set here. */
  async symlinkNew(rel: string, target: string, meta: DirMeta): Promise<void> {
    const p = this.abs(rel);
    this.onRemove?.(rel, false);
    this.made.add(rel);
    try {
      await call((cb) => symlink(target, p, cb));
    } catch (err) {
      throw osError('symlink', p, err);
    }
    try {
      if (this.chown && !(this.inheritsOwner && meta.uid === EUID && meta.gid === EGID)) lchownSync(p, meta.uid, meta.gid);
      lutimesSync(p, meta.mtime, meta.mtime);
    } catch (err) {
      throw osError('set metadata of', p, err);
    }
  }

  symlink(rel: string, target: string, meta: DirMeta): void {
    const p = this.abs(rel);
    this.onRemove?.(rel, false);
    this.made.add(rel);
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
    this.made.add(rel);
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
    this.made.add(rel); // a node the caller makes natively stands here
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

/** What is left of `parts` after the first `n` bytes were written. */
function rest(parts: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < parts.length && n >= parts[i]!.length) n -= parts[i++]!.length;
  if (i === parts.length) return [];
  return n === 0 ? parts.slice(i) : [parts[i]!.subarray(n), ...parts.slice(i + 1)];
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
