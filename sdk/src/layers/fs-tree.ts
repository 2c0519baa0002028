/**
 * A FileTree (extract.ts) over a node-fs-shaped API below one directory: a
 * host directory (a bind mount's source, an on-disk volume, a running Linux
 * container's /proc/PID/root) through node:fs, or an in-memory volume through
 * memfs. The extractor hands it resolved paths only; files are created with
 * O_EXCL so a symlink put in their place is never written through.
 */
import { internal, invalidArgument, resourceExhausted, type SkiffError } from '../errors/index.js';
import type { FsLike } from '../runtime/backend.js';
import type { FileTree, TreeEntryType, TreeMeta } from './extract.js';

/** Errors at the OS edge name the operation, the path and errno. */
export function treeError(op: string, path: string, err: unknown): SkiffError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EROFS') return invalidArgument(`${op} ${path}: read-only file system`, err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return resourceExhausted(`${op} ${path}: no space left on the device`, err);
  return internal(`${op} ${path}: ${(err as Error).message}`, err);
}

export class FsTree implements FileTree {
  /** `root`: the host directory that is `/` of this tree. */
  constructor(protected readonly fs: FsLike, protected readonly root: string) {}

  protected host(path: string): string {
    return path === '/' ? this.root : `${this.root.replace(/\/+$/, '')}${path}`;
  }

  private run<T>(op: string, path: string, f: () => T): T {
    try {
      return f();
    } catch (err) {
      throw treeError(op, path, err);
    }
  }

  lstat(path: string): TreeEntryType | undefined {
    let st;
    try {
      st = this.fs.lstatSync(this.host(path));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw treeError('lstat', path, err);
    }
    return st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';
  }

  readlink(path: string): string {
    return this.run('readlink', path, () => String(this.fs.readlinkSync(this.host(path))));
  }

  mkdir(path: string): void {
    this.run('mkdir', path, () => this.fs.mkdirSync(this.host(path), { mode: 0o755 }));
  }

  async writeFile(path: string, body: ReadableStream<Uint8Array>): Promise<void> {
    // 'wx' is O_CREAT|O_EXCL: it fails on anything at the path, a symlink included.
    const fd = this.run('create', path, () => this.fs.openSync(this.host(path), 'wx', 0o600));
    try {
      for await (const chunk of body) {
        let off = 0;
        while (off < chunk.length) off += this.run('write', path, () => this.fs.writeSync(fd, chunk, off, chunk.length - off));
      }
    } finally {
      this.fs.closeSync(fd);
    }
  }

  writeBytes(path: string, body: Uint8Array): void {
    const fd = this.run('create', path, () => this.fs.openSync(this.host(path), 'wx', 0o600));
    try {
      let off = 0;
      while (off < body.length) off += this.run('write', path, () => this.fs.writeSync(fd, body, off, body.length - off));
    } finally {
      this.fs.closeSync(fd);
    }
  }

  symlink(path: string, target: string): void {
    this.run('symlink', path, () => this.fs.symlinkSync(target, this.host(path)));
  }

  link(path: string, existing: string): void {
    this.run('link', path, () => this.fs.linkSync(this.host(existing), this.host(path)));
  }

  remove(path: string): void {
    this.run('remove', path, () => this.fs.rmSync(this.host(path), { recursive: true, force: true }));
  }

  setMeta(path: string, type: TreeEntryType, meta: TreeMeta): void {
    const p = this.host(path);
    // lchown first: chown clears the set-id bits that the mode then sets.
    if (typeof this.fs.lchownSync === 'function') this.run('chown', path, () => this.fs.lchownSync(p, meta.uid, meta.gid));
    if (type !== 'symlink') this.run('chmod', path, () => this.fs.chmodSync(p, meta.mode));
    if (typeof this.fs.lutimesSync === 'function') this.run('utimes', path, () => this.fs.lutimesSync(p, meta.mtime, meta.mtime));
    else if (type !== 'symlink') this.run('utimes', path, () => this.fs.utimesSync(p, meta.mtime, meta.mtime));
  }
}
