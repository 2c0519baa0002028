/**
 * Path resolution inside a container, one component at a time, as Linux does
 * it under a chroot: `..` climbs to the parent node (and stays put at the
 * container's root), an absolute symlink target starts again at the
 * container's root, a relative one at the symlink's directory. Nothing here
 * ever hands a path to a host: a host directory only ever sees single names
 * that this function checked, so no path, `..` or symlink gets outside.
 */
import { Errno, Filetype, type DirNode, type FsNode, type SymlinkNode } from './node.js';

/** Linux gives up after 40 symlinks in one lookup (MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;
/** Linux PATH_MAX and NAME_MAX, in bytes. */
export const PATH_MAX = 4096;
export const NAME_MAX = 255;

export interface Found {
  /** The directory holding the entry (the node itself when `name` is null). */
  dir: DirNode;
  /** The last component; null when the path names `dir` itself (`.`, `a/..`). */
  name: string | null;
  /** The node, null when nothing has that name. */
  node: FsNode | null;
  /** The path ended with `/`: most calls then want a directory (ENOTDIR), calls that create say EEXIST. */
  slash: boolean;
}

/** Is a single name longer than NAME_MAX bytes (ENAMETOOLONG)? */
export function tooLong(name: string): boolean {
  // A UTF-16 unit is at most 3 UTF-8 bytes: count only when it could matter.
  return name.length > NAME_MAX / 3 && new TextEncoder().encode(name).length > NAME_MAX;
}

/**
 * Resolves `path` from `start`. `follow`: follow a symlink in the last
 * component. `root`: the container's root, for absolute symlink targets.
 * Errors: NOENT (a missing directory on the way, empty path), NOTDIR (a file on
 * the way), LOOP, NAMETOOLONG, INVAL (NUL),
 * PERM (an absolute path: WASI paths are relative to a directory fd).
 */
export function resolve(start: DirNode, path: string, follow: boolean, root: DirNode | null): Found | number {
  const n = path.length;
  if (n === 0) return Errno.NOENT;
  // The common case: one plain name (how a syscall layer that walks paths itself calls us).
  if (path.indexOf('/') < 0 && path !== '.' && path !== '..') {
    if (path.indexOf('\0') >= 0) return Errno.INVAL;
    if (tooLong(path)) return Errno.NAMETOOLONG;
    const node = start.lookup(path);
    if (typeof node === 'number') return node;
    if (node === null || !follow || node.filetype !== Filetype.SYMBOLIC_LINK) return { dir: start, name: path, node, slash: false };
  }
  if (path.charCodeAt(0) === 47 /* / */) return Errno.PERM;
  if (path.indexOf('\0') >= 0) return Errno.INVAL;
  if (n > PATH_MAX) return Errno.NAMETOOLONG;

  // `rest` is what is left to walk; a symlink's target is put in front of it.
  let rest = path;
  let slash = path.charCodeAt(n - 1) === 47;
  let cur = start;
  let links = 0;
  let at = 0;
  for (;;) {
    const len = rest.length;
    while (at < len && rest.charCodeAt(at) === 47) at++;
    if (at >= len) return { dir: cur, name: null, node: cur, slash };
    let end = rest.indexOf('/', at);
    if (end < 0) end = len;
    const name = at === 0 && end === len ? rest : rest.slice(at, end);
    if (name === '.') {
      at = end;
      continue;
    }
    if (name === '..') {
      cur = cur.parent ?? cur;
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
    if (tooLong(name)) return Errno.NAMETOOLONG;
    const node = cur.lookup(name);
    if (typeof node === 'number') return node;
    if (node === null) return last ? { dir: cur, name, node: null, slash } : Errno.NOENT;
    const type = node.filetype;
    if (type === Filetype.SYMBOLIC_LINK && (!last || follow || slash)) {
      if (++links > MAX_SYMLINKS) return Errno.LOOP;
      const target = (node as SymlinkNode).readlink();
      if (typeof target === 'number') return target;
      if (target.length === 0) return Errno.NOENT;
      if (target.charCodeAt(0) === 47) cur = root ?? cur;
      if (last && target.charCodeAt(target.length - 1) === 47) slash = true;
      rest = end < len ? target + rest.slice(end) : target;
      at = 0;
      continue;
    }
    if (last) return { dir: cur, name, node, slash };
    if (type !== Filetype.DIRECTORY) return Errno.NOTDIR;
    cur = node as DirNode;
    at = end;
  }
}
