import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { notFound } from '../errors/index.js';
import type { BuildContext, ContextEntry } from '../build/context.js';

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
    const walk = (d: string) => {
      for (const name of readdirSync(d).sort()) {
        const p = join(d, name);
        const st = lstatSync(p);
        const rel = relative(this.dir, p).split(sep).join('/');
        if (st.isDirectory()) { out.push({ path: rel, type: 'directory', mode: st.mode & 0o7777, size: 0 }); walk(p); }
        else if (st.isSymbolicLink()) out.push({ path: rel, type: 'symlink', mode: 0o777, size: 0, linkname: readlinkSync(p) });
        else if (st.isFile()) out.push({ path: rel, type: 'file', mode: st.mode & 0o7777, size: st.size });
      }
    };
    walk(this.dir);
    return out;
  }

  async read(path: string): Promise<Uint8Array> {
    return new Uint8Array(readFileSync(join(this.dir, ...path.split('/'))));
  }
}
