/**
 * Extracting a tar into a container's file tree, as `docker cp SRC
 * CONTAINER:DIR` does (dockerd's PUT /containers/{id}/archive): the policy
 * lives here, once; each backend gives a `FileTree` that only knows how to
 * make one thing at one path.
 *
 * Every path is resolved here, one component at a time, as Linux does under
 * a chroot: `..` stops at the container's root, an absolute symlink target
 * starts again at the root. So no entry name, `..` or symlink (in the tar or
 * already in the container) leads a write outside the container; a tree only
 * ever sees clean absolute paths whose parents are directories.
 *
 * Docker's rules: the target must exist and be a directory (404 / 400),
 * missing parents of an entry are made (0755), an existing entry is replaced
 * unless both are directories (`noOverwriteDirNonDir` refuses a directory
 * replaced by a non-directory and the reverse), owners come from the tar
 * unless the caller gives one (`copyUIDGID` with a container user), a
 * read-only root or mount refuses. OCI whiteouts are plain files here.
 *
 * The policy is written once, as generators that yield each tree call's
 * result (a value or a promise): `extractTar` awaits them (a stream, any
 * tree), `extractTarSync` takes them as they are (bytes in memory, a tree
 * that answers synchronously: a WASI container served inside a blocked guest).
 */
import { internal, invalidArgument, notFound, unsupported } from '../errors/index.js';
import { readTar, readTarBytes } from './tar-reader.js';
import type { TarHeader } from './tar-types.js';
import { cleanEntryPath, parentOf } from './paths.js';

