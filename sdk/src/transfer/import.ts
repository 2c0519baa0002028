/**
 * Imports images from an archive into an image layout. Understands:
 *  - OCI image layouts (oci-layout, index.json, blobs/sha256/...), as a tar
 *    or as the files of a directory, including the form `docker save` writes
 *    since docker 25 (an OCI layout plus manifest.json and repositories);
 *  - legacy `docker save` archives (manifest.json, <id>/layer.tar, <hex>.json),
 *    and skopeo's docker-archive (<hex>.tar layers).
 *
 * The archive is read once, in whatever order its files come: every blob is
 * streamed into the store as it arrives, verified against its name where the
 * name is a digest; small metadata files are kept in memory. Names are set
 * only at the end, after every image has been checked complete. When anything
 * fails, the blobs this import added are deleted again, so a bad archive
 * leaves the store as it was.
 */
import { cancelled, dataLoss, failedPrecondition, invalidArgument, isSkiffError } from '../errors/index.js';
import type { ImageLayout } from '../content/types.js';
import { collect, fromUtf8, utf8 } from '../content/util.js';
import { digestOf } from '../image/digest.js';
import { MediaType } from '../image/media-types.js';
import { CONTAINERD_NAME_ANNOTATION, archiveName, indexEntryNames, repoTag } from './names.js';
import { REF_NAME_ANNOTATION, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from '../image/types.js';
import { sniffCompression } from '../layers/compression.js';
import { cleanEntryPath, resolveInside } from '../layers/paths.js';
import { tarFiles } from './tar-files.js';
import type { ArchiveFile, ImportedImage, ImportOptions, ImportResult } from './types.js';
import { imageBlobs } from './walk.js';
import type { LayerCompression } from '../image/media-types.js';

/** Files at the archive's root that are read into memory rather than stored as blobs. */
const ROOT_METADATA = /^(?:[^/]+\.json|repositories|oci-layout)$/;
/** docker's legacy per-layer v1 metadata, which nothing needs any more. */
const LEGACY_V1 = /^[^/]+\/(?:json|VERSION)$/;
const MAX_METADATA = 64 << 20;
const MAX_LINK_HOPS = 16;

/** One `docker save` manifest.json entry. */
interface DockerManifestEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

interface StoredFile {
  digest: string;
  size: number;
  compression: LayerCompression;
}

/** Imports a `docker save` archive or an OCI layout tar (optionally gzip-compressed). */
export async function importArchive(input: ReadableStream<Uint8Array>, into: ImageLayout, options: ImportOptions = {}): Promise<ImportResult> {
  return importFiles(tarFiles(input), into, options);
}

/** Imports from any source of archive files (a tar, a directory walk). */
export async function importFiles(files: AsyncIterable<ArchiveFile>, into: ImageLayout, options: ImportOptions = {}): Promise<ImportResult> {
  const session = new ImportSession(into, options);
  try {
    for await (const file of files) await session.take(file);
    return await session.finish();
  } catch (err) {
    await session.rollback();
    throw err;
  }
}

/** docker's "Loaded image: busybox:latest" lines for a result. */
export function loadedMessages(result: ImportResult): string[] {
  const lines: string[] = [];
  for (const img of result.images) {
    if (img.names.length === 0) lines.push(`Loaded image ID: ${img.id}`);
    for (const n of img.names) lines.push(`Loaded image: ${repoTag(n)}`);
  }
  for (const s of result.skipped) lines.push(`Skipped image ${s.target.digest}: ${s.reason}`);
  return lines;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(fromUtf8(bytes)) as T;
  } catch (err) {
    throw invalidArgument(`${what} is not valid JSON: ${(err as Error).message}`, err);
  }
}

function layerMediaType(c: LayerCompression): string {
  return c === 'gzip' ? MediaType.OciLayerGzip : c === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayer;
}

class ImportSession {
  private readonly meta = new Map<string, Uint8Array>();
  private readonly stored = new Map<string, StoredFile>();
  private readonly links = new Map<string, string>();
  /** Blobs this import added to the store (and so removes again on failure). */
  private readonly created = new Set<string>();
  private existing: Set<string> | undefined;

  constructor(private readonly into: ImageLayout, private readonly options: ImportOptions) {}

  private checkSignal(): void {
    const s = this.options.signal;
    if (s?.aborted) throw cancelled('the import was cancelled; nothing was loaded', s.reason);
  }

