import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { notFound } from '../errors/index.js';
import type { BuildContext, ContextEntry } from '../build/context.js';

/**
 * A file changed this recently may change again within the same timestamp
 * tick without its stamp changing (git's "racily clean" files), so it gets no
 * stamp and is read and hashed every time until it settles.
 */
const SETTLE_MS = 100;

/** A build context directory on disk. Symlinks are copied as links, never followed. */
export class DirectoryContext implements BuildContext {
  constructor(readonly dir: string) {
    try {
      if (!lstatSync(dir).isDirectory()) throw new Error('not a directory');
    } catch {
      throw notFound(`the build context "${dir}" is not a directory`);
    }
  }

  async entries(): Promise<ContextEntry[]> {
    const out: ContextEntry[] = [];
    const settled = Date.now() - SETTLE_MS;
    const walk = (abs: string, rel: string) => {
      for (const name of readdirSync(abs).sort()) {
        const p = `${abs}/${name}`;
        const r = rel ? `${rel}/${name}` : name;
        const st = lstatSync(p);
        const mtime = Math.floor(st.mtimeMs / 1000);
        if (st.isDirectory()) { out.push({ path: r, type: 'directory', mode: st.mode & 0o7777, size: 0, mtime }); walk(p, r); }
        else if (st.isSymbolicLink()) out.push({ path: r, type: 'symlink', mode: 0o777, size: 0, linkname: readlinkSync(p), mtime });
        else if (st.isFile()) {
          const e: ContextEntry = { path: r, type: 'file', mode: st.mode & 0o7777, size: st.size, mtime };
          if (st.ctimeMs < settled) e.stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
          out.push(e);
        }
      }
    };
    walk(this.dir.replace(/\/+$/, '') || '/', '');
    return out;
  }

  async read(path: string): Promise<Uint8Array> {
    return new Uint8Array(readFileSync(join(this.dir, ...path.split('/'))));
  }
}
