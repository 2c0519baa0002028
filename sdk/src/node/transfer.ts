/**
 * Import and export on the file system: OCI layout directories (what
 * `skiff save --format oci-dir` writes and skopeo's `oci:` and umoci read),
 * and archive files by path. The formats themselves live in ../transfer/.
 */
import { createReadStream, createWriteStream, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, rmSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cancelled, invalidArgument, isSkiffError, notFound, unavailable } from '../errors/index.js';
import type { ImageLayout, Provider, RefStore } from '../content/types.js';
import { isIndexMediaType, isManifestMediaType } from '../image/media-types.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../image/types.js';
import { exportArchive, resolveExportImages } from '../transfer/export.js';
import { importArchive, importFiles } from '../transfer/import.js';
import { CONTAINERD_NAME_ANNOTATION } from '../transfer/names.js';
import type { ArchiveFile, ExportOptions, ImportOptions, ImportResult } from '../transfer/types.js';
import { FsImageLayout } from './fs-layout.js';
import { errno } from './errno.js';
import { ownChunksToWeb } from './own-chunks.js';

function statOrThrow(path: string, what: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    if (errno(err) === 'ENOENT') throw notFound(`${what} ${path} does not exist`);
    throw unavailable(`stat ${path}: ${errno(err)}`, err);
  }
}

function fileStream(path: string): ReadableStream<Uint8Array> {
  return ownChunksToWeb(createReadStream(path, { highWaterMark: 1 << 20 }), 1);
}

function archiveFile(root: string, rel: string, st: Stats): ArchiveFile {
  const full = join(root, rel);
  if (st.isSymbolicLink()) return { path: rel, type: 'symlink', size: 0, linkname: readlinkSync(full), stream: () => new ReadableStream({ start: (c) => c.close() }) };
  if (st.isDirectory()) return { path: rel, type: 'directory', size: 0, stream: () => new ReadableStream({ start: (c) => c.close() }) };
  if (!st.isFile()) return { path: rel, type: 'other', size: 0, stream: () => new ReadableStream({ start: (c) => c.close() }) };
  return { path: rel, type: 'file', size: st.size, stream: () => fileStream(full) };
}

/** Every file under `dir` (symlinks are reported, never followed), without a skiff store's ingest/ folder. */
function* walk(root: string, rel = ''): Generator<ArchiveFile> {
  const dir = join(root, rel);
  for (const name of readdirSync(dir).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (r === 'ingest') continue;
    const st = lstatSync(join(root, r));
    yield archiveFile(root, r, st);
    if (st.isDirectory()) yield* walk(root, r);
  }
}

/**
 * The blobs reachable from an OCI layout's index.json, found by reading its
 * manifests and indexes as they are on disk (the importer verifies them).
 * Undefined when the layout is too odd to walk; then every file is read.
 */
function reachableBlobs(dir: string): string[] | undefined {
  const out = new Set<string>();
  const visit = (d: Descriptor, depth: number): void => {
    if (typeof d?.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest) || depth > 8) throw new Error('odd descriptor');
    const hex = d.digest.slice(7);
    if (out.has(hex)) return;
    out.add(hex);
    if (!isIndexMediaType(d.mediaType) && !isManifestMediaType(d.mediaType)) return;
    let doc: ImageIndex & ImageManifest;
    try {
      doc = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', hex), 'utf8')) as ImageIndex & ImageManifest;
    } catch (err) {
      if (errno(err) === 'ENOENT') return; // a platform the layout lacks; the importer judges
      throw err;
    }
    if (isIndexMediaType(d.mediaType)) for (const m of doc.manifests) visit(m, depth + 1);
    else for (const b of [doc.config, ...doc.layers]) visit(b, depth + 1);
  };
  try {
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as ImageIndex;
    for (const m of index.manifests) visit(m, 0);
    return [...out];
  } catch {
    return undefined;
  }
}

/** The files of a layout directory: its metadata, then only the blobs its index reaches. */
function* layoutDirectoryFiles(dir: string): Generator<ArchiveFile> {
  const blobs = reachableBlobs(dir);
  if (!blobs) {
    yield* walk(dir);
    return;
  }
  for (const name of readdirSync(dir).sort()) {
    const st = lstatSync(join(dir, name));
    if (!st.isDirectory() && name !== 'ingest') yield archiveFile(dir, name, st);
  }
  for (const hex of blobs) {
    const rel = `blobs/sha256/${hex}`;
    let st: Stats;
    try {
      st = lstatSync(join(dir, rel));
    } catch {
      continue; // missing: the importer says which image needs it
    }
    yield archiveFile(dir, rel, st);
  }
}

/**
 * Imports from a directory: an OCI image layout (also a skiff store, or what
 * `skopeo copy ... oci:DIR` and umoci write), or an unpacked `docker save`.
 */
export async function importDirectory(dir: string, into: ImageLayout, options: ImportOptions = {}): Promise<ImportResult> {
  const st = statOrThrow(dir, 'the directory');
  if (!st.isDirectory()) throw invalidArgument(`${dir} is not a directory`);
  let files: Iterable<ArchiveFile>;
  try {
    statSync(join(dir, 'index.json'));
    files = layoutDirectoryFiles(dir);
  } catch {
    files = walk(dir);
  }
  return importFiles(toAsync(files), into, options);
}

async function* toAsync<T>(it: Iterable<T>): AsyncGenerator<T> {
  yield* it;
}

/** Imports an archive file (a `docker save` tar, an OCI layout tar, gzip-compressed or not) or a directory. */
export async function importPath(path: string, into: ImageLayout, options: ImportOptions = {}): Promise<ImportResult> {
  const st = statOrThrow(path, 'the archive');
  if (st.isDirectory()) return importDirectory(path, into, options);
  return importArchive(fileStream(path), into, options);
}

/**
 * Writes images into an OCI layout directory (created, or an existing layout
 * that gains them), each under its full name in `org.opencontainers.image.ref.name`.
 * A directory that holds something else is refused.
 */
export async function exportDirectory(from: Provider & RefStore, names: string[], dir: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  const images = await resolveExportImages(from, names);
  const out = await FsImageLayout.open(dir);
  for (const img of images) {
    for (const b of img.blobs.blobs) {
      if (options.signal?.aborted) throw cancelled('the export was cancelled', options.signal.reason);
      if (await out.info(b.digest)) continue;
      await out.writeStream(from.readStream(b.digest), { digest: b.digest, size: b.size }, options.signal ? { signal: options.signal } : {});
    }
  }
  for (const img of images) {
    for (const n of img.names) await out.setRef(n, { ...img.target, annotations: { ...img.target.annotations, [CONTAINERD_NAME_ANNOTATION]: n } });
  }
  try {
    rmdirSync(join(dir, 'ingest')); // only when empty: the layout is then exactly what the spec describes
  } catch {
    // not there, or in use by another writer
  }
}

/**
 * Writes an archive file atomically: to a temp file beside `path`, fsynced and
 * renamed, so `path` is either the whole archive or untouched.
 */
export async function exportArchiveFile(from: Provider & RefStore, names: string[], path: string, options: ExportOptions): Promise<void> {
  const stream = await exportArchive(from, names, options);
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    await pipeline(Readable.fromWeb(stream as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(tmp, { mode: 0o644 }));
    const fh = await open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (isSkiffError(err)) throw err;
    throw unavailable(`write ${path}: ${errno(err)}`, err);
  }
}
