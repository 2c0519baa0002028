/**
 * Applies layer tars to a directory: files (streamed), directories, symlinks,
 * hard links, FIFOs, modes, owners and times, and OCI whiteouts, either
 * applied (to flatten layers into one tree) or recorded (for a backend that
 * turns them into overlayfs whiteouts itself). What Node cannot make, device
 * nodes and extended attributes, comes back in the result for the caller to
 * make natively.
 *
 * Security: nothing is written outside the target. Absolute paths, `..` that
 * climbs out, paths through a symlink (of this layer, a lower one, or the
 * target), hard links that leave the tree or reach a symlink pointing out
 * are refused with INVALID_ARGUMENT before anything is written for them. On
 * any error the target may hold part of the layer; callers unpack into a
 * fresh directory and remove it on failure.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { cancelled, invalidArgument } from '../errors/index.js';
import { readTar } from '../layers/tar-reader.js';
import type { TarHeader } from '../layers/tar-types.js';
import { cleanEntryPath, parentOf } from '../layers/paths.js';
import { classifyWhiteout, isWhiteoutMeta } from '../layers/whiteout.js';
import { UnpackTarget, osError, type DirMeta } from './unpack-target.js';
import { decompressLayerNode } from './unpack-decompress.js';

export interface UnpackOptions {
  /**
   * 'apply' (default): a whiteout deletes the lower file and an opaque marker
   * empties its directory, in place. 'record': nothing is deleted; whiteouts
   * and opaque directories are returned for the caller to express natively.
   */
  whiteouts?: 'apply' | 'record';
  /** Set owners from the tar (lchown). Default: when running as root. */
  chown?: boolean;
  /**
   * The layer's media type: the stream is then the blob as stored and is
   * decompressed here with Node's zlib (faster than DecompressionStream).
   * Without it the stream must be an uncompressed tar.
   */
  mediaType?: string;
  signal?: AbortSignal;
}

/** A device node the caller makes (mknod), at `path` below the target. */
export interface DeviceEntry {
  path: string;
  type: 'char' | 'block';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  devmajor: number;
  devminor: number;
}

export interface UnpackResult {
  /** Tar entries read. */
  entries: number;
  /** Regular files written, and their bytes. */
  files: number;
  bytes: number;
  /** 'record' mode: paths (relative) this layer deletes from lower layers. */
  whiteouts: string[];
  /** 'record' mode: directories (relative; '' is the root) whose lower contents this layer hides. */
  opaqueDirs: string[];
  /** Device nodes for the caller to make; nothing is left at their paths. */
  devices: DeviceEntry[];
  /** Extended attributes for the caller to set (Node cannot), by path. */
  xattrs: Array<{ path: string; xattrs: Record<string, Uint8Array> }>;
}

/** Bodies up to this size are read whole, then written with one call. */
const SMALL = 1 << 20;
const EMPTY = new Uint8Array(0);
/**
 * Writes in flight at once, and their bytes. Creating an inode costs far more
 * than reading the tar (tens to hundreds of microseconds on ext4), so files and
 * symlinks at fresh paths are made on the thread pool, a few at a time, while
 * the next entries are parsed and gunzip runs. Kept below the pool's four
 * threads, so gunzip (zlib runs there too) never waits behind file creates;
 * more also made ext4 burn CPU on contended inode allocation.
 */
const WRITES_IN_FLIGHT = 3;
const BYTES_IN_FLIGHT = 64 << 20;
/** Larger files at fresh paths are streamed in order instead of buffered for the pool. */
const POOLED_FILE_MAX = 8 << 20;

/**
 * The writes running on the thread pool. A failure is kept and thrown by the
 * next add or drain, so the loop stops at the first error as before.
 */
class WritePool {
  private readonly inflight = new Set<Promise<void>>();
  private bytes = 0;
  private failed = false;
  private failure: unknown;

  async add(size: number, task: () => Promise<void>): Promise<void> {
    this.check();
    while (this.inflight.size >= WRITES_IN_FLIGHT || (this.inflight.size > 0 && this.bytes + size > BYTES_IN_FLIGHT)) {
      await Promise.race(this.inflight);
      this.check();
    }
    this.bytes += size;
    const p: Promise<void> = task().then(
      () => { this.bytes -= size; this.inflight.delete(p); },
      (err: unknown) => {
        this.bytes -= size;
        this.inflight.delete(p);
        if (!this.failed) { this.failed = true; this.failure = err; }
      },
    );
    this.inflight.add(p);
  }

  /** Waits for every write; throws the first failure. Needed before anything that may replace or remove a path. */
  async drain(): Promise<void> {
    await this.settle();
    this.check();
  }

  /** Waits for every write, failed or not: nothing may touch the target after unpack returns. */
  async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all(this.inflight);
  }

  private check(): void {
    if (this.failed) throw this.failure;
  }
}

type RemoveHook = (rel: string, subtree: boolean) => void;

/** Deletes the records at `rel` (and below it, for a subtree) from a map keyed by path. */
function forget<T>(map: Map<string, T>, rel: string, subtree: boolean): void {
  if (map.size === 0) return;
  map.delete(rel);
  if (!subtree) return;
  const prefix = rel === '' ? '' : `${rel}/`;
  for (const k of map.keys()) if (k.startsWith(prefix)) map.delete(k);
}

