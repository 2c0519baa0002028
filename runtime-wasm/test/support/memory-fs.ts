/**
 * A test double of the container file system, on the shim's in-memory classes
 * plus symlinks: each container gets a private copy of its layers' files. It
 * lets the backend and the WASI host be tested before (and independently of)
 * the real layered file system in src/fs, which shares layers and copies nothing.
 */
import { Directory, File, Inode, OpenDirectory, OpenFile, PreopenDirectory, wasi } from '@bjorn3/browser_wasi_shim';
import { readTar } from '../../../sdk/src/layers/tar-reader.js';
import { unsupported } from '../../../sdk/src/errors/index.js';
import type { ContainerFs, ContainerFsOptions, ContainerFsProvider } from '../../src/container-fs.js';
import type { FoundFile } from '../../src/program.js';

const ERRNO_EXIST = 20, ERRNO_INVAL = 28, ERRNO_LOOP = 32, ERRNO_NOENT = 44;
const FST_ATIM = 1, FST_MTIM = 4;

/** Access and modification times, set at creation and by set_times. */
class Times {
  atim = BigInt(Date.now()) * 1_000_000n;
  mtim = this.atim;
  set(atim: bigint, mtim: bigint, flags: number): number {
    if (flags & FST_ATIM) this.atim = atim;
    if (flags & FST_MTIM) this.mtim = mtim;
    return 0;
  }
  apply(st: wasi.Filestat): wasi.Filestat {
    st.atim = this.atim;
    st.mtim = this.mtim;
    st.ctim = this.mtim;
    st.nlink = 1n;
    st.dev = 1n;
    return st;
  }
}
const timesOf = new WeakMap<Inode, Times>();
const times = (i: Inode) => {
  let t = timesOf.get(i);
  if (!t) timesOf.set(i, (t = new Times()));
  return t;
};

export class Symlink extends Inode {
  constructor(readonly target: string) {
    super();
  }
  override path_open() {
    return { ret: ERRNO_LOOP, fd_obj: null };
  }
  override stat() {
    return times(this).apply(new wasi.Filestat(this.ino, wasi.FILETYPE_SYMBOLIC_LINK, BigInt(new TextEncoder().encode(this.target).length)));
  }
}

export class TimedFile extends File {
  override stat() {
    return times(this).apply(super.stat());
  }
  override path_open(oflags: number, rights: bigint, fdflags: number) {
    const r = super.path_open(oflags, rights, fdflags);
    return r.fd_obj ? { ret: r.ret, fd_obj: new TimedOpenFile(this) } : r;
  }
}

class TimedOpenFile extends OpenFile {
  override fd_filestat_get() {
    return { ret: 0, filestat: this.file.stat() };
  }
  override fd_filestat_set_times(atim: bigint, mtim: bigint, flags: number) {
    return times(this.file).set(atim, mtim, flags);
  }
}

export class LinkDir extends Directory {
  override path_open() {
    return { ret: 0, fd_obj: new LinkOpenDir(this) };
  }
  override stat() {
    return times(this).apply(super.stat());
  }
  override create_entry_for_path(path: string, isDir: boolean) {
    if (this.contents.has(path)) return { ret: ERRNO_EXIST, entry: null };
    const entry = isDir ? new LinkDir(new Map()) : new TimedFile(new Uint8Array());
    this.contents.set(path, entry);
    return { ret: 0, entry };
  }
}

/** A directory Fd with readlink and symlink, and mkdir that keeps those abilities. */
export class LinkOpenDir extends OpenDirectory {
  override path_readlink(name: string): { ret: number; data: string | null } {
    const e = this.dir.contents.get(name);
    return e instanceof Symlink ? { ret: 0, data: e.target } : { ret: ERRNO_INVAL, data: null };
  }
  path_symlink(target: string, name: string): number {
    if (this.dir.contents.has(name)) return ERRNO_EXIST;
    this.dir.contents.set(name, new Symlink(target));
    return 0;
  }
  override path_create_directory(name: string): number {
    if (this.dir.contents.has(name)) return ERRNO_EXIST;
    this.dir.contents.set(name, new LinkDir(new Map()));
    return 0;
  }
  override path_filestat_set_times(_flags: number, name: string, atim: bigint, mtim: bigint, fstFlags: number): number {
    const e = this.dir.contents.get(name);
    return e ? times(e).set(atim, mtim, fstFlags) : ERRNO_NOENT;
  }
  override fd_filestat_set_times(atim: bigint, mtim: bigint, flags: number): number {
    return times(this.dir).set(atim, mtim, flags);
  }
}

