/**
 * IndexedDbVolumeStore: named volumes that outlive the page, kept in the
 * browser's IndexedDB.
 *
 * A container's file system is synchronous and IndexedDB is not, so a volume
 * is held in memory while the page uses it (a MemoryFs, loaded whole when it
 * is first mounted) and written back after every burst of changes: the
 * changes made by a container (in-process, or reported by its worker as they
 * happen) are saved a moment later, all together, in one transaction. `flush()`
 * resolves when everything changed so far is saved: await it before the page
 * may go away (a reload right after a run).
 *
 * A volume is saved whole, as one record: right for the small volumes of a
 * demo or a test, not for gigabytes.
 */
import { checkVolumeName, notFound, randomVolumeName, unavailable, type FsLike, type VolumeHandle, type VolumeInfo, type VolumeStore } from '@skiff/sdk';
import { MemoryFs, type FsSnapshot } from '../worker/memory-fs.js';

const INFO = 'volumes';
const DATA = 'data';

interface Loaded {
  fs: MemoryFs;
  dirty: boolean;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((res, rej) => {
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((res, rej) => {
    tx.oncomplete = () => res();
    tx.onerror = () => rej(tx.error);
    tx.onabort = () => rej(tx.error ?? new Error('transaction aborted'));
  });
}

export interface IndexedDbVolumeStoreOptions {
  /** The database name (default `skiff-volumes`): two stores with one name share their volumes. */
  database?: string;
  /** How long after a change the volume is saved, in ms (default 0: at the next turn of the event loop). */
  saveDelayMs?: number;
  /** The IndexedDB factory (default: globalThis.indexedDB). */
  indexedDB?: IDBFactory;
}

export class IndexedDbVolumeStore implements VolumeStore {
  private readonly name: string;
  private readonly delay: number;
  private readonly idb: IDBFactory;
  private db: Promise<IDBDatabase> | undefined;
  private readonly loaded = new Map<string, Promise<Loaded>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private saving: Promise<void> = Promise.resolve();
  private failure: unknown;
  /** Saves so far (one per burst of changes), for tests and status displays. */
  saves = 0;
  /** Called after each save with the volumes it wrote. */
  onSaved: ((names: string[]) => void) | undefined;

  constructor(options: IndexedDbVolumeStoreOptions = {}) {
    this.name = options.database ?? 'skiff-volumes';
    this.delay = options.saveDelayMs ?? 0;
    const idb = options.indexedDB ?? globalThis.indexedDB;
    if (!idb) throw unavailable('IndexedDB is not available here: browser volumes need it (use MemoryVolumeStore from @skiff/sdk/memory elsewhere)');
    this.idb = idb;
  }

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise<IDBDatabase>((res, rej) => {
      const r = this.idb.open(this.name, 1);
      r.onupgradeneeded = () => {
        r.result.createObjectStore(INFO, { keyPath: 'name' });
        r.result.createObjectStore(DATA);
      };
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(unavailable(`cannot open the IndexedDB database "${this.name}": ${r.error?.message}`));
      r.onblocked = () => rej(unavailable(`the IndexedDB database "${this.name}" is blocked by another tab holding an older version`));
    });
    return this.db;
  }

  async create(name?: string, options: { labels?: Record<string, string>; anonymous?: boolean } = {}): Promise<VolumeInfo> {
    const n = name ?? randomVolumeName();
    checkVolumeName(n);
    const db = await this.open();
    const tx = db.transaction([INFO, DATA], 'readwrite');
    const existing = await request(tx.objectStore(INFO).get(n)) as VolumeInfo | undefined;
    if (existing) {
      await done(tx);
      return existing;
    }
    const info: VolumeInfo = { name: n, driver: 'local', mountpoint: `indexeddb://${this.name}/${n}`, createdAt: new Date().toISOString(), labels: options.labels ?? {}, anonymous: options.anonymous ?? name === undefined };
    tx.objectStore(INFO).put(info);
    tx.objectStore(DATA).put(new MemoryFs().snapshot(), n);
    await done(tx);
    return info;
  }

  async inspect(name: string): Promise<VolumeInfo> {
    const db = await this.open();
    const info = await request(db.transaction(INFO).objectStore(INFO).get(name)) as VolumeInfo | undefined;
    if (!info) throw notFound(`no such volume: ${name}`);
    return info;
  }

  async list(): Promise<VolumeInfo[]> {
    const db = await this.open();
    return await request(db.transaction(INFO).objectStore(INFO).getAll()) as VolumeInfo[];
  }

  async remove(name: string): Promise<void> {
    await this.inspect(name);
    await this.flush();
    this.loaded.delete(name);
    const db = await this.open();
    const tx = db.transaction([INFO, DATA], 'readwrite');
    tx.objectStore(INFO).delete(name);
    tx.objectStore(DATA).delete(name);
    await done(tx);
  }

  async handle(name: string): Promise<VolumeHandle> {
    await this.inspect(name);
    const v = await this.load(name);
    return { name, fs: v.fs as unknown as FsLike, fsRoot: '/' };
  }

  /** Resolves when every change made so far is saved. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.queueSave();
    }
    await this.saving;
    const failure = this.failure;
    this.failure = undefined;
    if (failure) throw failure;
  }

  private queueSave(): void {
    this.saving = this.saving.then(() => this.save()).catch((err) => void (this.failure = err));
  }

  private load(name: string): Promise<Loaded> {
    let p = this.loaded.get(name);
    if (!p) {
      p = (async () => {
        const db = await this.open();
        const snap = await request(db.transaction(DATA).objectStore(DATA).get(name)) as FsSnapshot | undefined;
        const v: Loaded = { fs: snap ? MemoryFs.fromSnapshot(snap) : new MemoryFs(), dirty: false };
        v.fs.onChange = () => this.changed(v);
        return v;
      })();
      this.loaded.set(name, p);
      p.catch(() => this.loaded.delete(name));
    }
    return p;
  }

  private changed(v: Loaded): void {
    v.dirty = true;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.queueSave();
    }, this.delay);
  }

  private async save(): Promise<void> {
    const dirty: Array<[string, Loaded]> = [];
    for (const [name, p] of this.loaded) {
      const v = await p.catch(() => undefined);
      if (v?.dirty) dirty.push([name, v]);
    }
    if (!dirty.length) return;
    const db = await this.open();
    const tx = db.transaction([INFO, DATA], 'readwrite');
    for (const [name, v] of dirty) {
      v.dirty = false;
      tx.objectStore(DATA).put(v.fs.snapshot(), name);
    }
    try {
      await done(tx);
    } catch (err) {
      for (const [, v] of dirty) v.dirty = true;
      throw unavailable(`saving volumes ${dirty.map(([n]) => n).join(', ')} to IndexedDB failed: ${(err as Error)?.message}`, err);
    }
    this.saves++;
    this.onSaved?.(dirty.map(([n]) => n));
  }
}