function refuse(entry: string, why: string): never {
  throw invalidArgument(`refusing tar entry "${entry}": ${why}; the layer is malformed or hostile, and nothing was written for it`);
}

/** Applies one layer (an uncompressed tar, unless `mediaType` is given) onto `targetDir`. */
export async function unpackLayer(stream: ReadableStream<Uint8Array>, targetDir: string, options: UnpackOptions = {}): Promise<UnpackResult> {
  const target = openTarget(stream, targetDir, options);
  const result = await applyLayer(stream, target, options);
  target.finishDirs();
  return result;
}

function openTarget(stream: ReadableStream<Uint8Array> | undefined, targetDir: string, options: UnpackOptions): UnpackTarget {
  try {
    mkdirSync(targetDir, { recursive: true });
    return new UnpackTarget(realpathSync(targetDir), options.chown ?? process.getuid?.() === 0);
  } catch (err) {
    void stream?.cancel().catch(() => {});
    throw osError('open target directory', targetDir, err);
  }
}

/** One layer onto an open target; directory metadata is left to the caller's finishDirs. */
async function applyLayer(stream: ReadableStream<Uint8Array>, target: UnpackTarget, options: UnpackOptions, lowerHook?: RemoveHook): Promise<UnpackResult> {
  const record = (options.whiteouts ?? 'apply') === 'record';
  const signal = options.signal;
  const devices = new Map<string, DeviceEntry>();
  const xattrs = new Map<string, Record<string, Uint8Array>>();
  target.onRemove = (rel, subtree) => {
    forget(devices, rel, subtree);
    forget(xattrs, rel, subtree);
    lowerHook?.(rel, subtree);
  };
  const result: UnpackResult = { entries: 0, files: 0, bytes: 0, whiteouts: [], opaqueDirs: [], devices: [], xattrs: [] };

  // What this layer wrote, and their ancestors: whiteouts and opaque markers
  // hide lower layers only, wherever they stand in the tar.
  const written = new Set<string>();
  const touched = new Set<string>(['']);
  const mark = (rel: string) => {
    written.add(rel);
    for (let p = parentOf(rel); !touched.has(p); p = parentOf(p)) touched.add(p);
  };
  const removeLower = (rel: string): void => {
    if (!written.has(rel) && !touched.has(rel)) return target.remove(rel);
    if (target.isRealDir(rel)) for (const name of target.children(rel)) removeLower(rel === '' ? name : `${rel}/${name}`);
  };

  const tar = options.mediaType ? decompressLayerNode(stream, options.mediaType) : stream;
  if (signal?.aborted) {
    void tar.cancel().catch(() => {});
    throw cancelled('unpack cancelled', signal.reason);
  }
  const pool = new WritePool();
  try {
    for await (const e of readTar(tar)) {
      if (signal?.aborted) throw cancelled(`unpack cancelled at entry ${result.entries}`, signal.reason);
      result.entries++;
      const h = e.header;
      const entry = h.path;
      if (entry.startsWith('/')) refuse(entry, 'an absolute path in a layer');
      const rel = cleanEntryPath(entry);
      if (isWhiteoutMeta(rel)) continue;

      const wh = rel === '' ? undefined : classifyWhiteout(rel);
      if (wh) await pool.drain(); // removals and checks see the tree as the tar has built it so far
      if (wh?.kind === 'whiteout') {
        if (record) {
          target.ensureParent(wh.target, entry);
          result.whiteouts.push(wh.target);
        } else if (target.parentExists(wh.target, entry)) {
          removeLower(wh.target);
        } else {
          lowerHook?.(wh.target, true); // nothing on disk, but a device record may stand there
        }
        continue;
      }
      if (wh?.kind === 'opaque') {
        if (record) {
          if (wh.dir !== '') target.ensureParent(`${wh.dir}/x`, entry);
          result.opaqueDirs.push(wh.dir);
        } else {
          lowerHook?.(wh.dir, true);
          if (target.parentExists(`${wh.dir}/x`, entry)) for (const name of target.children(wh.dir)) removeLower(wh.dir === '' ? name : `${wh.dir}/${name}`);
        }
        continue;
      }

      const meta: DirMeta = { mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime };
      if (rel === '') {
        if (h.type !== 'directory') refuse(entry, `a ${h.type} cannot replace the target directory itself`);
        target.mkdir('', meta);
        continue;
      }
      // Only fresh paths (nothing there, parent made by us) are written while
      // other writes run; anything that may find, replace or remove something
      // waits until the writes in flight are done, so it sees them.
      if (!target.hasParent(rel)) await pool.drain();
      target.ensureParent(rel, entry);
      const fresh = target.isFresh(rel);
      if (!fresh || (h.type !== 'file' && h.type !== 'symlink' && h.type !== 'directory')) await pool.drain();
      mark(rel);
      switch (h.type) {
        case 'directory':
          target.mkdir(rel, meta);
          break;
        case 'file':
          if (fresh && h.size <= POOLED_FILE_MAX) {
            const parts = h.size > 0 ? await e.parts() : [];
            await pool.add(h.size, () => target.writeNewFile(rel, meta, parts));
          } else {
            await writeFile(target, rel, h, meta, e);
          }
          result.files++;
          result.bytes += h.size;
          break;
        case 'symlink':
          if (!h.linkname) refuse(entry, 'a symlink without a target');
          if (fresh) {
            const to = h.linkname;
            await pool.add(0, () => target.symlinkNew(rel, to, meta));
          } else {
            target.symlink(rel, h.linkname, meta);
          }
          break;
        case 'hardlink': {
          const to = linkTarget(entry, h.linkname);
          const dev = devices.get(to);
          if (dev) {
            target.vacate(rel);
            devices.set(rel, { ...dev, path: rel });
          } else {
            target.link(rel, to, entry);
          }
          break;
        }
        case 'char':
        case 'block':
          target.vacate(rel);
          devices.set(rel, { path: rel, type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime, devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0 });
          break;
        case 'fifo':
          target.fifo(rel, meta);
          break;
      }
      if (h.xattrs && Object.keys(h.xattrs).length) xattrs.set(rel, h.xattrs);
    }
    await pool.drain();
  } finally {
    await pool.settle();
  }
  result.devices = [...devices.values()];
  result.xattrs = [...xattrs].map(([path, x]) => ({ path, xattrs: x }));
  return result;
}

