/**
 * `docker cp` into a WASI container: the sdk's extractTar over the
 * container's own tree of nodes, the one its guest sees. A path is walked
 * from `/` one name at a time through mounts, so a write lands where the
 * guest's would: the container's upper layer (copy-on-write: nothing of a
 * shared layer index changes), a tmpfs, or a bind mount's or volume's host
 * directory (through its node-fs-shaped API). Read-only volumes refuse.
 */
import { internal, invalidArgument, resourceExhausted, type FileTree, type FsLike, type TreeEntryType, type TreeMeta } from '@skiff/sdk';
import { HostDir, type HostVolume } from './host.js';
import { MDevice, MDir, MFile, MSymlink, secondsToNs } from './layered.js';
import { DirNode, Errno, Filetype, SymlinkNode, type FsNode } from './node.js';

function fail(op: string, path: string, errno: number): Error {
  if (errno === Errno.ROFS) return invalidArgument(`${op} ${path}: read-only file system`);
  if (errno === Errno.NOSPC || errno === Errno.FBIG) return resourceExhausted(`${op} ${path}: no space for the file (WASI errno ${errno})`);
  return internal(`${op} ${path}: WASI errno ${errno}`);
}

/** A node's host path, for nodes of a host directory volume. */
function hostPathOf(node: FsNode): { fs: FsLike; path: string } | undefined {
  const vol = node.vol as Partial<HostVolume>;
  if (!vol.fs) return undefined;
  const path = (node as unknown as { path?: string }).path;
  return typeof path === 'string' ? { fs: vol.fs, path } : undefined;
}

const isMeta = (n: FsNode): n is MDir | MFile | MSymlink | MDevice => n instanceof MDir || n instanceof MFile || n instanceof MSymlink || n instanceof MDevice;

export class NodeTree implements FileTree {
  constructor(private readonly root: DirNode) {}

  private node(path: string): FsNode | null {
    let cur: FsNode = this.root;
    for (const name of path.split('/').filter(Boolean)) {
      if (!(cur instanceof DirNode)) return null;
      const next = cur.lookup(name);
      if (typeof next === 'number') {
        if (next === Errno.NOENT || next === Errno.NOTDIR) return null;
        throw fail('lookup', path, next);
      }
      if (next === null) return null;
      cur = next;
    }
    return cur;
  }

  private parent(path: string): { dir: DirNode; name: string } {
    const slash = path.lastIndexOf('/');
    const dir = this.node(path.slice(0, slash) || '/');
    if (!(dir instanceof DirNode)) throw fail('lookup', path, Errno.NOTDIR);
    if (dir.vol.readOnly) throw fail('write', path, Errno.ROFS);
    return { dir, name: path.slice(slash + 1) };
  }

  lstat(path: string): TreeEntryType | undefined {
    const n = this.node(path);
    if (!n) return undefined;
    return n.filetype === Filetype.DIRECTORY ? 'directory' : n.filetype === Filetype.SYMBOLIC_LINK ? 'symlink' : n.filetype === Filetype.REGULAR_FILE ? 'file' : 'other';
  }

  readlink(path: string): string {
    const n = this.node(path);
    const t = n instanceof SymlinkNode ? n.readlink() : Errno.INVAL;
    if (typeof t === 'number') throw fail('readlink', path, t);
    return t;
  }

  mkdir(path: string): void {
    const { dir, name } = this.parent(path);
    const ret = dir.createDir(name);
    if (ret !== Errno.SUCCESS) throw fail('mkdir', path, ret);
  }

  async writeFile(path: string, body: ReadableStream<Uint8Array>): Promise<void> {
    const { dir, name } = this.parent(path);
    const made = dir.createFile(name);
    if (typeof made === 'number') throw fail('create', path, made);
    if (made instanceof MFile) {
      let pos = 0;
      for await (const chunk of body) {
        const ret = made.write(pos, chunk);
        if (ret !== Errno.SUCCESS) throw fail('write', path, ret);
        pos += chunk.length;
      }
      return;
    }
    const host = hostPathOf(made);
    if (!host) throw internal(`write ${path}: a file of an unknown kind of volume`);
    const fd = host.fs.openSync(host.path, host.fs.constants.O_WRONLY | host.fs.constants.O_NOFOLLOW);
    try {
      for await (const chunk of body) {
        let off = 0;
        while (off < chunk.length) off += host.fs.writeSync(fd, chunk, off, chunk.length - off);
      }
    } finally {
      host.fs.closeSync(fd);
    }
  }

  /** writeFile from bytes, synchronously (extractTarSync). */
  writeBytes(path: string, body: Uint8Array): void {
    const { dir, name } = this.parent(path);
    const made = dir.createFile(name);
    if (typeof made === 'number') throw fail('create', path, made);
    if (made instanceof MFile) {
      const ret = made.write(0, body);
      if (ret !== Errno.SUCCESS) throw fail('write', path, ret);
      return;
    }
    const host = hostPathOf(made);
    if (!host) throw internal(`write ${path}: a file of an unknown kind of volume`);
    const fd = host.fs.openSync(host.path, host.fs.constants.O_WRONLY | host.fs.constants.O_NOFOLLOW);
    try {
      let off = 0;
      while (off < body.length) off += host.fs.writeSync(fd, body, off, body.length - off);
    } finally {
      host.fs.closeSync(fd);
    }
  }

  symlink(path: string, target: string): void {
    const { dir, name } = this.parent(path);
    const ret = dir.createSymlink(name, target);
    if (ret !== Errno.SUCCESS) throw fail('symlink', path, ret);
  }

  link(path: string, existing: string): void {
    const { dir, name } = this.parent(path);
    const node = this.node(existing);
    if (!node) throw fail('link', existing, Errno.NOENT);
    const ret = dir.link(name, node);
    if (ret === Errno.XDEV) throw invalidArgument(`cannot hard-link ${path} to ${existing}: they are on different mounts`);
    if (ret !== Errno.SUCCESS) throw fail('link', path, ret);
  }

  remove(path: string): void {
    const { dir, name } = this.parent(path);
    if (dir.isMountPoint(name)) throw invalidArgument(`cannot replace ${path}: a volume or bind mount is mounted there`);
    const node = this.node(path);
    if (!node) return;
    if (node instanceof DirNode) {
      const listing = node.list(true);
      if (typeof listing === 'number') throw fail('list', path, listing);
      for (const child of [...listing.names]) this.remove(`${path}/${child}`);
    }
    const ret = dir.remove(name, node);
    if (ret !== Errno.SUCCESS) throw fail('remove', path, ret);
  }

  setMeta(path: string, type: TreeEntryType, meta: TreeMeta): void {
    const node = this.node(path);
    if (!node) throw fail('setmeta', path, Errno.NOENT);
    if (isMeta(node)) {
      if (type !== 'symlink') node.mode = meta.mode;
      node.uid = meta.uid;
      node.gid = meta.gid;
      node.atim = node.mtim = secondsToNs(meta.mtime);
      node.changed = true;
      return;
    }
    const host = node instanceof HostDir ? { fs: node.vol.fs, path: node.path } : hostPathOf(node);
    if (!host) return;
    try {
      const fs = host.fs as Partial<FsLike> & FsLike;
      if (typeof fs.lchownSync === 'function') fs.lchownSync(host.path, meta.uid, meta.gid);
      if (type !== 'symlink') fs.chmodSync(host.path, meta.mode);
      fs.lutimesSync(host.path, meta.mtime, meta.mtime);
    } catch (err) {
      throw internal(`set the mode, owner and times of ${path}: ${(err as Error).message}`, err);
    }
  }
}
