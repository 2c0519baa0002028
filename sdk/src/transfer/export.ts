/**
 * Exports images as a tar: an OCI image layout (`format: 'oci'`), or that
 * layout plus docker's manifest.json and repositories (`format: 'docker'`),
 * which is the form `docker save` writes since docker 25 and which older
 * `docker load`s read as well (they follow manifest.json's paths).
 *
 * Names and blobs are resolved before the stream is returned, so a missing
 * image fails the call; a blob that does not match its digest while it is
 * being read fails the stream.
 */
import { cancelled, invalidArgument, notFound } from '../errors/index.js';
import type { Provider, RefStore } from '../content/types.js';
import { utf8 } from '../content/util.js';
import { verifyingStream } from '../image/digest.js';
import { MediaType } from '../image/media-types.js';
import { selectManifest } from '../image/platform.js';
import { familiarName, normalizeName, parseReference } from '../image/reference.js';
import { REF_NAME_ANNOTATION, type Descriptor, type ImageIndex } from '../image/types.js';
import { TarWriter, type TarHeader } from '../layers/tar-writer.js';
import { CONTAINERD_NAME_ANNOTATION, repoTag } from './names.js';
import type { ExportOptions } from './types.js';
import { imageBlobs, type ImageBlobs } from './walk.js';

/** One image to export: its names (normalized), what they point at, and its blobs. */
export interface ExportedImage {
  names: string[];
  target: Descriptor;
  blobs: ImageBlobs;
}

const blobPath = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;

/** Resolves `names` in `from` and returns the archive as a stream. */
export async function exportArchive(from: Provider & RefStore, names: string[], options: ExportOptions): Promise<ReadableStream<Uint8Array>> {
  if (options.format !== 'oci' && options.format !== 'docker') throw invalidArgument(`unknown archive format "${String(options.format)}": use oci or docker`);
  const images = await resolveExportImages(from, names);
  const files = archiveMetadata(images, options);
  const blobs = new Map<string, Descriptor>();
  for (const img of images) for (const b of img.blobs.blobs) blobs.set(b.digest, b);
  return writeArchive(from, files, [...blobs.values()], options);
}

/** Looks up user-typed names (NOT_FOUND when absent) and collects each image's blobs; names of one image are grouped. */
export async function resolveExportImages(from: Provider & RefStore, names: string[]): Promise<ExportedImage[]> {
  if (names.length === 0) throw invalidArgument('nothing to export: give at least one image name');
  const byTarget = new Map<string, ExportedImage>();
  for (const raw of names) {
    const name = normalizeName(raw);
    const ref = await from.getRef(name);
    if (!ref) throw notFound(`No such image: ${raw}`);
    let img = byTarget.get(ref.digest);
    if (!img) {
      const target = plainTarget(ref);
      img = { names: [], target, blobs: await imageBlobs(from, target, `image ${raw}`) };
      byTarget.set(ref.digest, img);
    }
    if (!img.names.includes(name)) img.names.push(name);
  }
  return [...byTarget.values()];
}

/** A stored ref without the store's own name annotation. */
function plainTarget(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform) out.platform = d.platform;
  if (d.artifactType) out.artifactType = d.artifactType;
  const rest = Object.entries(d.annotations ?? {}).filter(([k]) => k !== REF_NAME_ANNOTATION && k !== CONTAINERD_NAME_ANNOTATION);
  if (rest.length) out.annotations = Object.fromEntries(rest);
  return out;
}

