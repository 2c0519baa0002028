import { readFileSync, statSync } from 'node:fs';
import type { BuildCache, CacheEntry } from '../build/cache.js';
import { writeFileAtomicSync } from './atomic.js';
import { withLock } from './lock.js';

/** The build cache as one JSON file beside the store (`<root>/build-cache.json`). */
export class FsBuildCache implements BuildCache {
  constructor(private readonly file: string) {}

  private cached?: { mtimeMs: number; size: number; entries: Record<string, CacheEntry> };

  /** The file parsed once, and again only when another writer changed it. */
  private load(): Record<string, CacheEntry> {
    try {
      const st = statSync(this.file);
      if (this.cached && this.cached.mtimeMs === st.mtimeMs && this.cached.size === st.size) return this.cached.entries;
      const entries = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, CacheEntry>;
      this.cached = { mtimeMs: st.mtimeMs, size: st.size, entries };
      return entries;
    } catch {
      return {};
    }
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    return this.load()[key];
  }

  async put(key: string, entry: CacheEntry): Promise<void> {
    await withLock(`${this.file}.lock`, () => {
      const all = { ...this.load(), [key]: entry };
      writeFileAtomicSync(this.file, JSON.stringify(all));
      delete this.cached;
    });
  }
}
