/**
 * Pushing an image from a layout: every blob it reaches (for an index, every
 * child manifest's config and layers), then the child manifests by digest,
 * then the top manifest or index under its tag, with the exact stored bytes so
 * the digests stay the same.
 */
import { cancelled, dataLoss, failedPrecondition, invalidArgument, isSkiffError, notFound } from '../errors/index.js';
import type { Provider, RefStore } from '../content/types.js';
import { digestOf } from '../image/digest.js';
import { isIndexMediaType, isManifestMediaType } from '../image/media-types.js';
import { formatPlatform } from '../image/platform.js';
import { formatReference, parseReference } from '../image/reference.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../image/types.js';
import { RegistryClient } from './client.js';
import { limiter } from './limit.js';
import { parseManifest } from './manifest.js';
import { BlobProgress } from './progress.js';
import type { ProgressListener, RegistryOptions } from './types.js';

export interface PushOptions extends RegistryOptions {
  layout: Provider & RefStore;
  /** The local image name, e.g. `localhost:5000/app:1` or `app:1`. */
  reference: string;
  /** The name to push as, when it differs from the local one. */
  target?: string;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Blobs uploaded at once. Default 3. */
  concurrency?: number;
  client?: RegistryClient;
  /**
   * Repositories of the target registry to mount blobs from instead of
   * uploading them. Default: the local name's repository when it is on the
   * same registry as the target.
   */
  mountFrom?: string[];
  /** Blobs up to this size go in one PUT, larger ones in chunks. Default 32 MiB. */
  monolithicMax?: number;
  /** PATCH chunk size for larger blobs. Default 8 MiB. */
  chunkSize?: number;
}

export interface PushResult {
  /** The normalized remote name. */
  name: string;
  target: Descriptor;
  manifests: Descriptor[];
}

interface LocalManifest {
  descriptor: Descriptor;
  bytes: Uint8Array;
  content: ImageManifest | ImageIndex;
}

async function readLocal(layout: Provider, d: Descriptor, what: string): Promise<LocalManifest> {
  const bytes = await layout.readBytes(d.digest);
  if (digestOf(bytes) !== d.digest || bytes.length !== d.size) {
    throw dataLoss(`${what} (${d.digest}) in the store does not match its digest; the store is corrupt (run \`skiff system check\`)`);
  }
  const { content } = parseManifest(bytes, d.mediaType, what);
  return { descriptor: d, bytes, content };
}

export async function pushImage(o: PushOptions): Promise<PushResult> {
  const localRef = parseReference(o.reference);
  const localName = formatReference(localRef);
  const remote = parseReference(o.target ?? o.reference);
  const client = o.client ?? new RegistryClient(o);
  const repo = { domain: remote.domain, path: remote.path };
  const top = await o.layout.getRef(localName);
  if (!top) throw notFound(`No such image: ${o.reference}; tag an image with that name first (skiff tag)`);
  if (remote.digest && remote.digest !== top.digest) {
    throw invalidArgument(`cannot push ${localName} (${top.digest}) as ${formatReference(remote)}: the digests differ`);
  }
  const name = formatReference(remote);
  const ac = new AbortController();
  const onAbort = () => ac.abort(o.signal?.reason);
  if (o.signal?.aborted) throw cancelled(`the push of ${name} was cancelled`, o.signal.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const topManifest = await readLocal(o.layout, top, `image ${localName}`);
    const manifests: LocalManifest[] = [];
    if (isIndexMediaType(top.mediaType)) {
      const index = topManifest.content as ImageIndex;
      const missing: string[] = [];
      for (const d of index.manifests) {
        if (!isManifestMediaType(d.mediaType)) continue;
        if (!(await o.layout.info(d.digest))) {
          missing.push(d.platform ? formatPlatform(d.platform) : d.digest);
          continue;
        }
        manifests.push(await readLocal(o.layout, d, `manifest ${d.digest} of ${localName}`));
      }
      if (missing.length) {
        throw failedPrecondition(`${localName} is a multi-platform image and the store lacks its ${missing.join(', ')} manifest(s); pull all its platforms first (skiff pull --platform all), since the registry needs every manifest the index names`);
      }
    } else {
      manifests.push(topManifest);
    }

    const mountFrom = o.mountFrom ?? (localRef.domain === remote.domain && localRef.path !== remote.path ? [localRef.path] : []);
    await pushBlobs(client, repo, o, manifests, mountFrom, ac);

    const pushed: Descriptor[] = [];
    for (const m of manifests) {
      if (m === topManifest) continue;
      pushed.push(await client.putManifest(repo, m.descriptor.digest, m.descriptor.mediaType, m.bytes, ac.signal));
    }
    const target = await client.putManifest(repo, remote.tag ?? top.digest, top.mediaType, topManifest.bytes, ac.signal);
    return { name, target, manifests: pushed.length ? pushed : [target] };
  } catch (err) {
    if (o.signal?.aborted && !isSkiffError(err, 'CANCELLED')) throw cancelled(`the push of ${name} was cancelled`, o.signal.reason);
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}

async function pushBlobs(client: RegistryClient, repo: { domain: string; path: string }, o: PushOptions, manifests: LocalManifest[], mountFrom: string[], ac: AbortController): Promise<void> {
  const blobs = new Map<string, { desc: Descriptor; kind: 'layer' | 'config' }>();
  for (const m of manifests) {
    const man = m.content as ImageManifest;
    if (!blobs.has(man.config.digest)) blobs.set(man.config.digest, { desc: man.config, kind: 'config' });
    for (const l of man.layers) if (!blobs.has(l.digest)) blobs.set(l.digest, { desc: l, kind: 'layer' });
  }
  for (const { desc } of blobs.values()) {
    const have = await o.layout.info(desc.digest);
    if (!have) throw failedPrecondition(`blob ${desc.digest} of the image is not in the store; pull the image again before pushing it`);
  }
  const progress = new Map([...blobs].map(([d, b]) => [d, new BlobProgress(o.onProgress, d, b.kind, b.desc.size)]));
  for (const p of progress.values()) p.status('waiting', 0);
  const run = limiter(Math.max(1, o.concurrency ?? 3));
  let failed = false;
  const tasks = [...blobs.values()].map(({ desc }) => run(async () => {
    const p = progress.get(desc.digest)!;
    if (ac.signal.aborted) throw cancelled('the push was cancelled');
    const result = await client.pushBlob(repo, desc, o.layout, {
      signal: ac.signal,
      mountFrom,
      ...(o.monolithicMax !== undefined ? { monolithicMax: o.monolithicMax } : {}),
      ...(o.chunkSize !== undefined ? { chunkSize: o.chunkSize } : {}),
      onUploading: () => p.status('pushing', 0),
      onBytes: (n) => p.bytes('pushing', n),
    });
    if (result === 'exists') p.status('exists', desc.size);
    else if (result === 'mounted') p.status('mounted', desc.size);
    else p.status('done', desc.size);
  }).catch((err: unknown) => {
    if (!failed) {
      failed = true;
      ac.abort(err);
    }
    throw err;
  }));
  const results = await Promise.allSettled(tasks);
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const first = errors.find((e) => !isSkiffError(e, 'CANCELLED')) ?? errors[0];
  if (first !== undefined) throw first;
}
