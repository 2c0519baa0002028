/**
 * Unpacked layers, one directory per diffID under <stateDir>/layers, shared by
 * every container and kept for reuse. A layer is unpacked once (in this
 * process: one promise per diffID; across processes: unpack into a temporary
 * directory, rename into place, the loser discards its copy) and verified
 * against its diffID while it streams.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LayerRef, Provider } from '@skiff/sdk';
import { autoDecompress, dataLoss, digestHex, MediaType, SkiffError } from '@skiff/sdk';
import { hashingStream } from './hash.js';
import { decompressLayerNode, unpackLayer as unpackTar } from '@skiff/sdk/node';
import { SpecialFiles } from './special.js';

const TMP_PREFIX = '.tmp-';

export class LayerStore {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(readonly dir: string, private readonly helper: () => string) {
    mkdirSync(dir, { recursive: true });
  }

  /** The directory name of a layer, relative to `dir`. */
  nameOf(diffId: string): string {
    return digestHex(diffId);
  }

  has(diffId: string): boolean {
    return existsSync(join(this.dir, this.nameOf(diffId)));
  }

  /** Unpacks every layer not yet here, side by side; returns their directory names, bottom first. */
  ensureAll(layers: LayerRef[], content: Provider): Promise<string[]> {
    return Promise.all(layers.map((l) => this.ensure(l, content)));
  }

  ensure(layer: LayerRef, content: Provider): Promise<string> {
    const name = this.nameOf(layer.diffId);
    if (existsSync(join(this.dir, name))) return Promise.resolve(name);
    let p = this.inflight.get(name);
    if (!p) {
      p = this.unpack(layer, content, name).finally(() => this.inflight.delete(name));
      this.inflight.set(name, p);
    }
    return p;
  }

  private async unpack(layer: LayerRef, content: Provider, name: string): Promise<string> {
    const final = join(this.dir, name);
    const tmp = join(this.dir, `${TMP_PREFIX}${name.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(tmp, 0o755);
    try {
      const tar = await decompressed(content.readStream(layer.descriptor.digest));
      const hashed = hashingStream(tar);
      await unpackForOverlay(hashed.stream, tmp, this.helper());
      const got = await hashed.digest();
      if (got !== layer.diffId) throw dataLoss(`layer ${layer.descriptor.digest} unpacks to ${got}, not its diff_id ${layer.diffId}; the image is corrupt`);
      try {
        renameSync(tmp, final);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        rmSync(tmp, { recursive: true, force: true }); // another process unpacked it first
      }
      return name;
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      if (err instanceof SkiffError) throw err;
      if (String((err as NodeJS.ErrnoException).code ?? '').startsWith('Z_')) throw dataLoss(`layer ${layer.descriptor.digest} is not valid gzip (${(err as Error).message}); the image is corrupt`, err);
      throw new SkiffError('INTERNAL', `unpack layer ${layer.diffId}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Removes unpacked layers not in `keep` (directory names), and temporaries of dead processes. */
  prune(keep: Set<string>): string[] {
    const removed: string[] = [];
    for (const e of readdirSync(this.dir)) {
      if (e.startsWith(TMP_PREFIX)) {
        const pid = Number(e.split('-')[2]);
        if (pid && isAlive(pid)) continue;
      } else if (keep.has(e) || e === 'empty') continue;
      rmSync(join(this.dir, e), { recursive: true, force: true });
      removed.push(e);
    }
    return removed;
  }

  /** A shared empty lower dir for images without layers (overlayfs needs one). */
  emptyLayer(): string {
    mkdirSync(join(this.dir, 'empty'), { recursive: true });
    return 'empty';
  }
}

/** Extended attributes an image may not set: overlay's own metadata and LSM labels. */
const refusedXattr = (name: string) => name.startsWith('trusted.') || name === 'security.selinux';

/**
 * One layer tar into a directory overlayfs can stack: the sdk's unpacker
 * writes files, links and FIFOs and records whiteouts, opaque directories,
 * devices and xattrs, which the helper then makes natively (overlay
 * whiteouts are char 0/0 devices, opaque directories an xattr).
 */
export async function unpackForOverlay(tar: ReadableStream<Uint8Array>, dir: string, helper: string): Promise<void> {
  const r = await unpackTar(tar, dir, { whiteouts: 'record' });
  const special = new SpecialFiles();
  for (const w of r.whiteouts) special.whiteout(w);
  for (const d of r.opaqueDirs) if (d !== '') special.opaque(d);
  for (const d of r.devices) special.device(d.type === 'char' ? 'c' : 'b', d.path, d.mode, d.devmajor, d.devminor, d.uid, d.gid);
  for (const x of r.xattrs) for (const [name, value] of Object.entries(x.xattrs)) if (!refusedXattr(name)) special.xattr(x.path, name, value);
  await special.apply(helper, dir);
}

/** The uncompressed tar: gzip through Node's zlib (on the thread pool, less overhead than DecompressionStream), anything else by sniffing. */
async function decompressed(blob: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = blob.getReader();
  const first = await reader.read();
  const head = first.done ? new Uint8Array() : first.value;
  const rest = new ReadableStream<Uint8Array>({
    start(c) {
      if (head.length) c.enqueue(head);
      if (first.done) c.close();
    },
    async pull(c) {
      const x = await reader.read();
      if (x.done) c.close();
      else c.enqueue(x.value);
    },
    cancel: (why) => reader.cancel(why),
  });
  if (head[0] !== 0x1f || head[1] !== 0x8b) return autoDecompress(rest);
  // 256 KiB out-chunks handed on without a copy (see decompressLayerNode).
  return decompressLayerNode(rest, MediaType.OciLayerGzip);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
