/**
 * Pulling an image into a layout: the index (when there is one), the manifests
 * of the wanted platforms, their configs and layers. Blobs are fetched a few at
 * a time, verified as they stream, and skipped when the layout has them. The
 * order of writes keeps the layout valid at every moment: blobs first, then
 * manifests, then the index, and the name last, so a killed pull leaves only
 * whole, verified blobs and the next pull finishes the job.
 */
import { cancelled, isSkiffError, notFound } from '../errors/index.js';
import type { ImageLayout } from '../content/types.js';
import { isIndexMediaType, isManifestMediaType } from '../image/media-types.js';
import { formatPlatform, platformMatches, WASI_PLATFORM } from '../image/platform.js';
import { formatReference, parseReference } from '../image/reference.js';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../image/types.js';
import { RegistryClient } from './client.js';
import { limiter } from './limit.js';
import type { FetchedManifest } from './manifest.js';
import { BlobProgress } from './progress.js';
import type { ProgressListener, RegistryOptions } from './types.js';

export interface PullOptions extends RegistryOptions {
  /** Where the image goes. */
  layout: ImageLayout;
  /** `NAME[:TAG|@DIGEST]` as a user types it. */
  reference: string;
  /**
   * Which manifests of an index to fetch: the first match of each platform.
   * Default: what skiff can run here (wasip1/wasm, and linux/ARCH on Linux).
   * `'all'` fetches every platform.
   */
  platforms?: Platform[] | 'all';
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Blobs downloaded at once. Default 3. */
  concurrency?: number;
  /** A client to reuse (its token cache); else one is made from these options. */
  client?: RegistryClient;
}

export interface PullResult {
  /** The normalized name the image is stored under, e.g. `localhost:5000/app:1`. */
  name: string;
  /** What the name points at: an index or a manifest. */
  target: Descriptor;
  /** The manifests fetched (one per platform). */
  manifests: Descriptor[];
}

const NODE_ARCH: Record<string, Platform> = {
  x64: { os: 'linux', architecture: 'amd64' },
  arm64: { os: 'linux', architecture: 'arm64' },
  arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
  ia32: { os: 'linux', architecture: '386' },
  ppc64: { os: 'linux', architecture: 'ppc64le' },
  s390x: { os: 'linux', architecture: 's390x' },
  riscv64: { os: 'linux', architecture: 'riscv64' },
};

/** What skiff can run where this code runs: linux/ARCH under Node on Linux, and WASI everywhere. */
export function defaultPlatforms(): Platform[] {
  const proc = (globalThis as { process?: { platform?: string; arch?: string } }).process;
  const linux = proc?.platform === 'linux' && proc.arch ? NODE_ARCH[proc.arch] : undefined;
  return linux ? [linux, WASI_PLATFORM] : [WASI_PLATFORM];
}

/** Picks the manifests of an index to fetch: the first match of each wanted platform, in index order. */
export function chooseManifests(index: ImageIndex, platforms: Platform[] | 'all'): Descriptor[] {
  const manifests = index.manifests.filter((m) => isManifestMediaType(m.mediaType) || isIndexMediaType(m.mediaType));
  if (platforms === 'all') return manifests.filter((m) => m.platform?.os !== 'unknown');
  const chosen = new Set<Descriptor>();
  for (const p of platforms) {
    const hit = manifests.find((m) => platformMatches(p, m.platform));
    if (hit) chosen.add(hit);
  }
  return manifests.filter((m) => chosen.has(m));
}

