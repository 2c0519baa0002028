/** The files a build can COPY from: a directory (Node) or a tar (the daemon's /build). */
export interface ContextEntry {
  /** Context-relative path with `/`, no leading `./`. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  linkname?: string;
  /** Modification time, seconds since the epoch: COPY and ADD keep it, as docker does (else 0, or SOURCE_DATE_EPOCH). */
  mtime?: number;
  /**
   * Files only, optional: a token that changes whenever the content may have
   * (device, inode, size, mtime, ctime). Contexts that can stat give it, and
   * the builder then reuses the file's digest instead of reading it again.
   */
  stamp?: string;
}

export interface BuildContext {
  entries(): Promise<ContextEntry[]>;
  read(path: string): Promise<Uint8Array>;
}

/** A context held in memory: tests, browsers, and tar contexts once read. */
export class MemoryContext implements BuildContext {
  private files = new Map<string, { entry: ContextEntry; data: Uint8Array }>();

  add(path: string, data: Uint8Array | string, mode = 0o644): this {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const p = path.replace(/^\.?\/+/, '');
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!this.files.has(dir)) this.files.set(dir, { entry: { path: dir, type: 'directory', mode: 0o755, size: 0 }, data: new Uint8Array() });
    }
    this.files.set(p, { entry: { path: p, type: 'file', mode, size: bytes.length }, data: bytes });
    return this;
  }

  addEntry(entry: ContextEntry, data: Uint8Array = new Uint8Array()): this {
    this.files.set(entry.path, { entry, data });
    return this;
  }

  async entries(): Promise<ContextEntry[]> {
    return [...this.files.values()].map((f) => f.entry).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async read(path: string): Promise<Uint8Array> {
    const f = this.files.get(path);
    if (!f) throw new Error(`no such file in the build context: ${path}`);
    return f.data;
  }
}
