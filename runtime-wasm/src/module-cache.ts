/**
 * Compiled WebAssembly modules, cached so that a second container of an image
 * starts without compiling. A module is keyed by where its bytes live: the
 * layer (diffID) and path when the file system can say, else the file's inode
 * object, which the layer index shares between all containers of the image.
 * A file the container rewrote has a new inode and compiles afresh. A memory
 * limit changes the binary, so it is part of the key.
 */

export type ModuleKey = string | object;

export class ModuleCache {
  private readonly byName = new Map<string, Map<number, Promise<WebAssembly.Module>>>();
  private readonly byObject = new WeakMap<object, Map<number, Promise<WebAssembly.Module>>>();
  /** Modules compiled so far (cache misses). */
  compiles = 0;

  constructor(private readonly maxNamed = 256) {}

  private slot(key: ModuleKey): Map<number, Promise<WebAssembly.Module>> {
    if (typeof key === 'string') {
      let m = this.byName.get(key);
      if (!m) {
        if (this.byName.size >= this.maxNamed) this.byName.delete(this.byName.keys().next().value!);
        m = new Map();
        this.byName.set(key, m);
      }
      return m;
    }
    let m = this.byObject.get(key);
    if (!m) {
      m = new Map();
      this.byObject.set(key, m);
    }
    return m;
  }

  /**
   * The module for `key` under memory limit `limitPages` (0: none), compiling
   * `bytes()` on a miss. Concurrent callers share one compilation.
   */
  get(key: ModuleKey, limitPages: number, bytes: () => Uint8Array): Promise<WebAssembly.Module> {
    const slot = this.slot(key);
    let p = slot.get(limitPages);
    if (!p) {
      this.compiles++;
      p = WebAssembly.compile(bytes() as Uint8Array<ArrayBuffer>);
      slot.set(limitPages, p);
      p.catch(() => slot.delete(limitPages));
    }
    return p;
  }

  has(key: ModuleKey, limitPages = 0): boolean {
    return (typeof key === 'string' ? this.byName.get(key) : this.byObject.get(key))?.has(limitPages) ?? false;
  }
}
