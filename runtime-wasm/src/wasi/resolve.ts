/**
 * Path resolution for the path_* calls, done here, one component at a time,
 * rather than inside each file system: the semantics that the official tests
 * and real programs depend on (`..` that cannot climb above the directory fd,
 * symlinks followed or not, loops, trailing slashes, absolute paths refused)
 * then hold for every Fd implementation, and a directory Fd only ever sees a
 * single name without slashes.
 *
 * A directory Fd must answer, for one name: path_lookup (no following),
 * path_readlink, and path_open with OFLAGS_DIRECTORY. Those are the shim's
 * own Fd methods.
 */
import type { Fd, Inode } from '@bjorn3/browser_wasi_shim';
import { Errno, Filetype, Oflags, RIGHTS_ALL } from './defs.js';

/** Linux gives up after 40 symlinks in one lookup (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

export type Resolved =
  /** The path names a directory already open on the way ('.', 'a/..'). */
  | { kind: 'self'; dir: Fd; trailingSlash: boolean; chain: Fd[] }
  /** The path names `name` inside `dir`; `inode` is null when nothing is there. `chain`: the directories walked, `dir` last. */
  | { kind: 'entry'; dir: Fd; name: string; inode: Inode | null; trailingSlash: boolean; chain: Fd[] };

export type Resolution = { ok: true; value: Resolved } | { ok: false; errno: number };

const fail = (errno: number): Resolution => ({ ok: false, errno });

/**
 * A directory Fd may hand out, for a directory inode it looked up, an Fd that
 * path walks can reuse (skiff's DirFd keeps one per directory node); without
 * it each component of a walk opens a fresh directory Fd.
 */
export interface DirWalkable {
  walk_fd(inode: Inode): Fd | null;
  /**
   * One name (no slash, not `.` or `..`, no NUL), not followed: the inode,
   * null when absent, or an errno. Saves the shim's path_lookup its result
   * objects on every component of every walk.
   */
  lookup_name?(name: string): Inode | null | number;
  /**
   * True when names in this directory change only through calls that report
   * removals with `namesChanged()` (skiff's in-memory layered directories; a
   * host directory can change under us): walks may then remember it.
   */
  readonly walk_cacheable?: boolean;
}

/**
 * Bumped whenever a directory or symlink leaves its name (rmdir, rename,
 * unlink of a symlink) or a mount is added: what a remembered walk prefix
 * resolved to may then be different. Making new names never changes what an
 * existing prefix names, and a file's unlink cannot touch a directory chain.
 */
let namesEpoch = 0;

export function namesChanged(): void {
  namesEpoch++;
}

/**
 * The directories a path walk last went through, by the path's text up to its
 * last component (`tmp/w/` for `tmp/w/f00001.txt`): the next path with the
 * same prefix from the same directory fd starts where that walk ended, as a
 * kernel's dentry cache saves it the lookups. One per process (WasiHost).
 */
export interface WalkCache {
  start: Fd | undefined;
  prefix: string;
  stack: Fd[];
  epoch: number;
}

export function newWalkCache(): WalkCache {
  return { start: undefined, prefix: '', stack: [], epoch: -1 };
}

/** An inode's filetype: skiff's nodes carry it as a field, others build a Filestat (a directory's may merge its listing). */
export function filetypeOfInode(inode: Inode): number {
  const t = (inode as { filetype?: unknown }).filetype;
  return typeof t === 'number' ? t : inode.stat().filetype;
}

export function isSymlink(inode: Inode): boolean {
  return filetypeOfInode(inode) === Filetype.SYMBOLIC_LINK;
}

export function isDirectory(inode: Inode): boolean {
  return filetypeOfInode(inode) === Filetype.DIRECTORY;
}

/**
 * Resolves `path` relative to the directory `start`.
 * - `followFinal`: follow a symlink in the last component (LOOKUPFLAGS_SYMLINK_FOLLOW);
 *   a trailing slash also makes the last symlink be followed, as on Linux,
 *   unless `slashFollows` is false (unlink and rmdir act on the link itself).
 * - `root`: the container's `/`. Absolute symlink targets start there (without
 *   a root they are refused, as by wasmtime), and from the root `..` goes
 *   nowhere, as in a chroot. From any other directory fd, `..` cannot climb
 *   above it: the fd is a capability (wasmtime's rule). wasi-libc sends every
 *   absolute and working-directory path through the `/` preopen, so programs
 *   see Linux's behaviour, and openat() with a directory fd sees WASI's.
 */
