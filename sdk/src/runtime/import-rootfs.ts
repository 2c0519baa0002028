/**
 * docker import: a root file system tarball (plain or gzip) becomes an image
 * of one layer, with a config made from `--change` instructions, as dockerd's
 * ImportImage does. The tar is read once: hashed for the diffID (the digest
 * of the tar as given, uncompressed), stored as a gzip blob and checked
 * header by header, so a damaged archive stores nothing.
 */
import { invalidArgument, unsupported } from '../errors/index.js';
import { applyChanges } from '../build/changes.js';
import { createSha256 } from '../image/digest.js';
import { MediaType } from '../image/media-types.js';
import { formatReference, parseReference } from '../image/reference.js';
import { danglingName, type ImageStore } from '../image/store.js';
import type { Descriptor, ImageConfig, Platform } from '../image/types.js';
import { gunzip, gzip, peek, sniffCompression } from '../layers/compression.js';
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
 * Stores the layer while the tar is hashed and read header by header. The
 * blob is kept only when the whole tar was read without fault: its stream
 * fails otherwise, and the store drops a write whose stream fails.
 */
async function storeLayer(layout: ImageStore['layout'], tarball: ReadableStream<Uint8Array>): Promise<{ diffId: string; descriptor: Descriptor }> {
  const layer = await layerStreams(tarball);
  const stored = layout.writeStream(layer.blob);
  const diff = createSha256();
  const hashed = layer.tar.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      diff.update(chunk);
      ctl.enqueue(chunk);
    },
  }));
  try {
    // readTar drains the stream after the end blocks, so the digest covers the whole input as dockerd's does.
    for await (const _entry of readTar(hashed)) { /* bodies are skipped; the headers are the check */ }
    await layer.settle();
  } catch (err) {
    await layer.settle(err);
    await stored.catch(() => {});
    throw invalidArgument(`the file to import is not a valid tar archive (plain or gzip-compressed): ${(err as Error).message}`, err);
  }
  const info = await stored;
  return { diffId: `sha256:${diff.hex()}`, descriptor: { mediaType: MediaType.OciLayerGzip, digest: info.digest, size: info.size } };
}

interface LayerStreams {
  /** The uncompressed tar, to hash and check. */
  tar: ReadableStream<Uint8Array>;
  /** The gzip blob for the store; it ends only after `settle()`. */
  blob: ReadableStream<Uint8Array>;
  /** Ends the blob after a good check, or fails it with `err`. */
  settle(err?: unknown): Promise<void>;
}

/**
 * A gzip upload is stored as given (as containerd's import keeps it: no
 * second compression, the slow part); a plain tar is gzipped here. bzip2,
 * xz and zstd are refused with what to run instead.
 */
async function layerStreams(tarball: ReadableStream<Uint8Array>): Promise<LayerStreams> {
  const { head, stream: all } = await peek(tarball, 6);
  const other = head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68 ? 'bzip2'
    : [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00].every((b, i) => head[i] === b) ? 'xz'
    : sniffCompression(head) === 'zstd' ? 'zstd' : undefined;
  if (other) {
    await all.cancel().catch(() => {});
    throw unsupported(`${other}-compressed tarballs cannot be imported here (no ${other} decoder in this runtime); decompress it first, e.g. \`${other} -dc FILE | docker import - NAME\`, or use gzip`);
  }
  if (sniffCompression(head) === 'gzip') {
    const [raw, copy] = all.tee();
    let gate!: TransformStreamDefaultController<Uint8Array>;
    let pass!: () => void;
    const passed = new Promise<void>((resolve) => { pass = resolve; });
    const blob = raw.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ start(c) { gate = c; }, flush: () => passed }));
    return {
      tar: copy.pipeThrough(gunzip()),
      blob,
      async settle(err) {
        if (err === undefined) return pass();
        try { gate.error(err); } catch { /* already ended */ }
      },
    };
  }
  const gz = gzip();
  const writer = gz.writable.getWriter();
  const tar = all.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, ctl) {
      await writer.write(chunk);
      ctl.enqueue(chunk);
    },
  }));
  return {
    tar,
    blob: gz.readable,
    settle: (err) => (err === undefined ? writer.close() : writer.abort(err).catch(() => {})),
  };
}
