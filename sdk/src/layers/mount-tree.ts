/**
 * One FileTree made of a root tree and trees mounted on some of its
 * directories: a path under a mount's target goes to the mount's tree (with
 * the path made relative to it), the rest to the root. For a container whose
 * mounts are not set up (it is not running), so that `docker cp` into a bind
 * mount or a volume writes to the mount's source, as it would while it runs.
 */
import { invalidArgument } from '../errors/index.js';
import type { TarHeader } from './tar-types.js';
import type { FileTree, TreeEntryType, TreeMeta } from './extract.js';

export interface TreeMount {
  /** Absolute, clean container path. */
  target: string;
  tree: FileTree;
}

export class MountedTree implements FileTree {
  private readonly mounts: TreeMount[];

  constructor(private readonly root: FileTree, mounts: TreeMount[]) {
    this.mounts = [...mounts].sort((a, b) => b.target.length - a.target.length);
  }

  private route(path: string): { tree: FileTree; path: string; mountRoot: boolean } {
    for (const m of this.mounts) {
      if (path === m.target) return { tree: m.tree, path: '/', mountRoot: true };
      if (path.startsWith(`${m.target}/`)) return { tree: m.tree, path: path.slice(m.target.length), mountRoot: false };
    }
    return { tree: this.root, path, mountRoot: false };
  }

  lstat(path: string) {
    const r = this.route(path);
    return r.tree.lstat(r.path);
  }
  readlink(path: string) {
    const r = this.route(path);
    return r.tree.readlink(r.path);
  }
  mkdir(path: string) {
    const r = this.route(path);
    return r.tree.mkdir(r.path);
  }
  writeFile(path: string, body: ReadableStream<Uint8Array>) {
    const r = this.route(path);
    return r.tree.writeFile(r.path, body);
  }
  symlink(path: string, target: string) {
    const r = this.route(path);
    return r.tree.symlink(r.path, target);
  }
  link(path: string, existing: string) {
    const r = this.route(path);
    const e = this.route(existing);
    if (r.tree !== e.tree) throw invalidArgument(`cannot hard-link ${path} to ${existing}: they are on different mounts`);
    return r.tree.link(r.path, e.path);
  }
  get mknod(): ((path: string, header: TarHeader) => void | Promise<void>) | undefined {
    return (path, header) => {
      const r = this.route(path);
      if (!r.tree.mknod) throw invalidArgument(`cannot make the special file ${path} on its mount`);
      return r.tree.mknod(r.path, header);
    };
  }
  remove(path: string) {
    const r = this.route(path);
    if (r.mountRoot) throw invalidArgument(`cannot replace ${path}: a volume or bind mount is mounted there`);
    return r.tree.remove(r.path);
  }
  setMeta(path: string, type: TreeEntryType, meta: TreeMeta) {
    const r = this.route(path);
    return r.tree.setMeta(r.path, type, meta);
  }
  async finish(): Promise<void> {
    await this.root.finish?.();
    for (const m of this.mounts) await m.tree.finish?.();
  }
}
