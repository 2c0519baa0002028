/**
 * The image store on disk, which IS an OCI image layout (`oci-layout`,
 * `index.json`, `blobs/sha256/<hex>`), so skopeo, umoci and oras read it as it is.
 *
 * Writes are atomic: a blob is streamed into `ingest/` (outside `blobs/`, so no
 * tool ever sees a partial file), hashed (a large blob on a worker thread:
 * blob-sink-worker.ts) and counted as it arrives, fsynced,
 * renamed into `blobs/sha256/` and the directory fsynced. Content that does not
 * match what was expected never gets a name. index.json is rewritten the same
 * way under a lock that also works across processes (the CLI and a daemon may
 * share a store). Entries of index.json that skiff did not write (no ref-name
 * annotation, other annotations) are kept as they are.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { open as openAsync, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { cancelled, dataLoss, failedPrecondition, invalidArgument, notFound, unavailable } from '../errors/index.js';
import { assertDigest, digestHex } from '../image/digest.js';
import { MediaType, isIndexMediaType, isManifestMediaType } from '../image/media-types.js';
import { REF_NAME_ANNOTATION, type Descriptor, type ImageIndex, type ImageManifest } from '../image/types.js';
import type { BlobInfo, Expected, ImageLayout } from '../content/types.js';
import { checkExpected } from '../content/util.js';
import { writeFileAtomicSync } from './atomic.js';
import { errno } from './errno.js';
import { InlineSink, type BlobSink } from './blob-sink.js';
import { WorkerSink } from './blob-sink-worker.js';
import { ownChunksToWeb } from './own-chunks.js';
import { processAlive, withLock } from './lock.js';

/** Files and folders a layout (or a layout we were creating when we crashed) may hold. */
const LAYOUT_ENTRIES = new Set(['oci-layout', 'index.json', 'blobs', 'ingest', 'index.json.lock', 'index.json.lock.break']);
/** Leftovers of writeFileAtomicSync: `.<name>.<pid>.<random>.tmp`. */
const ROOT_TEMP = /^\.(?:index\.json|oci-layout)\.(\d+)\.[a-z0-9]+\.tmp$/;
const STALE_INGEST_MS = 24 * 3600_000;
/** Blobs of known size below this are hashed on the calling thread: not worth a trip to the worker (or starting it). */
const OFF_THREAD_MIN = 1 << 20;

