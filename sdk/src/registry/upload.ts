/**
 * Pushing one blob: skip it when the registry has it (HEAD), else mount it
 * from another repository of the same registry, else upload it: one PUT for
 * small blobs (POST for a session, then PUT ?digest= with the body, since
 * registry 2.8.2 ignores the body of a single-request POST ?digest=), or
 * PATCH chunks with Content-Range, following the new Location each time.
 * A failed upload is retried as a whole, from the HEAD check.
 */
import { dataLoss } from '../errors/index.js';
import type { Provider } from '../content/types.js';
import { repositoryScope } from './auth.js';
import { RegistryError } from './errors.js';
import { withRetry, throwIfAborted } from './retry.js';
import { locationOf, type RegistryTransport } from './transport.js';

export interface BlobPushOptions {
  signal?: AbortSignal;
  /** Repositories of the same registry to try to mount the blob from. */
  mountFrom?: string[];
  /** Blobs up to this size go up in one PUT; larger ones in chunks. Default 32 MiB. */
  monolithicMax?: number;
  /** The size of a PATCH chunk. Default 8 MiB. */
  chunkSize?: number;
  onBytes?: (sent: number) => void;
  /** Called once the upload (not a skip or mount) starts. */
  onUploading?: () => void;
}

export type BlobPushResult = 'exists' | 'mounted' | 'pushed';

const OCTET = 'application/octet-stream';

/** Whether the registry has the blob in `repository`. */
export async function blobExists(t: RegistryTransport, repository: string, blob: { digest: string; size: number }, signal?: AbortSignal, actions: Array<'pull' | 'push'> = ['pull']): Promise<boolean> {
  const res = await t.request({
    method: 'HEAD',
    url: `/v2/${repository}/blobs/${blob.digest}`,
    scopes: [repositoryScope(repository, actions)],
    ctx: { registry: t.domain, repository, kind: 'blob', ref: blob.digest, action: actions.includes('push') ? 'push' : 'pull' },
    allow: [404],
    ...(signal ? { signal } : {}),
  });
  await res.body?.cancel().catch(() => {});
  if (res.status === 404) return false;
  const length = res.headers.get('content-length');
  // A blob under the same digest but of another size is not ours; upload ours.
  return length === null || Number(length) === blob.size;
}

export async function pushBlob(t: RegistryTransport, repository: string, blob: { digest: string; size: number }, source: Provider, o: BlobPushOptions = {}): Promise<BlobPushResult> {
  return withRetry(() => pushBlobOnce(t, repository, blob, source, o), t.options.retry, o.signal);
}

async function pushBlobOnce(t: RegistryTransport, repository: string, blob: { digest: string; size: number }, source: Provider, o: BlobPushOptions): Promise<BlobPushResult> {
  if (await blobExists(t, repository, blob, o.signal, ['pull', 'push'])) return 'exists';
  const ctx = { registry: t.domain, repository, kind: 'upload' as const, ref: blob.digest, action: 'push' as const };
  const push = repositoryScope(repository, ['pull', 'push']);
  const common = { ...(o.signal ? { signal: o.signal } : {}), retry: false };

  let location: string | undefined;
  for (const from of o.mountFrom ?? []) {
    if (from === repository) continue;
    const q = new URLSearchParams({ mount: blob.digest, from });
    const res = await t.request({ method: 'POST', url: `/v2/${repository}/blobs/uploads/?${q}`, scopes: [push, repositoryScope(from, ['pull'])], ctx, ...common });
    await res.body?.cancel().catch(() => {});
    if (res.status === 201) return 'mounted';
    // 202: the mount failed (not there, or no access); the answer opened an upload session instead.
    location = locationOf(res, t.base);
    if (location) break;
  }
  if (!location) {
    const res = await t.request({ method: 'POST', url: `/v2/${repository}/blobs/uploads/`, scopes: [push], ctx, ...common });
    await res.body?.cancel().catch(() => {});
    location = locationOf(res, t.base);
    if (res.status !== 202 || !location) throw new RegistryError('INVALID_ARGUMENT', `registry ${t.domain} answered ${res.status} without an upload location when asked to start the upload of ${blob.digest} to ${repository}`, { status: res.status });
  }
  o.onUploading?.();

  const monolithicMax = o.monolithicMax ?? 32 << 20;
  if (blob.size <= monolithicMax) {
    const data = await source.readBytes(blob.digest);
    if (data.length !== blob.size) throw dataLoss(`local blob ${blob.digest} has ${data.length} bytes, its descriptor says ${blob.size}; the store is corrupt (run \`skiff system check\`)`);
    const res = await t.request({ method: 'PUT', url: withDigest(location, blob.digest), headers: { 'content-type': OCTET }, body: data, scopes: [push], ctx, ...common });
    await finished(res, t, blob.digest);
    o.onBytes?.(blob.size);
    return 'pushed';
  }

  // Chunked: PATCH each chunk at its offset, then PUT ?digest= to close.
  const chunkSize = Math.max(1, o.chunkSize ?? 8 << 20);
  const reader = source.readStream(blob.digest).getReader();
  let offset = 0;
  const buf = new Uint8Array(Math.min(chunkSize, blob.size));
  let filled = 0;
  const sendChunk = async () => {
    const body = buf.slice(0, filled);
    const end = offset + filled - 1;
    const res = await t.request({ method: 'PATCH', url: location!, headers: { 'content-type': OCTET, 'content-range': `${offset}-${end}` }, body, scopes: [push], ctx, ...common });
    await res.body?.cancel().catch(() => {});
    const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
    if (range && Number(range[1]) !== end) {
      throw new RegistryError('UNAVAILABLE', `registry ${t.domain} holds bytes 0-${range[1]} of ${blob.digest} after a chunk ending at ${end}`, { retryable: true });
    }
    location = locationOf(res, t.base) ?? location;
    offset += filled;
    filled = 0;
    o.onBytes?.(offset);
  };
  try {
    for (;;) {
      throwIfAborted(o.signal, `the push of ${blob.digest}`);
      const { done, value } = await reader.read();
      if (done) break;
      let v = value;
      while (v.length > 0) {
        const n = Math.min(v.length, buf.length - filled);
        buf.set(v.subarray(0, n), filled);
        filled += n;
        v = v.subarray(n);
        if (filled === buf.length) await sendChunk();
      }
    }
    if (filled > 0) await sendChunk();
  } finally {
    await reader.cancel().catch(() => {});
  }
  if (offset !== blob.size) throw dataLoss(`local blob ${blob.digest} has ${offset} bytes, its descriptor says ${blob.size}; the store is corrupt (run \`skiff system check\`)`);
  const res = await t.request({ method: 'PUT', url: withDigest(location, blob.digest), headers: { 'content-type': OCTET }, body: new Uint8Array(0), scopes: [push], ctx, ...common });
  await finished(res, t, blob.digest);
  return 'pushed';
}

/** Appends `digest=` to an upload Location, keeping its query (2.8.2's `_state`). */
export function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

async function finished(res: Response, t: RegistryTransport, digest: string): Promise<void> {
  await res.body?.cancel().catch(() => {});
  if (res.status !== 201 && res.status !== 204 && res.status !== 200) {
    throw new RegistryError('INVALID_ARGUMENT', `registry ${t.domain} answered ${res.status} to the end of the upload of ${digest}`, { status: res.status });
  }
  const said = res.headers.get('docker-content-digest');
  if (said && said !== digest) throw dataLoss(`registry ${t.domain} stored the upload of ${digest} as ${said}`);
}
