/**
 * docker import: a root file system tarball (plain or gzip) becomes an image
 * of one layer, with a config made from `--change` instructions, as dockerd's
 * ImportImage does. The tar is read once: hashed for the diffID (the digest
 * of the tar as given, uncompressed), stored as given and checked header by
 * header, so a damaged archive stores nothing.
 */
import { invalidArgument, unsupported } from '../errors/index.js';
import { applyChanges } from '../build/changes.js';
import { sniffArchiveCompression } from '../build/archive.js';
import { createSha256 } from '../image/digest.js';
import { MediaType } from '../image/media-types.js';
import { formatReference, parseReference } from '../image/reference.js';
import { danglingName, type ImageStore } from '../image/store.js';
import type { Descriptor, ImageConfig, Platform } from '../image/types.js';
import { gunzip, peek, sniffCompression } from '../layers/compression.js';
import { readTar } from '../layers/tar-reader.js';

export interface ImportRootfsOptions {
  /** The new image's name, `repo[:tag]` (tag `latest` when none); without one it is kept as a dangling image. */
  reference?: string;
  /** Dockerfile instructions for the config, as `docker commit --change` takes them. */
  changes?: string[];
  /** The history comment; dockerd's default is `Imported from -`. */
  message?: string;
  /** The image's platform; the caller's default otherwise. */
  platform?: Platform;
}

export interface ImportRootfsResult {
  /** The image ID (its config digest). */
  id: string;
  /** The normalized name it was given, if any. */
  name?: string;
  diffId: string;
}

/** The name `repo` and `tag` (the API's query) give, as dockerd's RepoTagReference: none without a repo. */
export function importReference(repo: string | undefined, tag: string | undefined): string | undefined {
  if (!repo) {
    if (tag) throw invalidArgument(`a tag ("${tag}") needs a repository name`);
    return undefined;
  }
  let ref;
  try {
    ref = parseReference(repo);
  } catch (err) {
    throw invalidArgument(`invalid reference format: "${repo}" (use a name like repo:tag)`, err);
  }
  if (ref.digest) throw invalidArgument(`cannot import to a digest reference ("${repo}"); give a name like repo:tag`);
  if (!tag) return formatReference(ref);
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw invalidArgument(`invalid tag "${tag}": use letters, digits, '_', '.' and '-' (up to 128, not starting with '.' or '-')`);
  return formatReference({ ...ref, tag });
}

/**
 * Stores the tarball as a one-layer image of `platform` and names it
 * `o.reference` (or keeps it dangling). Bad changes fail before the tar is
 * read; a tar that is not one fails with INVALID_ARGUMENT and stores nothing.
 */
export async function importRootfs(images: ImageStore, tarball: ReadableStream<Uint8Array>, platform: Platform, o: ImportRootfsOptions = {}): Promise<ImportRootfsResult> {
  let name: string | undefined;
  let config;
  try {
    name = o.reference ? importReference(o.reference, undefined) : undefined;
    config = applyChanges({}, o.changes ?? []);
  } catch (err) {
    await tarball.cancel().catch(() => {});
    throw err;
  }
  const layer = await storeLayer(images.layout, tarball);
  const created = new Date().toISOString();
  const comment = o.message || 'Imported from -';
  const image: ImageConfig = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config,
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created, comment }],
  };
  const put = await images.putImage(name, image, [layer.descriptor]);
  // Without a name it is kept as a dangling image (<none>), as docker commit's are.
  if (!put.name) await images.layout.setRef(danglingName(put.manifestDescriptor.digest), put.target);
  return { id: put.id, ...(put.name ? { name: put.name } : {}), diffId: layer.diffId };
}

/**
 * Stores the upload as given while the tar in it is hashed and read header
 * by header: a plain tar as an uncompressed layer (as `docker load` keeps
 * docker save's), a gzip one as a gzip layer (as containerd's import keeps
 * it). Nothing is compressed here, the slow part. The blob's stream ends only
 * after the whole tar checked out and fails otherwise, and the store drops a
 * write whose stream fails.
 */
async function storeLayer(layout: ImageStore['layout'], tarball: ReadableStream<Uint8Array>): Promise<{ diffId: string; descriptor: Descriptor }> {
  const { head, stream: all } = await peek(tarball, 6);
  const compression = compressionOf(head);
  if (compression !== 'none' && compression !== 'gzip') {
    await all.cancel().catch(() => {});
    throw unsupported(`${compression}-compressed tarballs cannot be imported here (no ${compression} decoder in this runtime); decompress it first, e.g. \`${compression} -dc FILE | docker import - NAME\`, or use gzip`);
  }
  const blob = new TransformStream<Uint8Array, Uint8Array>();
  const writer = blob.writable.getWriter();
  const stored = layout.writeStream(blob.readable);
  // Each chunk goes to the store before it is read on, so a slow disk holds back the upload.
  const given = all.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, ctl) {
      await writer.write(chunk);
      ctl.enqueue(chunk);
    },
  }));
  const diff = createSha256();
  const tar = (compression === 'gzip' ? given.pipeThrough(gunzip()) : given).pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      diff.update(chunk);
      ctl.enqueue(chunk);
    },
  }));
  try {
    // readTar drains the stream after the end blocks, so the digest covers the whole input as dockerd's does.
    for await (const _entry of readTar(tar)) { /* bodies are skipped; the headers are the check */ }
    await writer.close();
  } catch (err) {
    await writer.abort(err).catch(() => {});
    await stored.catch(() => {});
    throw invalidArgument(`the file to import is not a valid tar archive (plain or gzip-compressed): ${(err as Error).message}`, err);
  }
  const info = await stored;
  const mediaType = compression === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayer;
  return { diffId: `sha256:${diff.hex()}`, descriptor: { mediaType, digest: info.digest, size: info.size } };
}

/** gzip, bzip2 or xz (as ADD sniffs archives), zstd (as layers are sniffed) or none, from the first bytes. */
function compressionOf(head: Uint8Array): string {
  const archive = sniffArchiveCompression(head);
  return archive === 'none' ? sniffCompression(head) : archive;
}
