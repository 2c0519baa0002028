/**
 * ADD of a URL: the file is downloaded on every build (as docker does) and
 * its digest goes into the cache key, so a changed remote file rebuilds the
 * step. It is never extracted; its mtime is the server's Last-Modified.
 */
import { invalidArgument, unavailable, unsupported, SkiffError } from '../errors/index.js';
import { digestOf } from '../image/digest.js';

export interface Download {
  data: Uint8Array;
  digest: string;
  /** Seconds since the epoch, from Last-Modified. */
  mtime?: number;
  /** The last segment of the URL's path, for a destination directory. */
  name?: string;
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** Git sources (`git@...`, `git://...`, `https://.../repo.git#ref`), which skiff does not clone. */
export function isGitSource(source: string): boolean {
  return /^git@|^git:\/\/|^ssh:\/\//i.test(source) || (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && /\.git(#.*)?$/.test(source));
}

export function refuseGit(source: string): never {
  throw unsupported(`ADD ${source}: git sources are not supported by skiff builds; clone the repository into the build context and COPY it`);
}

/** Downloads `url`, verifying `checksum` (`sha256:<hex>`) when given. */
export async function download(url: string, checksum: string | undefined, signal?: AbortSignal): Promise<Download> {
  if (checksum !== undefined && !/^sha256:[a-f0-9]{64}$/.test(checksum)) {
    throw invalidArgument(`--checksum=${checksum}: expected sha256: followed by 64 lowercase hex digits`);
  }
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', ...(signal ? { signal } : {}) });
  } catch (err) {
    if (err instanceof SkiffError) throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw unavailable(`ADD ${url}: the download failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`, err);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw unavailable(`ADD ${url}: the server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  }
  const data = new Uint8Array(await res.arrayBuffer());
  const digest = digestOf(data);
  if (checksum !== undefined && digest !== checksum) {
    throw invalidArgument(`ADD ${url}: the download's digest ${digest} does not match --checksum=${checksum}`);
  }
  const out: Download = { data, digest };
  const lm = res.headers.get('last-modified');
  const t = lm ? Date.parse(lm) : NaN;
  if (!Number.isNaN(t)) out.mtime = Math.floor(t / 1000);
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  if (name) out.name = name;
  return out;
}
