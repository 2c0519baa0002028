/**
 * The OCI distribution client: manifests, blobs, uploads and tags of any
 * registry, one transport (auth, retries) per registry domain.
 */
import { SkiffError, dataLoss, invalidArgument, isSkiffError } from '../errors/index.js';
import type { BlobInfo, Ingester, Provider } from '../content/types.js';
import { concat } from '../content/util.js';
import { digestOf, isDigest } from '../image/digest.js';
import { parseReference, type Reference } from '../image/reference.js';
import type { Descriptor } from '../image/types.js';
import { repositoryScope } from './auth.js';
import { openBlobStream, type BlobReadOptions } from './blob-reader.js';
import { RegistryError, networkError } from './errors.js';
import { withRetry } from './retry.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, parseManifest, type FetchedManifest } from './manifest.js';
import { RegistryTransport, type RegistryRequest } from './transport.js';
import { blobExists, pushBlob, type BlobPushOptions, type BlobPushResult } from './upload.js';
import type { RegistryOptions } from './types.js';

/** A repository in a registry: `{ domain: 'localhost:5000', path: 'app' }` (a Reference fits). */
export interface Repository {
  domain: string;
  path: string;
}

export class RegistryClient {
  private transports = new Map<string, RegistryTransport>();

  constructor(readonly options: RegistryOptions = {}) {}

  transport(domain: string): RegistryTransport {
    let t = this.transports.get(domain);
    if (!t) {
      t = new RegistryTransport(domain, this.options);
      this.transports.set(domain, t);
    }
    return t;
  }

  /** GET /v2/: checks that the registry answers and that the credentials (if any) are accepted. */
  async ping(domain: string, signal?: AbortSignal): Promise<void> {
    const t = this.transport(domain);
    const res = await t.request({ method: 'GET', url: '/v2/', scopes: [], ctx: { registry: domain, kind: 'ping' }, ...(signal ? { signal } : {}) });
    await res.body?.cancel().catch(() => {});
  }