export class LinkPreopen extends LinkOpenDir {
  constructor(readonly name: string, contents: Map<string, Inode>) {
    super(new LinkDir(contents));
  }
  override fd_prestat_get() {
    return { ret: 0, prestat: wasi.Prestat.dir(this.name) };
  }
}

type Node = { type: 'dir'; children: Map<string, Node> } | { type: 'file'; data: Uint8Array; origin: string } | { type: 'symlink'; target: string };

interface Layer {
  diffId: string;
  entries: Array<{ path: string; type: 'file' | 'directory' | 'symlink' | 'hardlink'; data?: Uint8Array; linkname?: string }>;
}

export class MemoryFsProvider implements ContainerFsProvider {
  indexed = 0;

  async indexLayer(diffId: string, tar: ReadableStream<Uint8Array>): Promise<Layer> {
    this.indexed++;
    const entries: Layer['entries'] = [];
    for await (const e of readTar(tar)) {
      const path = e.header.path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
      if (!path) continue;
      const t = e.header.type;
      if (t === 'file') entries.push({ path, type: 'file', data: await e.bytes() });
      else if (t === 'directory') entries.push({ path, type: 'directory' });
      else if (t === 'symlink') entries.push({ path, type: 'symlink', linkname: e.header.linkname ?? '' });
      else if (t === 'hardlink') entries.push({ path, type: 'hardlink', linkname: (e.header.linkname ?? '').replace(/^\.?\/+/, '') });
    }
    return { diffId, entries };
  }

  create(options: ContainerFsOptions): ContainerFs {
    const root: Node = { type: 'dir', children: new Map() };
    const lookup = (path: string, make: boolean): Map<string, Node> | undefined => {
      let dir = root;
      for (const part of path.split('/').filter(Boolean)) {
        let next = dir.children.get(part);
        if (!next || next.type !== 'dir') {
          if (!make) return undefined;
          next = { type: 'dir', children: new Map() };
          dir.children.set(part, next);
        }
        dir = next;
      }
      return dir.children;
    };
    for (const layer of options.layers as Layer[]) {
      for (const e of layer.entries) {
        const slash = e.path.lastIndexOf('/');
        const parent = slash < 0 ? '' : e.path.slice(0, slash);
        const name = e.path.slice(slash + 1);
        if (name === '.wh..wh..opq') {
          lookup(parent, true)!.clear();
          continue;
        }
        if (name.startsWith('.wh.')) {
          lookup(parent, false)?.delete(name.slice(4));
          continue;
        }
        const dir = lookup(parent, true)!;
        if (e.type === 'directory') {
          if (dir.get(name)?.type !== 'dir') dir.set(name, { type: 'dir', children: new Map() });
        } else if (e.type === 'file') {
          dir.set(name, { type: 'file', data: e.data!, origin: `${layer.diffId}:/${e.path}` });
        } else if (e.type === 'symlink') {
          dir.set(name, { type: 'symlink', target: e.linkname! });
        } else {
          const target = e.linkname!;
          const ts = target.lastIndexOf('/');
          const src = lookup(ts < 0 ? '' : target.slice(0, ts), false)?.get(target.slice(ts + 1));
          if (src) dir.set(name, src);
        }
      }
    }
    const origins = new WeakMap<object, string>();
    const build = (children: Map<string, Node>): Map<string, Inode> => {
      const m = new Map<string, Inode>();
      for (const [name, n] of children) {
        if (n.type === 'dir') m.set(name, new LinkDir(build(n.children)));
        else if (n.type === 'symlink') m.set(name, new Symlink(n.target));
        else {
          const f = new TimedFile(n.data.slice(), { readonly: options.readOnly });
          origins.set(f, n.origin);
          m.set(name, f);
        }
      }
      return m;
    };
    const top = build((root as { children: Map<string, Node> }).children);
    for (const m of options.mounts) {
      if (m.type !== 'tmpfs') throw unsupported(`the test file system has no ${m.type} mounts`);
      const parts = m.target.split('/').filter(Boolean);
      let dir = top;
      for (const p of parts.slice(0, -1)) {
        let d = dir.get(p);
        if (!(d instanceof Directory)) dir.set(p, (d = new LinkDir(new Map())));
        dir = (d as Directory).contents;
      }
      dir.set(parts[parts.length - 1]!, new LinkDir(new Map()));
    }
    return {
      preopens: [{ name: '/', fd: new LinkPreopen('/', top) }],
      exportChanges: () => {
        throw unsupported('the test file system cannot export changes');
      },
      moduleKey: (file: FoundFile) => origins.get(file.inode),
    };
  }
}

export { PreopenDirectory };
