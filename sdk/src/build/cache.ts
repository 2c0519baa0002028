import type { Descriptor } from '../image/types.js';

/** A cache entry: the stage's config and layers after a step. */
export interface CacheEntry {
  config: Descriptor;
  layers: Descriptor[];
}

/**
 * Content digests of build-context files by their stamp (see
 * `ContextEntry.stamp`), so an unchanged file is not read and hashed again.
 */
export interface DigestCache {
  /** Every known digest by stamp (read once per build: there may be thousands of files). */
  all(): Promise<Readonly<Record<string, string>>>;
  /** Records digests learned during a build (called once, at its end). */
  put(entries: Array<[stamp: string, digest: string]>): Promise<void>;
}

/** Maps step keys (parent chain + instruction + source content) to results. */
export interface BuildCache {
  get(key: string): Promise<CacheEntry | undefined>;
  put(key: string, entry: CacheEntry): Promise<void>;
  /** Optional: digests of context files, for contexts that give stamps. */
  readonly digests?: DigestCache;
}

export class MemoryDigestCache implements DigestCache {
  private map: Record<string, string> = {};
  async all() { return this.map; }
  async put(entries: Array<[string, string]>) { this.map = { ...this.map, ...Object.fromEntries(entries) }; }
}

export class MemoryBuildCache implements BuildCache {
  private map = new Map<string, CacheEntry>();
  readonly digests = new MemoryDigestCache();
  async get(key: string) { return this.map.get(key); }
  async put(key: string, entry: CacheEntry) { this.map.set(key, entry); }
}
