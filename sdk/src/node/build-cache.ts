import { readFileSync, statSync } from 'node:fs';
import type { BuildCache, CacheEntry, DigestCache } from '../build/cache.js';
import { writeFileAtomicSync } from './atomic.js';
import { withLock } from './lock.js';

/** A JSON object in a file, parsed once, and again only when another writer changed it. */
class JsonFile<T> {
  private cached?: { mtimeMs: number; size: number; value: Record<string, T> };
  constructor(readonly file: string) {}

  load(): Record<string, T> {
    try {
      const st = statSync(this.file);
      if (this.cached && this.cached.mtimeMs === st.mtimeMs && this.cached.size === st.size) return this.cached.value;
      const value = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, T>;
      this.cached = { mtimeMs: st.mtimeMs, size: st.size, value };
      return value;
    } catch {
      return {};
    }
  }

  async update(fn: (all: Record<string, T>) => Record<string, T>): Promise<void> {
    await withLock(`${this.file}.lock`, () => {
      writeFileAtomicSync(this.file, JSON.stringify(fn({ ...this.load() })));
      delete this.cached;
    });
  }
}

/** At most this many context-file digests are kept; the oldest go first. */
const MAX_DIGESTS = 200_000;

class FsDigestCache implements DigestCache {
  private readonly json: JsonFile<string>;
  constructor(file: string) { this.json = new JsonFile(file); }

  async all(): Promise<Readonly<Record<string, string>>> {
    return this.json.load();
  }

  async put(entries: Array<[string, string]>): Promise<void> {
    if (entries.length === 0) return;
    await this.json.update((all) => {
      for (const [s, d] of entries) all[s] = d;
      const keys = Object.keys(all);
      for (const k of keys.slice(0, Math.max(0, keys.length - MAX_DIGESTS))) delete all[k];
      return all;
    });
  }
}

/**
 * The build cache as one JSON file beside the store (`<root>/build-cache.json`),
 * and the context-file digests in another (`build-cache-digests.json`).
 */
export class FsBuildCache implements BuildCache {
  private readonly json: JsonFile<CacheEntry>;
  readonly digests: DigestCache;

  constructor(file: string) {
    this.json = new JsonFile(file);
    this.digests = new FsDigestCache(file.replace(/\.json$/, '') + '-digests.json');
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    return this.json.load()[key];
  }

  async put(key: string, entry: CacheEntry): Promise<void> {
    await this.json.update((all) => { all[key] = entry; return all; });
  }
}