export type TreeEntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface TreeMeta {
  /** Permission bits (07777); not applied to symlinks. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
}

type Maybe<T> = T | Promise<T>;

/**
 * A container's file tree as the extractor writes it. Paths are absolute and
 * clean (`/a/b`); the extractor has resolved every parent to a directory, so a
 * tree follows no symlink itself (not even in the last component).
 */
export interface FileTree {
  /** The entry's type, or undefined when nothing has that name. */
  lstat(path: string): Maybe<TreeEntryType | undefined>;
  readlink(path: string): Maybe<string>;
  mkdir(path: string): Maybe<void>;
  /** Makes a new regular file (the path is free) with these bytes. */
  writeFile(path: string, body: ReadableStream<Uint8Array>): Maybe<void>;
  symlink(path: string, target: string): Maybe<void>;
  /** A hard link at `path` to the non-directory at `existing`. */
  link(path: string, existing: string): Maybe<void>;
  /** A FIFO or device node; a tree that cannot make one leaves this out. */
  mknod?(path: string, header: TarHeader): Maybe<void>;
  /** Removes the entry, and everything below it for a directory. */
  remove(path: string): Maybe<void>;
  setMeta(path: string, type: TreeEntryType, meta: TreeMeta): Maybe<void>;
  /** Called once at the end (a tree may batch work, such as device nodes). */
  finish?(): Maybe<void>;
  /** Makes a new regular file with these bytes, synchronously: needed by extractTarSync only. */
  writeBytes?(path: string, body: Uint8Array): void;
}

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory or the reverse (docker's noOverwriteDirNonDir). */
  noOverwriteDirNonDir?: boolean;
  /** Owner of everything extracted (docker cp -a with a container user); default: the tar's. */
  owner?: { uid: number; gid: number };
  /** The container's mounts, to refuse writes under read-only ones. */
  mounts?: Array<{ target: string; readOnly: boolean }>;
  /** The container's root is read-only (`--read-only`): only writable mounts take files. */
  readOnlyRoot?: boolean;
  /** Names the container in messages. */
  container?: string;
}

/** Linux gives up after 40 symlinks in one lookup. */
const MAX_SYMLINKS = 40;

const join = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
const within = (p: string, dir: string) => dir === '/' || p === dir || p.startsWith(`${dir}/`);

/** Docker's "extraction point" as a clean absolute container path. */
function absolute(dir: string): string {
  if (!dir.startsWith('/')) throw invalidArgument(`the destination "${dir}" must be an absolute path in the container`);
  if (dir.includes('\0')) throw invalidArgument('the destination path contains a NUL byte');
  return dir;
}

/** A step of the policy: yields each tree call's result, gets it back settled. */
type Steps<T> = Generator<unknown, T, unknown>;

/** One tree call inside a step: `const t = yield* settle(tree.lstat(p))`. */
function* settle<T>(v: Maybe<T>): Steps<T> {
  return (yield v) as T;
}

/** Runs steps awaiting every result. */
async function runAsync<T>(g: Steps<T>): Promise<T> {
  let r = g.next();
  while (!r.done) {
    let v: unknown;
    try {
      v = await r.value;
    } catch (err) {
      r = g.throw(err);
      continue;
    }
    r = g.next(v);
  }
  return r.value;
}

/** Runs steps that must not wait: a tree answering with a promise is a bug of that tree. */
function runSync<T>(g: Steps<T>): T {
  let r = g.next();
  while (!r.done) {
    const v = r.value;
    if (v && typeof (v as PromiseLike<unknown>).then === 'function') {
      (v as Promise<unknown>).then(undefined, () => {});
      r = g.throw(internal('extractTarSync: the file tree answered asynchronously; it needs a tree whose calls return at once'));
      continue;
    }
    r = g.next(v);
  }
  return r.value;
}

class Resolver {
  constructor(private readonly tree: FileTree, private readonly label: string) {}

  /**
   * Resolves `path` to a directory, following every symlink inside the
   * container. `make`: create missing directories (returned so the caller can
   * give them an owner); otherwise a missing one is NOT_FOUND.
   */
  *dir(path: string, make?: (created: string) => Steps<void>, notDir = (cur: string) => invalidArgument(`${cur} is not a directory (in ${path}, container ${this.label})`)): Steps<string> {
    const rest = path.split('/').filter((p) => p !== '' && p !== '.');
    const out: string[] = [];
    let links = 0;
    while (rest.length) {
      const name = rest.shift()!;
      if (name === '..') {
        out.pop();
        continue;
      }
      const cur = `/${[...out, name].join('/')}`;
      const type = yield* settle(this.tree.lstat(cur));
      if (type === undefined) {
        if (!make) throw notFound(`Could not find the file ${path} in container ${this.label}`);
        yield* settle(this.tree.mkdir(cur));
        yield* make(cur);
        out.push(name);
      } else if (type === 'symlink') {
        if (++links > MAX_SYMLINKS) throw invalidArgument(`too many levels of symbolic links in ${path} (container ${this.label})`);
        const target = yield* settle(this.tree.readlink(cur));
        if (target.startsWith('/')) out.length = 0;
        rest.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      } else if (type === 'directory') {
        out.push(name);
      } else {
        throw notDir(cur);
      }
    }
    return `/${out.join('/')}`;
  }
}

/** A body as the tree takes it: a stream (extractTar) or bytes (extractTarSync). */
type Body = { stream: () => ReadableStream<Uint8Array> } | { bytes: Uint8Array };

/** docker's rules for one extraction, applied entry by entry; each method is steps for a runner. */
class Extraction {
  private readonly label: string;
  private readonly resolver: Resolver;
  private readonly mounts: Array<{ target: string; readOnly: boolean }>;
  private dest = '/';
  /** Directory times are set last, deepest first, or later entries would change them. */
  private readonly dirs: Array<{ path: string; meta: TreeMeta }> = [];

  constructor(private readonly tree: FileTree, private readonly dir: string, private readonly o: ExtractOptions) {
    this.label = o.container ?? '';
    this.resolver = new Resolver(tree, this.label);
    this.mounts = [...(o.mounts ?? [])].sort((a, b) => b.target.length - a.target.length);
  }

  /** Refuses a write at `path` under a read-only mount or root, with docker's words. */
  private writable(path: string): void {
    const m = this.mounts.find((m) => within(path, m.target));
    if (m?.readOnly) throw invalidArgument(`mounted volume is marked read-only: ${m.target} in container ${this.label} (mounted with :ro)`);
    if (!m && this.o.readOnlyRoot) throw invalidArgument(`container rootfs is marked read-only: container ${this.label} was created with --read-only; copy into a writable volume instead`);
  }

  private ownerOf(h: { uid: number; gid: number }): { uid: number; gid: number } {
    return this.o.owner ?? { uid: h.uid, gid: h.gid };
  }

  private readonly madeParent = (p: string): Steps<void> => {
    const self = this;
    return (function* () {
      self.writable(p);
      const owner = self.o.owner ?? { uid: 0, gid: 0 };
      yield* settle(self.tree.setMeta(p, 'directory', { mode: 0o755, ...owner, mtime: Date.now() / 1000 }));
    })();
  };

  /** The destination: it must exist, be a directory and be writable. */
  *begin(): Steps<void> {
    this.dest = yield* this.resolver.dir(absolute(this.dir), undefined, () => invalidArgument(`extraction point is not a directory: ${this.dir} in container ${this.label}`));
    this.writable(this.dest);
  }

  *entry(h: TarHeader, body: Body): Steps<void> {
    const { tree, o, label, dest } = this;
    const rel = cleanEntryPath(h.path); // throws on a name that climbs out of the destination
    if (rel === '') return; // `.`: the destination itself
    const slash = rel.lastIndexOf('/');
    const parent = yield* this.resolver.dir(slash < 0 ? dest : join(dest, parentOf(rel)), this.madeParent);
    const path = join(parent, slash < 0 ? rel : rel.slice(slash + 1));
    this.writable(path);
    const meta: TreeMeta = { mode: h.mode & 0o7777, ...this.ownerOf(h), mtime: h.mtime };
    const existing = yield* settle(tree.lstat(path));
    if (existing !== undefined) {
      const isDir = h.type === 'directory';
      if (o.noOverwriteDirNonDir && existing === 'directory' && !isDir) throw invalidArgument(`cannot overwrite directory "${path}" with non-directory "${h.path}" (container ${label})`);
      if (o.noOverwriteDirNonDir && existing !== 'directory' && isDir) throw invalidArgument(`cannot overwrite non-directory "${path}" with directory "${h.path}" (container ${label})`);
      if (!(existing === 'directory' && isDir)) yield* settle(tree.remove(path));
    }
    switch (h.type) {
      case 'directory':
        if (existing !== 'directory') yield* settle(tree.mkdir(path));
        this.dirs.push({ path, meta });
        break;
      case 'file':
        if ('bytes' in body) {
          if (!tree.writeBytes) throw internal('extractTarSync needs a file tree with writeBytes');
          tree.writeBytes(path, body.bytes);
        } else {
          yield* settle(tree.writeFile(path, body.stream()));
        }
        yield* settle(tree.setMeta(path, 'file', meta));
        break;
      case 'symlink':
        if (!h.linkname) throw invalidArgument(`symlink "${h.path}" in the archive has no target`);
        yield* settle(tree.symlink(path, h.linkname));
        yield* settle(tree.setMeta(path, 'symlink', meta));
        break;
      case 'hardlink': {
        // Like docker, a hard link names an entry of this archive, relative to the destination.
        const target = cleanEntryPath(h.linkname ?? '');
        if (target === '') throw invalidArgument(`hard link "${h.path}" in the archive has no target`);
        const tslash = target.lastIndexOf('/');
        const tdir = yield* this.resolver.dir(tslash < 0 ? dest : join(dest, parentOf(target)));
        const existingPath = join(tdir, tslash < 0 ? target : target.slice(tslash + 1));
        const t = yield* settle(tree.lstat(existingPath));
        if (t === undefined) throw invalidArgument(`hard link "${h.path}" points to "${h.linkname}", which the archive has not made`);
        if (t === 'directory') throw invalidArgument(`hard link "${h.path}" points to a directory ("${h.linkname}")`);
        yield* settle(tree.link(path, existingPath));
        break;
      }
      case 'fifo':
      case 'char':
      case 'block':
        if (!tree.mknod) throw unsupported(`cannot make the ${h.type === 'fifo' ? 'FIFO' : 'device node'} "${h.path}": this backend's containers cannot hold one`);
        yield* settle(tree.mknod(path, { ...h, ...this.ownerOf(h), mode: h.mode & 0o7777 }));
        break;
      default:
        throw internal(`tar entry "${h.path}" has an unknown type`);
    }
  }

  *end(): Steps<void> {
    yield* settle(this.tree.finish?.());
    for (const d of this.dirs.reverse()) yield* settle(this.tree.setMeta(d.path, 'directory', d.meta));
  }
}

/** Extracts the uncompressed tar `tar` into the directory `dir` of the container behind `tree`. */
export async function extractTar(tree: FileTree, dir: string, tar: ReadableStream<Uint8Array>, o: ExtractOptions = {}): Promise<void> {
  const x = new Extraction(tree, dir, o);
  try {
    await runAsync(x.begin());
  } catch (err) {
    await tar.cancel().catch(() => {});
    throw err;
  }
  for await (const e of readTar(tar)) await runAsync(x.entry(e.header, { stream: () => e.stream() }));
  await runAsync(x.end());
}

/**
 * extractTar over a tar held in memory, synchronously, for a caller that
 * cannot wait (a running WASI container's worker, inside a blocked guest).
 * The tree must answer every call at once and have writeBytes.
 */
export function extractTarSync(tree: FileTree, dir: string, tar: Uint8Array, o: ExtractOptions = {}): void {
  const x = new Extraction(tree, dir, o);
  runSync(x.begin());
  for (const e of readTarBytes(tar)) runSync(x.entry(e.header, { bytes: e.body }));
  runSync(x.end());
}
