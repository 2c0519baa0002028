/**
 * A container's file system: its layered root plus its mounts, as the
 * preopened directory fds a WASI guest gets (`/` first, then one per
 * directory mount, as wasmtime's --dir gives; each mount is also visible at
 * its path from `/`).
 *
 * Making one copies and walks nothing: the root's node is made from the layer
 * roots, and /tmp and /dev/null (which every container has; made by skiff
 * when the image lacks them, and never exported) cost a lookup each.
 */
import { extractTar, extractTarSync, invalidArgument, tarBytes, unsupported, type ExtractOptions, type FsLike, type Mount } from '@skiff/sdk';
import type { Fd } from '@bjorn3/browser_wasi_shim';
import { DirFd } from './dir-fd.js';
import { collectChanges, exportChanges } from './export.js';
import { NodeTree } from './import.js';
import { HostDir, HostFile, HostVolume, hostErrno } from './host.js';
import type { LayerIndex } from './layer-index.js';
import { LayeredVolume, MDevice, MDir, MFile } from './layered.js';
import { DirNode, Errno, Filetype, type FsContext, type FsNode } from './node.js';
import { resolve } from './resolve.js';

export interface ContainerFsSpec {
  /** The image's layers, bottom first. */
  layers: LayerIndex[];
  mounts?: Mount[];
  /** `--read-only`: the root (and /tmp) refuse writes with EROFS; mounts keep their own mode. */
  readOnly?: boolean;
  /** node:fs for bind mounts and host-path volumes (Node only). */
  hostFs?: FsLike;
  /** The clock for timestamps, ns since the epoch (a fixed one for deterministic runs). */
  now?: () => bigint;
}

export interface FsPreopen {
  /** The guest-visible path: `/`, `/data`. */
  name: string;
  fd: DirFd;
}

let lastMs = -1;
let lastNs = 0n;
/**
 * Wall-clock ns for file times, to the millisecond: Linux stamps files from a
 * coarse clock too (a jiffy), and this keeps a clock read off the hot path.
 */
export function wallClockNs(): bigint {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastNs = BigInt(ms) * 1_000_000n;
  }
  return lastNs;
}

export class ContainerFileSystem {
  readonly ctx: FsContext;
  readonly rootVolume: LayeredVolume;
  readonly preopens: FsPreopen[] = [];
  private readonly hostVolumes: HostVolume[] = [];
  private nextDev = 2n;
  private readonly spec: ContainerFsSpec;

