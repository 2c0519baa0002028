/**
 * The image store on disk, which IS an OCI image layout (oci-layout,
 * index.json, blobs/sha256/...), so skopeo, umoci and oras read it as it is.
 *
 * Writes are atomic: a blob is written to `ingest/`, verified, fsynced and
 * renamed into `blobs/`, so a crash never leaves a partial blob under its
 * digest. index.json is rewritten atomically under a lock that works across
 * processes (the CLI and a daemon may share a store).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, openSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { dataLoss, failedPrecondition, notFound, cancelled, invalidArgument } from '../errors/index.js';
import { assertDigest, digestHex } from '../image/digest.js';
import { REF_NAME_ANNOTATION, type Descriptor, type ImageIndex } from '../image/types.js';
import { MediaType } from '../image/media-types.js';
import type { BlobInfo, Expected, ImageLayout } from '../content/types.js';
import { checkExpected } from '../content/util.js';
import { writeFileAtomicSync } from './atomic.js';
import { withLock } from './lock.js';

export class FsImageLayout implements ImageLayout {
  private constructor(readonly dir: string) {}

  /** Opens (creating when absent) the layout at `dir`. */
  static async open(dir: string, options: { create?: boolean } = {}): Promise<FsImageLayout> {
    const layoutFile = join(dir, 'oci-layout');
    if (!existsSync(layoutFile)) {
      if (options.create === false) throw notFound(`${dir} is not an OCI image layout (no oci-layout file)`);
      if (existsSync(dir) && readdirSync(dir).some((f) => !['ingest', 'blobs', 'index.json'].includes(f))) {
        throw failedPrecondition(`${dir} exists and is not an OCI image layout; refusing to write into it (choose an empty directory or another --root)`);
      }
      mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
      if (!existsSync(join(dir, 'index.json'))) writeFileAtomicSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }));
      writeFileAtomicSync(layoutFile, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    } else {
      let v: { imageLayoutVersion?: string };
      try {
        v = JSON.parse(readFileSync(layoutFile, 'utf8')) as typeof v;
      } catch (err) {
        throw dataLoss(`${layoutFile} is not valid JSON`, err);
      }
      if (!v.imageLayoutVersion?.startsWith('1.')) throw failedPrecondition(`${dir}: unsupported OCI layout version ${v.imageLayoutVersion}`);
      mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    }
    const layout = new FsImageLayout(dir);
    layout.cleanStaleIngests();
    return layout;
  }

  private blobPath(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', digestHex(digest));
  }

  private get ingestDir(): string {
    return join(this.dir, 'ingest');
  }

  private cleanStaleIngests(): void {
    if (!existsSync(this.ingestDir)) return;
    const hour = Date.now() - 3600_000;
    for (const f of readdirSync(this.ingestDir)) {
      const p = join(this.ingestDir, f);
      const pid = Number(f.split('.')[0]);
      // Remove temp files of processes that are gone, or that are very old.
      if (!isAlive(pid) || statSync(p).mtimeMs < hour) rmSync(p, { force: true });
    }
  }

  async info(digest: string): Promise<BlobInfo | undefined> {
    try {
      const st = statSync(this.blobPath(digest));
      return { digest, size: st.size };
    } catch {
      return undefined;
    }
  }

  async readBytes(digest: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(readFileSync(this.blobPath(digest)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`blob ${digest} is not in the store ${this.dir}`);
      throw err;
    }
  }

  readStream(digest: string): ReadableStream<Uint8Array> {
    const p = this.blobPath(digest);
    if (!existsSync(p)) {
      return new ReadableStream({ start: (c) => c.error(notFound(`blob ${digest} is not in the store ${this.dir}`)) });
    }
    return Readable.toWeb(createReadStream(p, { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>;
  }

  private tempPath(): string {
    mkdirSync(this.ingestDir, { recursive: true });
    return join(this.ingestDir, `${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}`);
  }

  private commit(tmp: string, digest: string): void {
    const dest = this.blobPath(digest);
    if (existsSync(dest)) {
      rmSync(tmp, { force: true });
      return;
    }
    renameSync(tmp, dest);
    fsyncDir(join(this.dir, 'blobs', 'sha256'));
  }

  async writeBytes(data: Uint8Array, expected: Expected = {}): Promise<BlobInfo> {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    checkExpected({ digest, size: data.length }, expected);
    if (await this.info(digest)) return { digest, size: data.length };
    const tmp = this.tempPath();
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.commit(tmp, digest);
    return { digest, size: data.length };
  }

  async writeStream(stream: ReadableStream<Uint8Array>, expected: Expected = {}, options: { signal?: AbortSignal } = {}): Promise<BlobInfo> {
    if (expected.digest) {
      assertDigest(expected.digest);
      const have = await this.info(expected.digest);
      if (have && (expected.size === undefined || have.size === expected.size)) {
        await stream.cancel().catch(() => {});
        return have;
      }
    }
    const tmp = this.tempPath();
    const fh = await openAsync(tmp, 'w', 0o644);
    const hash = createHash('sha256');
    let size = 0;
    const reader = stream.getReader();
    const onAbort = () => void reader.cancel(options.signal?.reason).catch(() => {});
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (options.signal?.aborted) throw cancelled('the write was cancelled; nothing was stored');
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (expected.size !== undefined && size > expected.size) throw dataLoss(`blob ${expected.digest ?? ''}: more than the expected ${expected.size} bytes arrived; refusing corrupt content`);
        hash.update(value);
        await fh.write(value);
      }
      if (options.signal?.aborted) throw cancelled('the write was cancelled; nothing was stored');
      await fh.sync();
      await fh.close();
      const digest = `sha256:${hash.digest('hex')}`;
      checkExpected({ digest, size }, expected);
      this.commit(tmp, digest);
      return { digest, size };
    } catch (err) {
      await fh.close().catch(() => {});
      rmSync(tmp, { force: true });
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async delete(digest: string): Promise<void> {
    rmSync(this.blobPath(digest), { force: true });
  }

  async *list(): AsyncIterable<BlobInfo> {
    const dir = join(this.dir, 'blobs', 'sha256');
    for (const f of readdirSync(dir)) {
      if (!/^[a-f0-9]{64}$/.test(f)) continue;
      yield { digest: `sha256:${f}`, size: statSync(join(dir, f)).size };
    }
  }

  // ---- refs: index.json ----------------------------------------------------

  private readIndex(): ImageIndex {
    const p = join(this.dir, 'index.json');
    try {
      const idx = JSON.parse(readFileSync(p, 'utf8')) as ImageIndex;
      if (!Array.isArray(idx.manifests)) throw new Error('manifests is not an array');
      return idx;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
      throw dataLoss(`${p} is corrupt: ${(err as Error).message}; fix or remove it`, err);
    }
  }

  private async updateIndex(fn: (m: Descriptor[]) => Descriptor[]): Promise<void> {
    await withLock(join(this.dir, 'index.json.lock'), () => {
      const idx = this.readIndex();
      idx.manifests = fn(idx.manifests);
      writeFileAtomicSync(join(this.dir, 'index.json'), JSON.stringify(idx));
    });
  }

  async listRefs(): Promise<Array<{ name: string; target: Descriptor }>> {
    return this.readIndex().manifests.flatMap((d) => {
      const name = d.annotations?.[REF_NAME_ANNOTATION];
      return name ? [{ name, target: d }] : [];
    });
  }

  async getRef(name: string): Promise<Descriptor | undefined> {
    return this.readIndex().manifests.find((d) => d.annotations?.[REF_NAME_ANNOTATION] === name);
  }

  async setRef(name: string, target: Descriptor): Promise<void> {
    if (!name) throw invalidArgument('an image name is required');
    const d: Descriptor = { ...target, annotations: { ...(target.annotations ?? {}), [REF_NAME_ANNOTATION]: name } };
    await this.updateIndex((m) => [...m.filter((x) => x.annotations?.[REF_NAME_ANNOTATION] !== name), d]);
  }

  async deleteRef(name: string): Promise<boolean> {
    let found = false;
    await this.updateIndex((m) => m.filter((x) => {
      const hit = x.annotations?.[REF_NAME_ANNOTATION] === name;
      if (hit) found = true;
      return !hit;
    }));
    return found;
  }

  /** Checks every blob's hash and that every ref's blobs are present. */
  async verify(): Promise<string[]> {
    const problems: string[] = [];
    for await (const b of this.list()) {
      const h = createHash('sha256').update(readFileSync(this.blobPath(b.digest))).digest('hex');
      if (`sha256:${h}` !== b.digest) problems.push(`blob ${b.digest} has content ${h}`);
    }
    for (const r of await this.listRefs()) {
      if (!(await this.info(r.target.digest))) problems.push(`ref ${r.name} points at missing ${r.target.digest}`);
    }
    return problems;
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    fsyncSync(fd);
    closeSync(fd);
  } catch {
    // not supported here; the rename is atomic regardless
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

