import type { Descriptor } from '../image/types.js';

/** A cache entry: the stage's config and layers after a step. */
export interface CacheEntry {
  config: Descriptor;
  layers: Descriptor[];
}

/** Maps step keys (parent chain + instruction + source content) to results. */
export interface BuildCache {
  get(key: string): Promise<CacheEntry | undefined>;
  put(key: string, entry: CacheEntry): Promise<void>;
}

export class MemoryBuildCache implements BuildCache {
  private map = new Map<string, CacheEntry>();
  async get(key: string) { return this.map.get(key); }
  async put(key: string, entry: CacheEntry) { this.map.set(key, entry); }
}