  constructor(spec: ContainerFsSpec) {
    this.spec = spec;
    this.ctx = { root: null, now: spec.now ?? wallClockNs };
    this.rootVolume = new LayeredVolume(this.ctx, 1n, spec.layers, spec.readOnly ?? false);
    const root = this.rootVolume.root;
    this.ctx.root = root;
    this.addStandardNodes(root);
    this.preopens.push({ name: '/', fd: new DirFd(root, '/') });
    // Parents first (a mount inside another needs the outer one), preopens in the spec's order.
    const mounts = (spec.mounts ?? []).map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.target) - depth(b.m.target));
    const preopens: Array<FsPreopen | undefined> = [];
    try {
      for (const { m, i } of mounts) preopens[i] = this.mount(m, spec.hostFs);
      for (const p of preopens) if (p) this.preopens.push(p);
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** The root directory's fd. */
  get root(): DirFd {
    return this.preopens[0]!.fd;
  }

  /** The preopens as the shim's WASI class takes them, after stdin, stdout and stderr. */
  get fds(): Fd[] {
    return this.preopens.map((p) => p.fd);
  }

  exportChanges(): ReadableStream<Uint8Array> {
    return exportChanges(this.rootVolume);
  }

  /**
   * Extracts a tar into the directory `dir` (docker cp into the container):
   * through the guest's own tree, so writes go to the upper layer or a mount.
   */
  importFiles(dir: string, tar: ReadableStream<Uint8Array>, options: Pick<ExtractOptions, 'noOverwriteDirNonDir' | 'owner' | 'container'> = {}): Promise<void> {
    return extractTar(new NodeTree(this.rootVolume.root), dir, tar, this.extractOptions(options));
  }

  /** importFiles from bytes, synchronously (a worker serving a copy inside a blocked guest). */
  importFilesNow(dir: string, tar: Uint8Array, options: Pick<ExtractOptions, 'noOverwriteDirNonDir' | 'owner' | 'container'> = {}): void {
    extractTarSync(new NodeTree(this.rootVolume.root), dir, tar, this.extractOptions(options));
  }

  private extractOptions(options: Pick<ExtractOptions, 'noOverwriteDirNonDir' | 'owner' | 'container'>): ExtractOptions {
    return {
      ...options,
      mounts: (this.spec.mounts ?? []).map((m) => ({ target: cleanTarget(m.target), readOnly: m.readOnly })),
      readOnlyRoot: this.spec.readOnly ?? false,
    };
  }

  /** exportChanges as one buffer, synchronously. */
  exportChangesNow(): Uint8Array {
    return tarBytes(collectChanges(this.rootVolume));
  }

  /**
   * A cache key for compiled code: the layer's file object when the file is
   * still the layer's, unchanged (shared by every container of every image
   * with the layer); undefined otherwise.
   */
  moduleKey(file: { inode: unknown }): object | undefined {
    const n = file.inode;
    return n instanceof MFile && n.pristine ? n.lower : undefined;
  }

  /** Closes host descriptors the guest left open. */
  dispose(): void {
    for (const v of this.hostVolumes) v.dispose();
  }

  private addStandardNodes(root: MDir): void {
    if (!root.lookupLayered('tmp')) {
      const tmp = new MDir(this.rootVolume, root, [], []);
      tmp.mode = 0o1777;
      root.putSynthetic('tmp', tmp);
    }
    let dev = root.lookupLayered('dev');
    if (!dev) {
      dev = new MDir(this.rootVolume, root, [], []);
      root.putSynthetic('dev', dev as MDir);
    }
    if (dev instanceof MDir) {
      const nul = new MDevice(this.rootVolume, 'char', 1, 3);
      nul.mode = 0o666;
      dev.putSynthetic('null', nul);
    }
  }

  private mount(m: Mount, hostFs: FsLike | undefined): FsPreopen | undefined {
    const target = cleanTarget(m.target);
    const parts = target.split('/').filter(Boolean);
    if (!parts.length) throw invalidArgument(`invalid mount target "${m.target}": cannot mount over the container's root`);
    let dir: DirNode = this.rootVolume.root;
    for (const part of parts.slice(0, -1)) dir = this.mountParent(dir, part, m.target);
    let name = parts[parts.length - 1]!;
    // A symlink at the target is followed inside the container, as Docker does.
    const at = resolve(dir, name, true, this.rootVolume.root);
    if (typeof at !== 'number' && at.name !== null && at.node?.filetype !== Filetype.SYMBOLIC_LINK) {
      dir = at.dir;
      name = at.name;
    }
    const node = this.mountNode(m, dir, hostFs);
    if (dir instanceof MDir) dir.addMount(name, node);
    else if (dir instanceof HostDir) {
      let names = dir.vol.mountPoints.get(dir.path);
      if (!names) dir.vol.mountPoints.set(dir.path, (names = new Map()));
      names.set(name, node);
    } else throw invalidArgument(`cannot mount on "${m.target}": its parent is not a directory`);
    return node instanceof DirNode ? { name: target, fd: new DirFd(node, target) } : undefined;
  }

  /** The directory `name` in `dir` for a mount below it, made (by skiff, not exported) when missing. */
  private mountParent(dir: DirNode, name: string, target: string): DirNode {
    let r = resolve(dir, name, true, this.rootVolume.root);
    if (typeof r !== 'number' && r.node === null && r.name !== null) {
      const parent = r.dir;
      if (parent instanceof MDir) {
        const made = new MDir(parent.vol, parent, [], []);
        parent.putSynthetic(r.name!, made);
      } else {
        const ret = parent.createDir(r.name!);
        if (ret !== Errno.SUCCESS) throw invalidArgument(`cannot make the mount point "${target}" (WASI errno ${ret})`);
      }
      r = resolve(dir, name, true, this.rootVolume.root);
    }
    if (typeof r === 'number' || !(r.node instanceof DirNode)) throw invalidArgument(`cannot mount on "${target}": a path component is not a directory`);
    return r.node;
  }

  private mountNode(m: Mount, parent: DirNode, hostFs: FsLike | undefined): FsNode {
    const dev = this.nextDev++;
    if (m.type === 'tmpfs') {
      const vol = new LayeredVolume(this.ctx, dev, [], m.readOnly, false);
      vol.root.mode = 0o1777;
      vol.root.parent = parent;
      return vol.root;
    }
    let fs: FsLike | undefined;
    let source: string | undefined;
    if (m.type === 'bind') {
      fs = hostFs;
      source = m.source;
      if (!fs) throw unsupported(`bind mount of "${m.source}": this runtime has no host file system (bind mounts need Node)`);
    } else {
      fs = m.volume.fs ?? hostFs;
      source = m.volume.fs ? m.volume.fsRoot ?? '/' : m.volume.hostPath;
      if (!fs || !source) throw invalidArgument(`volume "${m.volume.name}" has neither an in-memory file system nor a host path this runtime can use`);
    }
    let real: string;
    let isDir: boolean;
    try {
      real = String(fs.realpathSync(source));
      isDir = fs.statSync(real).isDirectory();
    } catch (err) {
      throw invalidArgument(`mount source "${source}" for "${m.target}": ${errnoText(hostErrno(err))}`, err);
    }
    if (isDir) {
      const vol = new HostVolume(this.ctx, dev, fs, real, m.readOnly);
      this.hostVolumes.push(vol);
      return new HostDir(vol, real, [], parent, BigInt(fs.statSync(real).ino));
    }
    // A file bound onto a path: its directory is the volume's root, out of the guest's reach.
    const slash = real.lastIndexOf('/');
    const vol = new HostVolume(this.ctx, dev, fs, real.slice(0, slash) || '/', m.readOnly);
    this.hostVolumes.push(vol);
    const holder = new HostDir(vol, vol.rootPath === '/' ? '' : vol.rootPath, [], null, 0n);
    return new HostFile(vol, holder, real.slice(slash + 1), BigInt(fs.statSync(real).ino));
  }
}

function errnoText(e: number): string {
  return e === Errno.NOENT ? 'no such file or directory' : e === Errno.ACCES ? 'permission denied' : `WASI errno ${e}`;
}

function depth(target: string): number {
  return cleanTarget(target).split('/').filter(Boolean).length;
}

/** An absolute container path, cleaned (`..` stops at `/`). */
function cleanTarget(target: string): string {
  if (!target.startsWith('/')) throw invalidArgument(`invalid mount target "${target}": it must be an absolute path`);
  const out: string[] = [];
  for (const p of target.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return `/${out.join('/')}`;
}

export function createContainerFs(spec: ContainerFsSpec): ContainerFileSystem {
  return new ContainerFileSystem(spec);
}