/** oci-layout, index.json and, for docker archives, manifest.json and repositories. */
function archiveMetadata(images: ExportedImage[], options: ExportOptions): Array<[string, Uint8Array]> {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: images.flatMap((img) => img.names.map((n) => ({
      ...img.target,
      // The full name in both: skopeo and umoci address images by ref.name, containerd and docker 25+ read the other.
      annotations: { ...img.target.annotations, [CONTAINERD_NAME_ANNOTATION]: n, [REF_NAME_ANNOTATION]: n },
    }))),
  };
  const files: Array<[string, Uint8Array]> = [
    ['oci-layout', utf8(JSON.stringify({ imageLayoutVersion: '1.0.0' }))],
    ['index.json', utf8(JSON.stringify(index))],
  ];
  if (options.format === 'docker') {
    const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const img of images) {
      const all = img.blobs.manifests;
      const chosen = (options.platforms?.length ? selectManifest(all.map((m) => m.descriptor), options.platforms) : undefined) ?? all[0]?.descriptor;
      const m = all.find((x) => x.descriptor.digest === chosen?.digest);
      if (!m) throw invalidArgument(`image ${img.names[0]} has no image manifest (it is a ${img.target.mediaType}); a docker archive needs one`);
      const tags = img.names.map(repoTag);
      manifest.push({ Config: blobPath(m.manifest.config.digest), RepoTags: tags, Layers: m.manifest.layers.map((l) => blobPath(l.digest)) });
      for (const n of img.names) {
        const ref = parseReference(n);
        if (!ref.tag) continue;
        const repo = familiarName({ domain: ref.domain, path: ref.path });
        (repositories[repo] ??= {})[ref.tag] = m.manifest.config.digest.slice('sha256:'.length);
      }
    }
    files.push(['manifest.json', utf8(JSON.stringify(manifest))], ['repositories', utf8(JSON.stringify(repositories))]);
  }
  return files;
}

function writeArchive(from: Provider, files: Array<[string, Uint8Array]>, blobs: Descriptor[], options: ExportOptions): ReadableStream<Uint8Array> {
  const tw = new TarWriter();
  const stop = new AbortController();
  const signal = options.signal;
  const mtime = options.mtime ?? 0;
  const header = (path: string, type: 'file' | 'directory', size: number): TarHeader => ({ path, type, size, mode: type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, mtime });
  const check = () => {
    if (signal?.aborted) throw cancelled('the export was cancelled', signal.reason);
    if (stop.signal.aborted) throw cancelled('the export stream was cancelled', stop.signal.reason);
  };

  const produce = async () => {
    for (const [path, data] of files) { check(); await tw.add(header(path, 'file', data.length), data); }
    await tw.add(header('blobs', 'directory', 0));
    await tw.add(header('blobs/sha256', 'directory', 0));
    for (const b of blobs) {
      check();
      // Verified as it is read: a store that rotted on disk does not leak into an archive.
      const v = verifyingStream({ digest: b.digest, size: b.size }, `blob ${b.digest} in the store`);
      await tw.add(header(blobPath(b.digest), 'file', b.size), from.readStream(b.digest).pipeThrough(v.stream));
    }
    check();
    await tw.finish();
  };
  return guarded(tw.readable, produce, stop, signal);
}

/** The writer's output, failing when the producer fails and stopping the producer when the reader cancels. */
function guarded(src: ReadableStream<Uint8Array>, produce: () => Promise<void>, stop: AbortController, signal?: AbortSignal): ReadableStream<Uint8Array> {
  const reader = src.getReader();
  let failure: unknown;
  let failed = false;
  const fail = (err: unknown) => {
    if (failed) return;
    failed = true;
    failure = err;
    void reader.cancel(err).catch(() => {});
  };
  const onAbort = () => fail(cancelled('the export was cancelled', signal?.reason));
  signal?.addEventListener('abort', onAbort, { once: true });
  const started = produce().catch(fail);
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      if (failed) return ctl.error(failure);
      const r = await reader.read().catch((err: unknown) => { fail(err); return { done: true as const, value: undefined }; });
      if (failed) return ctl.error(failure);
      if (r.done) {
        await started;
        signal?.removeEventListener('abort', onAbort);
        if (failed) return ctl.error(failure);
        return ctl.close();
      }
      ctl.enqueue(r.value);
    },
    async cancel(why) {
      signal?.removeEventListener('abort', onAbort);
      stop.abort(why);
      await reader.cancel(why).catch(() => {});
    },
  }, { highWaterMark: 0 });
}