export async function pullImage(o: PullOptions): Promise<PullResult> {
  const ref = parseReference(o.reference);
  const name = formatReference(ref);
  const repo = { domain: ref.domain, path: ref.path };
  const client = o.client ?? new RegistryClient(o);
  const layout = o.layout;
  const platforms = o.platforms ?? defaultPlatforms();
  // One failed blob stops the others; the caller's signal stops everything.
  const ac = new AbortController();
  const onAbort = () => ac.abort(o.signal?.reason);
  if (o.signal?.aborted) throw cancelled(`the pull of ${name} was cancelled`, o.signal.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = ac.signal;
  try {
    const top = await client.getManifest(ref, { signal });
    const manifests: FetchedManifest[] = [];
    if (isIndexMediaType(top.descriptor.mediaType)) {
      const index = top.content as ImageIndex;
      const chosen = chooseManifests(index, platforms);
      if (chosen.length === 0) {
        const have = index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : m.digest)).join(', ');
        const want = platforms === 'all' ? 'any platform' : platforms.map(formatPlatform).join(' or ');
        throw notFound(`${name} has no image for ${want}; it has: ${have || 'nothing'}`);
      }
      manifests.push(...(await fetchManifests(client, ref, chosen, signal)));
    } else {
      manifests.push(top);
    }

    await fetchBlobs(client, repo, layout, manifests, o.concurrency ?? 3, ac, o.onProgress);

    for (const m of manifests) await layout.writeBytes(m.bytes, { digest: m.descriptor.digest, size: m.descriptor.size });
    if (top !== manifests[0] || manifests.length > 1) await layout.writeBytes(top.bytes, { digest: top.descriptor.digest, size: top.descriptor.size });
    if (signal.aborted) throw cancelled(`the pull of ${name} was cancelled`, signal.reason);
    await layout.setRef(name, top.descriptor);
    return { name, target: top.descriptor, manifests: manifests.map((m) => m.descriptor) };
  } catch (err) {
    if (o.signal?.aborted && !isSkiffError(err, 'CANCELLED')) throw cancelled(`the pull of ${name} was cancelled; whole blobs stay in the store, nothing partial`, o.signal.reason);
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** Child manifests of an index (an index inside an index is followed one level). */
async function fetchManifests(client: RegistryClient, ref: { domain: string; path: string }, chosen: Descriptor[], signal: AbortSignal): Promise<FetchedManifest[]> {
  const out: FetchedManifest[] = [];
  for (const d of chosen) {
    const m = await client.getManifest({ domain: ref.domain, path: ref.path, digest: d.digest }, { signal, expected: d });
    if (isIndexMediaType(m.descriptor.mediaType)) {
      const nested = (m.content as ImageIndex).manifests.filter((x) => isManifestMediaType(x.mediaType));
      // Nested indexes are stored too, so the layout holds everything the top index reaches.
      for (const x of nested) out.push(await client.getManifest({ domain: ref.domain, path: ref.path, digest: x.digest }, { signal, expected: x }));
      out.push(m);
    } else {
      out.push(m);
    }
  }
  return out;
}

async function fetchBlobs(client: RegistryClient, repo: { domain: string; path: string }, layout: ImageLayout, manifests: FetchedManifest[], concurrency: number, ac: AbortController, onProgress?: ProgressListener): Promise<void> {
  const signal = ac.signal;
  const blobs = new Map<string, { desc: Descriptor; kind: 'layer' | 'config' }>();
  for (const m of manifests) {
    if (!isManifestMediaType(m.descriptor.mediaType)) continue;
    const man = m.content as ImageManifest;
    if (!blobs.has(man.config.digest)) blobs.set(man.config.digest, { desc: man.config, kind: 'config' });
    for (const l of man.layers) if (!blobs.has(l.digest)) blobs.set(l.digest, { desc: l, kind: 'layer' });
  }
  const progress = new Map([...blobs].map(([d, b]) => [d, new BlobProgress(onProgress, d, b.kind, b.desc.size)]));
  for (const p of progress.values()) p.status('waiting', 0);
  const run = limiter(Math.max(1, concurrency));
  let failed = false;
  const tasks = [...blobs.values()].map(({ desc }) => run(async () => {
    const p = progress.get(desc.digest)!;
    if (signal.aborted || failed) throw cancelled('the pull was cancelled');
    if (await layout.info(desc.digest)) {
      p.status('exists', desc.size);
      return;
    }
    p.status('downloading', 0);
    // A signal of the blob's own, relayed from the pull's: the reader, the
    // transport and the store each listen to it, so the pull's signal gets one
    // listener per blob in flight, not three (Node warns past ten).
    const own = new AbortController();
    const relay = () => own.abort(signal.reason);
    signal.addEventListener('abort', relay, { once: true });
    if (signal.aborted) relay(); // aborted while we looked in the store
    try {
      await client.fetchBlob(repo, desc, layout, {
        signal: own.signal,
        onBytes: (n) => (n === desc.size ? p.status('verifying', n) : p.bytes('downloading', n)),
      });
    } finally {
      signal.removeEventListener('abort', relay);
    }
    p.status('done', desc.size);
  }).catch((err: unknown) => {
    if (!failed) {
      failed = true;
      ac.abort(err);
    }
    throw err;
  }));
  const results = await Promise.allSettled(tasks);
  // Report the error that started it, not the cancellations it caused.
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const first = errors.find((e) => !isSkiffError(e, 'CANCELLED')) ?? errors[0];
  if (first !== undefined) throw first;
}