  /** Resolves a tag (or checks a digest) to the descriptor of its manifest or index, without the body. */
  async resolve(reference: Reference | string, signal?: AbortSignal): Promise<Descriptor> {
    const ref = typeof reference === 'string' ? parseReference(reference) : reference;
    const t = this.transport(ref.domain);
    const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
    const res = await t.request({
      method: 'HEAD',
      url: `/v2/${ref.path}/manifests/${tagOrDigest}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [repositoryScope(ref.path, ['pull'])],
      ctx: { registry: ref.domain, repository: ref.path, kind: 'manifest', ref: tagOrDigest },
      ...(signal ? { signal } : {}),
    });
    const digest = res.headers.get('docker-content-digest');
    const type = res.headers.get('content-type')?.split(';')[0]!.trim();
    const length = res.headers.get('content-length');
    if (digest && isDigest(digest) && type && length !== null && (!ref.digest || digest === ref.digest)) {
      return { mediaType: type, digest, size: Number(length) };
    }
    // Not enough in the headers: fetch the body and hash it.
    return (await this.getManifest(ref, { ...(signal ? { signal } : {}) })).descriptor;
  }

  /**
   * Fetches a manifest or index by tag or digest and verifies it: the sha256 of
   * the bytes must equal the digest asked for (or `expected`), and the
   * registry's Docker-Content-Digest when it sends one.
   */
  async getManifest(reference: Reference | string, o: { signal?: AbortSignal; expected?: Descriptor } = {}): Promise<FetchedManifest> {
    const ref = typeof reference === 'string' ? parseReference(reference) : reference;
    const t = this.transport(ref.domain);
    const tagOrDigest = o.expected?.digest ?? ref.digest ?? ref.tag ?? 'latest';
    const name = `${ref.domain}/${ref.path}${tagOrDigest.startsWith('sha256:') ? '@' : ':'}${tagOrDigest}`;
    const { res, bytes } = await fetchBody(t, {
      method: 'GET',
      url: `/v2/${ref.path}/manifests/${tagOrDigest}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [repositoryScope(ref.path, ['pull'])],
      ctx: { registry: ref.domain, repository: ref.path, kind: 'manifest', ref: tagOrDigest },
      ...(o.signal ? { signal: o.signal } : {}),
    }, MAX_MANIFEST_BYTES, `manifest ${name}`);
    const digest = digestOf(bytes);
    const wanted = o.expected?.digest ?? ref.digest;
    if (wanted && digest !== wanted) {
      throw dataLoss(`manifest ${name}: the registry sent content with digest ${digest}; refusing it, nothing was stored`);
    }
    const said = res.headers.get('docker-content-digest');
    if (said && said.startsWith('sha256:') && said !== digest) {
      throw dataLoss(`manifest ${name}: the registry says its digest is ${said} but the content hashes to ${digest}; refusing it, nothing was stored`);
    }
    if (o.expected && bytes.length !== o.expected.size) {
      throw dataLoss(`manifest ${name}: ${bytes.length} bytes, the index says ${o.expected.size}; refusing it`);
    }
    const { mediaType, content } = parseManifest(bytes, res.headers.get('content-type'), `manifest ${name}`);
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes, content };
  }

  /** A verifying, resuming stream of a blob (see openBlobStream). */
  blobStream(repo: Repository, blob: { digest: string; size: number }, o: BlobReadOptions = {}): ReadableStream<Uint8Array> {
    return openBlobStream(this.transport(repo.domain), repo.path, blob, o);
  }

  /**
   * Downloads a blob into an ingester; a blob that fails verification is never
   * stored. The ingester verifies the digest (its contract); this checks sizes
   * and resumes dropped connections.
   */
  async fetchBlob(repo: Repository, blob: { digest: string; size: number }, into: Ingester, o: BlobReadOptions = {}): Promise<BlobInfo> {
    const stream = this.blobStream(repo, blob, { verifyDigest: false, ...o });
    try {
      return await into.writeStream(stream, { digest: blob.digest, size: blob.size }, o.signal ? { signal: o.signal } : {});
    } catch (err) {
      if (isSkiffError(err, 'DATA_LOSS') && !err.message.includes(repo.domain)) {
        throw dataLoss(`blob ${blob.digest} from ${repo.domain}/${repo.path}: ${err.message}; the registry or a proxy sent corrupt content, nothing was stored`, err);
      }
      throw err;
    }
  }

  hasBlob(repo: Repository, blob: { digest: string; size: number }, signal?: AbortSignal): Promise<boolean> {
    return blobExists(this.transport(repo.domain), repo.path, blob, signal);
  }

  /** Uploads a blob unless the registry has it; see upload.ts for the protocol steps. */
  pushBlob(repo: Repository, blob: { digest: string; size: number }, source: Provider, o: BlobPushOptions = {}): Promise<BlobPushResult> {
    return pushBlob(this.transport(repo.domain), repo.path, blob, source, o);
  }

  /** PUTs manifest bytes exactly as given, under a tag or their digest; returns their descriptor. */
  async putManifest(repo: Repository, tagOrDigest: string, mediaType: string, bytes: Uint8Array, signal?: AbortSignal): Promise<Descriptor> {
    const t = this.transport(repo.domain);
    const digest = digestOf(bytes);
    if (tagOrDigest.startsWith('sha256:') && tagOrDigest !== digest) {
      throw invalidArgument(`cannot push a manifest with digest ${digest} as ${tagOrDigest}`);
    }
    const res = await t.request({
      method: 'PUT',
      url: `/v2/${repo.path}/manifests/${tagOrDigest}`,
      headers: { 'content-type': mediaType },
      body: bytes,
      scopes: [repositoryScope(repo.path, ['pull', 'push'])],
      ctx: { registry: repo.domain, repository: repo.path, kind: 'manifest', ref: tagOrDigest, action: 'push' },
      ...(signal ? { signal } : {}),
    });
    await res.body?.cancel().catch(() => {});
    if (res.status !== 201 && res.status !== 200) {
      throw new RegistryError('INVALID_ARGUMENT', `registry ${repo.domain} answered ${res.status} to the push of manifest ${tagOrDigest} to ${repo.path}`, { status: res.status });
    }
    const said = res.headers.get('docker-content-digest');
    if (said && said.startsWith('sha256:') && said !== digest) {
      throw dataLoss(`registry ${repo.domain} stored manifest ${tagOrDigest} of ${repo.path} as ${said}, not ${digest}; it changed the bytes`);
    }
    return { mediaType, digest, size: bytes.length };
  }

  /** All tags of a repository, following the Link header's pages. */
  async listTags(repo: Repository, o: { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    const t = this.transport(repo.domain);
    const tags: string[] = [];
    let url: string | undefined = `/v2/${repo.path}/tags/list${o.pageSize ? `?n=${o.pageSize}` : ''}`;
    for (let page = 0; url; page++) {
      if (page > 10_000) throw dataLoss(`registry ${repo.domain} keeps sending tag pages for ${repo.path}; giving up`);
      const { res, bytes } = await fetchBody(t, {
        method: 'GET',
        url,
        scopes: [repositoryScope(repo.path, ['pull'])],
        ctx: { registry: repo.domain, repository: repo.path, kind: 'tags' },
        ...(o.signal ? { signal: o.signal } : {}),
      }, 16 << 20, `the tag list of ${repo.path}`);
      let body: { tags?: string[] | null };
      try {
        body = JSON.parse(new TextDecoder().decode(bytes)) as typeof body;
      } catch (err) {
        throw dataLoss(`registry ${repo.domain} sent a tag list for ${repo.path} that is not JSON`, err);
      }
      tags.push(...(body.tags ?? []));
      const next = nextLink(res.headers.get('link'));
      url = next ? new URL(next, res.url || t.url('/')).toString() : undefined;
    }
    return tags;
  }
}

/** The `rel="next"` target of a Link header: `</v2/x/tags/list?n=2&last=b>; rel="next"`. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(^|;)\s*rel="?next"?\s*(;|$)/i.test(m[2]!)) return m[1];
  }
  return undefined;
}

/** A request and its whole (bounded) body, retried as one when the body breaks off. */
async function fetchBody(t: RegistryTransport, r: RegistryRequest, max: number, what: string): Promise<{ res: Response; bytes: Uint8Array }> {
  return withRetry(async () => {
    const res = await t.request({ ...r, retry: false });
    try {
      return { res, bytes: await readLimited(res, max, what) };
    } catch (err) {
      if (err instanceof SkiffError || r.signal?.aborted) throw err;
      throw networkError(err, t.domain, t.url(r.url));
    }
  }, t.options.retry, r.signal);
}

async function readLimited(res: Response, max: number, what: string): Promise<Uint8Array> {
  const length = res.headers.get('content-length');
  if (length !== null && Number(length) > max) {
    await res.body?.cancel().catch(() => {});
    throw dataLoss(`${what} is ${length} bytes, more than the ${max} allowed`);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw dataLoss(`${what} is more than the ${max} bytes allowed`);
    }
    parts.push(value);
  }
  return concat(parts, total);
}