  async take(file: ArchiveFile): Promise<void> {
    this.checkSignal();
    let path: string;
    try {
      path = cleanEntryPath(file.path);
    } catch (err) {
      throw invalidArgument(`refusing the archive: its entry "${file.path}" points outside the archive`, err);
    }
    if (path === '' || file.type === 'directory' || file.type === 'other') return;
    if (file.type === 'symlink' || file.type === 'hardlink') {
      try {
        this.links.set(path, file.type === 'symlink' ? resolveInside(dirOf(path), file.linkname ?? '') : cleanEntryPath(file.linkname ?? ''));
      } catch (err) {
        throw invalidArgument(`refusing the archive: its link "${file.path}" -> "${file.linkname}" points outside the archive`, err);
      }
      return;
    }
    if (ROOT_METADATA.test(path)) {
      if (file.size > MAX_METADATA) throw invalidArgument(`archive file ${path} is ${file.size} bytes; metadata files that large are not supported`);
      this.meta.set(path, await collect(file.stream(), this.options.signal));
      return;
    }
    if (LEGACY_V1.test(path)) return;
    await this.storeBlob(path, file);
  }

  private async existingDigests(): Promise<Set<string>> {
    if (!this.existing) {
      this.existing = new Set();
      for await (const b of this.into.list()) this.existing.add(b.digest);
    }
    return this.existing;
  }

