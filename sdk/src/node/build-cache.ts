import { readFileSync } from 'node:fs';
import type { BuildCache, CacheEntry } from '../build/cache.js';
import { writeFileAtomicSync } from './atomic.js';
import { withLock } from './lock.js';

/** The build cache as one JSON file beside the store (`<root>/build-cache.json`). */
export class FsBuildCache implements BuildCache {
  constructor(private readonly file: string) {}

  private load(): Record<string, CacheEntry> {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, CacheEntry>;
    } catch {
      return {};
    }
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    return this.load()[key];
  }

  async put(key: string, entry: CacheEntry): Promise<void> {
    await withLock(`${this.file}.lock`, () => {
      const all = this.load();
      all[key] = entry;
      writeFileAtomicSync(this.file, JSON.stringify(all));
    });
  }
}