export function resolvePath(start: Fd, path: string, followFinal: boolean, root?: Fd, slashFollows = true, cache?: WalkCache): Resolution {
  if (path.length === 0) return fail(Errno.NOENT);
  if (path.charCodeAt(0) === 47 /* / */) return fail(Errno.PERM);
  if (path.indexOf('\0') >= 0) return fail(Errno.INVAL);

  let stack: Fd[];
  let trailingSlash = path.charCodeAt(path.length - 1) === 47;
  // `rest` is what is left to walk from `at`; a symlink's target is put in front of it.
  let rest = path;
  let at = 0;
  let links = 0;
  let fromCache = false;
  if (cache !== undefined && cache.start === start && cache.epoch === namesEpoch && path.startsWith(cache.prefix) && hasNameFrom(path, cache.prefix.length)) {
    stack = cache.stack.slice();
    at = cache.prefix.length;
    fromCache = true;
  } else {
    stack = [start];
  }

  for (;;) {
    const len = rest.length;
    while (at < len && rest.charCodeAt(at) === 47) at++;
    if (at >= len) return { ok: true, value: { kind: 'self', dir: stack[stack.length - 1]!, trailingSlash, chain: stack } };
    let end = rest.indexOf('/', at);
    if (end < 0) end = len;
    const name = at === 0 && end === len ? rest : rest.slice(at, end);
    if (name === '.') {
      at = end;
      continue;
    }
    if (name === '..') {
      if (stack.length === 1) {
        // At the container's root `..` stays there, as in a chroot; above any other directory fd it is an escape.
        if (stack[0] !== root) return fail(Errno.PERM);
      } else {
        stack.pop();
      }
      at = end;
      continue;
    }
    let last = true;
    for (let k = end; k < len; k++) {
      if (rest.charCodeAt(k) !== 47) {
        last = false;
        break;
      }
    }
    const dir = stack[stack.length - 1]!;
    const inode = lookupName(dir, name);
    if (typeof inode === 'number') return fail(inode);
    if (inode === null) {
      if (!last) return fail(Errno.NOENT);
      if (cache !== undefined && links === 0 && at > 0 && !(fromCache && at === cache.prefix.length)) remember(cache, start, path.slice(0, at), stack);
      return { ok: true, value: { kind: 'entry', dir, name, inode: null, trailingSlash, chain: stack } };
    }
    const type = filetypeOfInode(inode);
    if (type === Filetype.SYMBOLIC_LINK && (!last || followFinal || (trailingSlash && slashFollows))) {
      if (++links > MAX_SYMLINKS) return fail(Errno.LOOP);
      const { ret: rret, data: target } = dir.path_readlink(name);
      if (target === null) return fail(rret || Errno.INVAL);
      if (target.length === 0) return fail(Errno.NOENT);
      if (target.charCodeAt(0) === 47) {
        if (!root) return fail(Errno.PERM);
        stack = [root];
      }
      if (last && target.endsWith('/')) trailingSlash = true;
      rest = end < len ? target + rest.slice(end) : target;
      at = 0;
      continue;
    }
    if (last) {
      if (cache !== undefined && links === 0 && at > 0 && !(fromCache && at === cache.prefix.length)) remember(cache, start, path.slice(0, at), stack);
      return { ok: true, value: { kind: 'entry', dir, name, inode, trailingSlash, chain: stack } };
    }
    if (type !== Filetype.DIRECTORY) return fail(Errno.NOTDIR);
    const walked = (dir as Fd & Partial<DirWalkable>).walk_fd?.(inode);
    if (walked) {
      stack.push(walked);
    } else {
      const opened = dir.path_open(0, name, Oflags.DIRECTORY, RIGHTS_ALL, RIGHTS_ALL, 0);
      if (!opened.fd_obj) return fail(opened.ret || Errno.NOENT);
      stack.push(opened.fd_obj);
    }
    at = end;
  }
}

/**
 * Does a component follow `from`? A prefix is remembered for a walk that went
 * on to a name in it: `a/b//` walks to `b` itself (an entry of `a`), not into it.
 */
function hasNameFrom(path: string, from: number): boolean {
  for (let i = from; i < path.length; i++) if (path.charCodeAt(i) !== 47) return true;
  return false;
}

/** Keeps a walk's directories for its prefix when every one of them may be remembered. */
function remember(cache: WalkCache, start: Fd, prefix: string, stack: Fd[]): void {
  for (const fd of stack) if ((fd as Fd & Partial<DirWalkable>).walk_cacheable !== true) return;
  cache.start = start;
  cache.prefix = prefix;
  cache.stack = stack.slice();
  cache.epoch = namesEpoch;
}

/** One name in `dir`, not followed: the inode, null when absent, or an errno. */
function lookupName(dir: Fd, name: string): Inode | null | number {
  const direct = (dir as Fd & Partial<DirWalkable>).lookup_name;
  if (direct !== undefined) return direct.call(dir, name);
  const { ret, inode_obj: inode } = dir.path_lookup(name, 0);
  if (inode) return inode;
  return ret === Errno.NOENT || ret === Errno.SUCCESS ? null : ret;
}