/** fsyncDir off the event loop, so other downloads go on while the disk flushes. */
async function fsyncDirAsync(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await openAsync(dir, 'r');
    await fh.sync();
  } catch {
    // As in fsyncDir: the rename is atomic regardless.
  } finally {
    await fh?.close().catch(() => {});
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is atomic regardless.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface VerifyOptions {
  /** Re-hash every blob (the default); false checks only names, sizes and reachability. */
  hashes?: boolean;
}

export class FsImageLayout implements ImageLayout {
  private constructor(readonly dir: string) {}

  /**
   * Opens the layout at `dir`, creating it when `dir` is absent or empty.
   * A directory that holds something else is refused: skiff never writes
   * into a directory it does not recognise as its own kind.
   */
  static async open(dir: string, options: { create?: boolean } = {}): Promise<FsImageLayout> {
    let st;
    try {
      st = statSync(dir);
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw unavailable(`stat ${dir}: ${errno(err)}`, err);
    }
    if (st && !st.isDirectory()) throw failedPrecondition(`${dir} is a file, not an OCI image layout directory`);
    const layoutFile = join(dir, 'oci-layout');
    const hasLayoutFile = st !== undefined && exists(layoutFile);
    if (hasLayoutFile) {
      checkLayoutFile(layoutFile);
      checkIndexFile(join(dir, 'index.json'));
    } else {
      if (options.create === false) throw notFound(`${dir} is not an OCI image layout (it has no oci-layout file)`);
      const foreign = st ? readdirSync(dir).filter((f) => !LAYOUT_ENTRIES.has(f) && !ROOT_TEMP.test(f)) : [];
      if (foreign.length > 0) {
        throw failedPrecondition(`${dir} is not empty and is not an OCI image layout (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); refusing to write into it: choose an empty or new directory`);
      }
      // oci-layout is written last: a layout is complete once it exists.
      mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
      if (!exists(join(dir, 'index.json'))) writeFileAtomicSync(join(dir, 'index.json'), emptyIndexJson());
      else checkIndexFile(join(dir, 'index.json'));
      writeFileAtomicSync(layoutFile, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    }
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    const layout = new FsImageLayout(dir);
    layout.sweepTemporaries();
    return layout;
  }

  private blobPath(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', digestHex(digest));
  }

  private get blobDir(): string {
    return join(this.dir, 'blobs', 'sha256');
  }

  private get ingestDir(): string {
    return join(this.dir, 'ingest');
  }

  /** Removes temp files left by processes that are gone (a crash mid-write). */
  private sweepTemporaries(): void {
    const old = Date.now() - STALE_INGEST_MS;
    if (exists(this.ingestDir)) {
      for (const f of readdirSync(this.ingestDir)) {
        const p = join(this.ingestDir, f);
        try {
          if (!processAlive(Number(f.split('.')[0])) || statSync(p).mtimeMs < old) rmSync(p, { force: true, recursive: true });
        } catch {
          // raced with its owner finishing
        }
      }
    }
    for (const f of readdirSync(this.dir)) {
      const m = ROOT_TEMP.exec(f);
      if (m && !processAlive(Number(m[1]))) rmSync(join(this.dir, f), { force: true });
    }
  }

  async info(digest: string): Promise<BlobInfo | undefined> {
    try {
      const st = statSync(this.blobPath(digest));
      return { digest, size: st.size };
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw unavailable(`stat ${this.blobPath(digest)}: ${errno(err)}`, err);
    }
  }

  async readBytes(digest: string): Promise<Uint8Array> {
    const p = this.blobPath(digest);
    try {
      return new Uint8Array(readFileSync(p));
    } catch (err) {
      if (errno(err) === 'ENOENT') throw notFound(`blob ${digest} is not in the store ${this.dir}`);
      throw unavailable(`read ${p}: ${errno(err)}`, err);
    }
  }

  readStream(digest: string): ReadableStream<Uint8Array> {
    const p = this.blobPath(digest);
    if (!exists(p)) {
      return new ReadableStream({ start: (c) => c.error(notFound(`blob ${digest} is not in the store ${this.dir}`)) });
    }
    return ownChunksToWeb(createReadStream(p, { highWaterMark: 1 << 20 }), 1);
  }

  private tempPath(): string {
    mkdirSync(this.ingestDir, { recursive: true });
    return join(this.ingestDir, `${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}`);
  }

  /** Moves a verified, fsynced temp file to its digest; false when the blob was there already. The caller fsyncs the directory. */
  private commit(tmp: string, digest: string): boolean {
    const dest = this.blobPath(digest);
    if (exists(dest)) {
      rmSync(tmp, { force: true });
      return false;
    }
    try {
      renameSync(tmp, dest);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw unavailable(`rename ${tmp} to ${dest}: ${errno(err)}`, err);
    }
    return true;
  }

  async writeBytes(data: Uint8Array, expected: Expected = {}): Promise<BlobInfo> {
    if (expected.digest) assertDigest(expected.digest);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    checkExpected({ digest, size: data.length }, expected);
    if (await this.info(digest)) return { digest, size: data.length };
    const tmp = this.tempPath();
    try {
      const fd = openSync(tmp, 'w', 0o644);
      try {
        writeSync(fd, data);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      rmSync(tmp, { force: true });
      throw unavailable(`write ${tmp}: ${errno(err)}`, err);
    }
    if (this.commit(tmp, digest)) fsyncDir(this.blobDir);
    return { digest, size: data.length };
  }

  async writeStream(stream: ReadableStream<Uint8Array>, expected: Expected = {}, options: { signal?: AbortSignal } = {}): Promise<BlobInfo> {
    const { signal } = options;
    if (expected.digest) {
      assertDigest(expected.digest);
      const have = await this.info(expected.digest);
      if (have && (expected.size === undefined || have.size === expected.size)) {
        await stream.cancel().catch(() => {});
        return have;
      }
    }
    const stopped = () => cancelled('the write was cancelled; nothing was stored', signal?.reason);
    if (signal?.aborted) {
      await stream.cancel(signal.reason).catch(() => {});
      throw stopped();
    }
    const tmp = this.tempPath();
    let sink: BlobSink;
    try {
      sink = expected.size !== undefined && expected.size < OFF_THREAD_MIN ? await InlineSink.create(tmp) : await WorkerSink.create(tmp);
    } catch (err) {
      await stream.cancel(err).catch(() => {});
      throw err;
    }
    let size = 0;
    const reader = stream.getReader();
    const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) throw stopped(); // while the file was being created
      for (;;) {
        const { done, value } = await reader.read();
        if (signal?.aborted) throw stopped();
        if (done) break;
        size += value.length;
        if (expected.size !== undefined && size > expected.size) {
          throw dataLoss(`blob ${expected.digest ?? ''}: more than the expected ${expected.size} bytes arrived; refusing corrupt content`);
        }
        const wait = sink.write(value);
        // Back-pressure: a slow disk stops the download instead of filling memory.
        if (wait) await wait;
      }
      const digest = `sha256:${await sink.finish()}`;
      checkExpected({ digest, size }, expected);
      if (this.commit(tmp, digest)) await fsyncDirAsync(this.blobDir);
      return { digest, size };
    } catch (err) {
      await sink.abort();
      rmSync(tmp, { force: true });
      await reader.cancel(err).catch(() => {});
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async delete(digest: string): Promise<void> {
    rmSync(this.blobPath(digest), { force: true });
  }

  async *list(): AsyncIterable<BlobInfo> {
    for (const f of readdirSync(this.blobDir)) {
      if (!/^[a-f0-9]{64}$/.test(f)) continue;
      try {
        yield { digest: `sha256:${f}`, size: statSync(join(this.blobDir, f)).size };
      } catch {
        // deleted while listing
      }
    }
  }

  // ---- refs: index.json ----------------------------------------------------

  private get indexPath(): string {
    return join(this.dir, 'index.json');
  }

  private readIndex(): ImageIndex {
    return parseIndexFile(this.indexPath);
  }

  /** Read-modify-write of index.json under the cross-process lock. */
  private async updateIndex(fn: (m: Descriptor[]) => Descriptor[]): Promise<void> {
    await withLock(join(this.dir, 'index.json.lock'), () => {
      const idx = this.readIndex();
      idx.manifests = fn(idx.manifests);
      writeFileAtomicSync(this.indexPath, JSON.stringify(idx));
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
    assertDigest(target.digest);
    const d: Descriptor = { ...target, annotations: { ...(target.annotations ?? {}), [REF_NAME_ANNOTATION]: name } };
    // Replaced in place, so index.json keeps its order; a new name goes last.
    await this.updateIndex((m) => {
      let placed = false;
      const out: Descriptor[] = [];
      for (const x of m) {
        if (x.annotations?.[REF_NAME_ANNOTATION] !== name) out.push(x);
        else if (!placed) { out.push(d); placed = true; }
      }
      if (!placed) out.push(d);
      return out;
    });
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

  // ---- verification ---------------------------------------------------------

  /**
   * Checks the layout: every blob's content against its name, and every
   * index.json entry (named or not) down to its config and layers. An index
   * may lack some platforms' manifests (a pull stores only the platforms it
   * needs), but a manifest that is present must have all of its blobs.
   * Returns the problems found, one sentence each; an empty list means sound.
   */
  async verify(options: VerifyOptions = {}): Promise<string[]> {
    const problems: string[] = [];
    try {
      checkLayoutFile(join(this.dir, 'oci-layout'));
    } catch (err) {
      problems.push((err as Error).message);
    }
    for (const f of readdirSync(this.blobDir)) {
      if (!/^[a-f0-9]{64}$/.test(f)) {
        problems.push(`blobs/sha256/${f} is not named by a sha256 digest`);
        continue;
      }
      if (options.hashes === false) continue;
      const h = await hashFile(join(this.blobDir, f));
      if (h !== f) problems.push(`blob sha256:${f} is corrupt: its content hashes to sha256:${h}`);
    }
    let index: ImageIndex;
    try {
      index = this.readIndex();
    } catch (err) {
      problems.push((err as Error).message);
      return problems;
    }
    const seen = new Set<string>();
    for (const d of index.manifests) {
      const label = d.annotations?.[REF_NAME_ANNOTATION] ? `image ${d.annotations[REF_NAME_ANNOTATION]}` : `index.json entry ${d.digest}`;
      await this.checkTree(d, label, true, problems, seen);
    }
    return problems;
  }

  private async checkTree(d: Descriptor, label: string, required: boolean, problems: string[], seen: Set<string>): Promise<void> {
    if (typeof d.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest)) {
      problems.push(`${label}: invalid digest ${String(d.digest)}`);
      return;
    }
    const key = `${d.digest}:${d.size}`;
    if (seen.has(key)) return;
    seen.add(key);
    const have = await this.info(d.digest);
    if (!have) {
      if (required) problems.push(`${label}: blob ${d.digest} (${d.mediaType}) is missing`);
      return;
    }
    if (have.size !== d.size) {
      problems.push(`${label}: blob ${d.digest} has ${have.size} bytes, its descriptor says ${d.size}`);
      return;
    }
    if (!isIndexMediaType(d.mediaType) && !isManifestMediaType(d.mediaType)) return;
    let doc: ImageIndex & ImageManifest;
    try {
      doc = JSON.parse(readFileSync(this.blobPath(d.digest), 'utf8')) as ImageIndex & ImageManifest;
    } catch {
      problems.push(`${label}: ${d.mediaType} ${d.digest} is not valid JSON`);
      return;
    }
    if (isIndexMediaType(d.mediaType)) {
      if (!Array.isArray(doc.manifests)) problems.push(`${label}: index ${d.digest} has no manifests list`);
      for (const m of doc.manifests ?? []) await this.checkTree(m, label, false, problems, seen);
    } else {
      if (!doc.config || !Array.isArray(doc.layers)) {
        problems.push(`${label}: manifest ${d.digest} lacks a config or a layers list`);
        return;
      }
      for (const b of [doc.config, ...doc.layers]) await this.checkTree(b, label, true, problems, seen);
    }
  }
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function emptyIndexJson(): string {
  return JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] });
}

function checkLayoutFile(p: string): void {
  let v: { imageLayoutVersion?: unknown };
  try {
    v = JSON.parse(readFileSync(p, 'utf8')) as typeof v;
  } catch (err) {
    throw failedPrecondition(`${p} is not a valid oci-layout file (${errno(err)}); this directory is not an OCI image layout skiff can use`, err);
  }
  if (typeof v?.imageLayoutVersion !== 'string' || !v.imageLayoutVersion.startsWith('1.')) {
    throw failedPrecondition(`${p}: unsupported OCI image layout version ${JSON.stringify(v?.imageLayoutVersion)} (skiff reads 1.x)`);
  }
}

function parseIndexFile(p: string): ImageIndex {
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch (err) {
    if (errno(err) === 'ENOENT') throw dataLoss(`${p} is missing: the layout has lost its index of names; restore it, or remove the directory and pull or load the images again`, err);
    throw unavailable(`read ${p}: ${errno(err)}`, err);
  }
  let idx: ImageIndex;
  try {
    idx = JSON.parse(text) as ImageIndex;
  } catch (err) {
    throw dataLoss(`${p} is not valid JSON: ${(err as Error).message}; fix or restore it`, err);
  }
  if (typeof idx !== 'object' || idx === null || !Array.isArray(idx.manifests)) {
    throw dataLoss(`${p} has no "manifests" list; fix or restore it`);
  }
  return idx;
}

function checkIndexFile(p: string): void {
  parseIndexFile(p);
}

async function hashFile(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(p, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}