  private async storeBlob(path: string, file: ArchiveFile): Promise<void> {
    const named = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
    const expected = named ? { digest: `sha256:${named[1]}`, size: file.size } : { size: file.size };
    // What was there before: a blob the store already had is never removed by a rollback.
    // (A concurrent import of the same blob can still race with a rollback; the next pull or load repairs it.)
    const before = named ? (await this.into.info(expected.digest!)) !== undefined : undefined;
    if (before) {
      // Already stored (and verified when it was): the body is left unread, and the reader skips it.
      this.stored.set(path, { digest: expected.digest!, size: file.size, compression: await this.compressionOf(expected.digest!) });
      return;
    }
    const existing = named ? undefined : await this.existingDigests();
    let head: Uint8Array | undefined;
    const sniff = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        if (!head && chunk.length > 0) head = chunk.subarray(0, 4).slice();
        ctl.enqueue(chunk);
      },
    });
    let info;
    try {
      info = await this.into.writeStream(file.stream().pipeThrough(sniff), expected, this.options.signal ? { signal: this.options.signal } : {});
    } catch (err) {
      if (isSkiffError(err, 'DATA_LOSS')) throw dataLoss(`archive file ${path} is corrupt: ${err.message}`, err);
      throw err;
    }
    if (named || !existing!.has(info.digest)) this.created.add(info.digest);
    if (existing) existing.add(info.digest);
    this.stored.set(path, { digest: info.digest, size: info.size, compression: head ? sniffCompression(head) : 'none' });
    this.options.onProgress?.({ path, digest: info.digest, size: info.size });
  }

  private async compressionOf(digest: string): Promise<LayerCompression> {
    const reader = this.into.readStream(digest).getReader();
    try {
      const first = await reader.read();
      return first.done ? 'none' : sniffCompression(first.value);
    } finally {
      await reader.cancel().catch(() => {});
    }
  }

  /** A stored file by archive path, following symlinks and hardlinks. */
  private storedAt(rawPath: unknown, what: string): StoredFile {
    const path = this.cleanRef(rawPath, what);
    let p = path;
    for (let hops = 0; this.links.has(p); hops++) {
      if (hops > MAX_LINK_HOPS) throw invalidArgument(`${what}: too many levels of links at ${path}`);
      p = this.links.get(p)!;
    }
    const f = this.stored.get(p);
    if (!f) throw dataLoss(`${what}: the archive lacks the file ${path}`);
    return f;
  }

  private cleanRef(rawPath: unknown, what: string): string {
    if (typeof rawPath !== 'string' || rawPath === '') throw invalidArgument(`${what}: manifest.json gives no file path`);
    try {
      return cleanEntryPath(rawPath);
    } catch (err) {
      throw invalidArgument(`${what}: manifest.json names "${rawPath}", which points outside the archive`, err);
    }
  }

  private async writeJsonBlob(bytes: Uint8Array): Promise<{ digest: string; size: number }> {
    const digest = digestOf(bytes);
    const had = (await this.into.info(digest)) !== undefined;
    const info = await this.into.writeBytes(bytes, { digest, size: bytes.length });
    if (!had) this.created.add(digest);
    return info;
  }

  async finish(): Promise<ImportResult> {
    this.checkSignal();
    const result: ImportResult = this.meta.has('index.json')
      ? { format: 'oci', ...(await this.fromIndex()) }
      : this.meta.has('manifest.json')
        ? { format: 'docker', ...(await this.fromDockerManifest()) }
        : (() => { throw invalidArgument('the archive is neither an OCI image layout (it has no index.json) nor a `docker save` archive (it has no manifest.json)'); })();
    if (result.images.length === 0) {
      const why = result.skipped.map((s) => s.reason).join('; ');
      throw invalidArgument(`the archive holds no image skiff can name${why ? ` (${why})` : ''}; nothing was loaded`);
    }

    // Keep what the named images use; drop what this import added for nothing.
    const keep = new Set<string>();
    for (const img of result.images) {
      for (const b of (await imageBlobs(this.into, img.target, `image ${img.names[0] ?? img.id}`)).blobs) keep.add(b.digest);
    }
    this.checkSignal();
    for (const d of [...this.created]) {
      if (!keep.has(d)) { await this.into.delete(d); this.created.delete(d); }
    }
    for (const img of result.images) for (const n of img.names) await this.into.setRef(n, img.target);
    this.created.clear();
    return result;
  }

  async rollback(): Promise<void> {
    for (const d of this.created) await this.into.delete(d).catch(() => {});
    this.created.clear();
  }

  // ---- OCI layouts (and docker 25+ archives) -------------------------------

  private async fromIndex(): Promise<Omit<ImportResult, 'format'>> {
    const layoutFile = this.meta.get('oci-layout');
    if (layoutFile) {
      const v = parseJson<{ imageLayoutVersion?: unknown }>(layoutFile, 'the archive\'s oci-layout');
      if (typeof v?.imageLayoutVersion !== 'string' || !v.imageLayoutVersion.startsWith('1.')) {
        throw failedPrecondition(`the archive is an OCI image layout of version ${JSON.stringify(v?.imageLayoutVersion)}; skiff reads 1.x`);
      }
    }
    const index = parseJson<ImageIndex>(this.meta.get('index.json')!, 'the archive\'s index.json');
    if (!index || !Array.isArray(index.manifests)) throw invalidArgument('the archive\'s index.json has no manifests list');
    let repoTags: Map<string, string[]> | undefined;

    const byTarget = new Map<string, ImportedImage>();
    const skipped: ImportResult['skipped'] = [];
    for (const entry of index.manifests) {
      if (typeof entry?.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(entry.digest) || typeof entry.size !== 'number') {
        throw invalidArgument(`the archive's index.json has an entry with an invalid digest or size: ${JSON.stringify(entry).slice(0, 200)}`);
      }
      const { names, tagOnly } = indexEntryNames(entry, this.options.baseName);
      const blobs = await imageBlobs(this.into, entry, `image ${names[0] ?? tagOnly ?? entry.digest} in the archive`);
      if (names.length === 0 && this.meta.has('manifest.json')) {
        repoTags ??= this.repoTagsByConfig();
        for (const m of blobs.manifests) names.push(...(repoTags.get(m.manifest.config.digest) ?? []));
      }
      const target = storedTarget(entry);
      const id = blobs.manifests.length === 1 && blobs.manifests[0]!.descriptor.digest === entry.digest ? blobs.manifests[0]!.manifest.config.digest : entry.digest;
      if (names.length === 0) {
        skipped.push({ target, reason: tagOnly ? `it is named only by the tag "${tagOnly}"; give a base name (repository) to load it under` : 'the archive gives it no name' });
        continue;
      }
      const img = byTarget.get(entry.digest) ?? { names: [], target, id };
      for (const n of names) if (!img.names.includes(n)) img.names.push(n);
      byTarget.set(entry.digest, img);
    }
    return { images: [...byTarget.values()], skipped };
  }

  /** docker 25+ archives: manifest.json's RepoTags, by config digest, for index.json entries without a name. */
  private repoTagsByConfig(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [i, e] of this.dockerEntries().entries()) {
      const tags = repoTagsOf(e, i);
      if (tags.length === 0) continue;
      const cfg = this.storedAt(e.Config, `image ${tags[0]} in manifest.json`);
      out.set(cfg.digest, [...(out.get(cfg.digest) ?? []), ...tags]);
    }
    return out;
  }

  // ---- legacy docker save ---------------------------------------------------

  private dockerEntries(): DockerManifestEntry[] {
    const entries = parseJson<unknown>(this.meta.get('manifest.json')!, 'the archive\'s manifest.json');
    if (!Array.isArray(entries)) throw invalidArgument('the archive\'s manifest.json is not a list of images');
    return entries as DockerManifestEntry[];
  }

  private async fromDockerManifest(): Promise<Omit<ImportResult, 'format'>> {
    const byTarget = new Map<string, ImportedImage>();
    const skipped: ImportResult['skipped'] = [];
    for (const [i, e] of this.dockerEntries().entries()) {
      const names = repoTagsOf(e, i);
      const what = `image ${names[0] ?? `#${i + 1}`} in manifest.json`;
      const config = await this.legacyConfig(e.Config, what);
      const cfg = parseJson<ImageConfig>(await this.into.readBytes(config.digest), `${what}: the config`);
      if (!Array.isArray(e.Layers)) throw invalidArgument(`${what}: manifest.json gives no Layers list`);
      const diffIds = cfg?.rootfs?.diff_ids;
      if (!Array.isArray(diffIds) || diffIds.length !== e.Layers.length) {
        throw dataLoss(`${what}: the config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} layers, manifest.json ${e.Layers.length}`);
      }
      const layers: Descriptor[] = e.Layers.map((l: unknown, k: number) => {
        const f = this.storedAt(l, what);
        // An uncompressed layer's digest is its diff ID: this verifies every layer of a legacy archive.
        if (f.compression === 'none' && f.digest !== diffIds[k]) {
          throw dataLoss(`${what}: layer ${String(l)} has digest ${f.digest}, but the config says ${String(diffIds[k])}; the archive is corrupt`);
        }
        return { mediaType: layerMediaType(f.compression), digest: f.digest, size: f.size };
      });
      const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, ...config }, layers };
      const target: Descriptor = { mediaType: MediaType.OciManifest, ...(await this.writeJsonBlob(utf8(JSON.stringify(manifest)))) };
      if (names.length === 0) {
        skipped.push({ target, reason: 'the archive gives it no name (RepoTags is empty)' });
        continue;
      }
      const img = byTarget.get(target.digest) ?? { names: [], target, id: config.digest };
      for (const n of names) if (!img.names.includes(n)) img.names.push(n);
      byTarget.set(target.digest, img);
    }
    return { images: [...byTarget.values()], skipped };
  }

  /** The config of a legacy entry, stored byte for byte as a blob. */
  private async legacyConfig(raw: unknown, what: string): Promise<{ digest: string; size: number }> {
    const path = this.cleanRef(raw, what);
    const bytes = this.meta.get(path);
    if (!bytes) return this.storedAt(raw, what);
    const digest = digestOf(bytes);
    const named = /^([a-f0-9]{64})\.json$/.exec(path);
    if (named && `sha256:${named[1]}` !== digest) {
      throw dataLoss(`${what}: the config ${path} has digest ${digest}, not the one its name says; the archive is corrupt`);
    }
    return this.writeJsonBlob(bytes);
  }
}

function repoTagsOf(e: DockerManifestEntry, i: number): string[] {
  if (e === null || typeof e !== 'object') throw invalidArgument(`manifest.json entry #${i + 1} is not an object`);
  if (e.RepoTags === undefined || e.RepoTags === null) return [];
  if (!Array.isArray(e.RepoTags) || !e.RepoTags.every((t) => typeof t === 'string')) throw invalidArgument(`manifest.json entry #${i + 1}: RepoTags is not a list of names`);
  return (e.RepoTags as string[]).map((t) => archiveName(t, 'manifest.json (RepoTags)'));
}

/** The descriptor to store a name on: the archive's, without the archive's own naming annotations. */
function storedTarget(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform) out.platform = d.platform;
  if (d.artifactType) out.artifactType = d.artifactType;
  const rest = Object.entries(d.annotations ?? {}).filter(([k]) => k !== REF_NAME_ANNOTATION && k !== CONTAINERD_NAME_ANNOTATION);
  if (rest.length) out.annotations = Object.fromEntries(rest);
  return out;
}