function linkTarget(entry: string, linkname: string | undefined): string {
  if (!linkname) refuse(entry, 'a hard link without a target');
  if (linkname.startsWith('/')) refuse(entry, `its hard link target "${linkname}" is an absolute path`);
  let to: string;
  try {
    to = cleanEntryPath(linkname);
  } catch {
    refuse(entry, `its hard link target "${linkname}" points outside the target directory`);
  }
  if (to === '') refuse(entry, 'it hard-links to the target directory itself');
  return to;
}

async function writeFile(target: UnpackTarget, rel: string, h: TarHeader, meta: DirMeta, e: { bytes(): Promise<Uint8Array>; stream(): ReadableStream<Uint8Array> }): Promise<void> {
  if (h.size <= SMALL) {
    // Read first, then create, write and close in one synchronous run.
    const data = h.size > 0 ? await e.bytes() : EMPTY;
    const fd = target.createFile(rel, h.mode);
    try {
      if (data.length) target.write(fd, rel, data);
      target.finishFile(fd, rel, meta);
    } finally {
      target.close(fd);
    }
    return;
  }
  const fd = target.createFile(rel, h.mode);
  try {
    const reader = e.stream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      target.write(fd, rel, value);
    }
    target.finishFile(fd, rel, meta);
  } finally {
    target.close(fd);
  }
}

/** A layer for unpackLayers: a stream, or a function that opens one when its turn comes. */
export type LayerInput =
  | ReadableStream<Uint8Array>
  | { stream: ReadableStream<Uint8Array> | (() => ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>); mediaType?: string };

/**
 * Flattens a stack of layers (lowest first) into one tree, applying each
 * layer's whiteouts to the ones below. Devices and xattrs in the result are
 * those still standing at the end.
 */
export async function unpackLayers(layers: LayerInput[], targetDir: string, options: Omit<UnpackOptions, 'whiteouts' | 'mediaType'> = {}): Promise<UnpackResult> {
  const devices = new Map<string, DeviceEntry>();
  const xattrs = new Map<string, Record<string, Uint8Array>>();
  const total: UnpackResult = { entries: 0, files: 0, bytes: 0, whiteouts: [], opaqueDirs: [], devices: [], xattrs: [] };
  const hook: RemoveHook = (rel, subtree) => {
    forget(devices, rel, subtree);
    forget(xattrs, rel, subtree);
  };
  // One target for the stack: its knowledge of real directories holds from
  // layer to layer, and directory modes and times are set once at the end
  // (so a read-only directory of one layer does not block the next).
  let target: UnpackTarget | undefined;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const isStream = layer instanceof ReadableStream;
    const src = isStream ? layer : typeof layer.stream === 'function' ? await layer.stream() : layer.stream;
    const mediaType = isStream ? undefined : layer.mediaType;
    let r: UnpackResult;
    try {
      target ??= openTarget(src, targetDir, options);
      r = await applyLayer(src, target, { ...options, whiteouts: 'apply', ...(mediaType ? { mediaType } : {}) }, hook);
    } catch (err) {
      for (const rest of layers.slice(i + 1)) if (rest instanceof ReadableStream) void rest.cancel().catch(() => {});
      throw err;
    }
    total.entries += r.entries;
    total.files += r.files;
    total.bytes += r.bytes;
    for (const d of r.devices) devices.set(d.path, d);
    for (const x of r.xattrs) xattrs.set(x.path, x.xattrs);
  }
  (target ?? openTarget(undefined, targetDir, options)).finishDirs();
  total.devices = [...devices.values()];
  total.xattrs = [...xattrs].map(([path, x]) => ({ path, xattrs: x }));
  return total;
}
