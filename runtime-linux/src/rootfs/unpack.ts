/**
 * Unpacks one layer tar into a directory that overlayfs can use as a lower
 * dir: OCI whiteouts become overlay whiteouts (char 0/0) and opaque markers
 * (trusted.overlay.opaque=y), made with device nodes, FIFOs and xattrs by the
 * native helper in one batch. Entries never write through a symlink of the
 * layer or outside the directory. File I/O is synchronous: small calls cost
 * less that way, and layers still unpack side by side while others read.
 */
import { closeSync, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, unlinkSync, chmodSync, chownSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { classifyWhiteout, cleanEntryPath, readTar, invalidArgument, SkiffError } from '@skiff/sdk';
import { SpecialFiles } from './special.js';

export interface UnpackStats {
  entries: number;
  bytes: number;
}

/** Extended attributes an image may not set: overlay's own metadata and LSM labels. */
const refusedXattr = (name: string) => name.startsWith('trusted.') || name === 'security.selinux';

export async function unpackLayer(tar: ReadableStream<Uint8Array>, dest: string, helper: string): Promise<UnpackStats> {
  const special = new SpecialFiles();
  const dirs = new Set<string>(['']);
  const symlinks = new Set<string>();
  const dirTimes: Array<[string, number]> = [];
  let entries = 0;
  let bytes = 0;

  const checkNoSymlink = (rel: string, entry: string) => {
    for (let i = rel.indexOf('/'); i > 0; i = rel.indexOf('/', i + 1)) {
      const prefix = rel.slice(0, i);
      if (symlinks.has(prefix)) throw invalidArgument(`layer entry "${entry}" lies below the symlink "${prefix}" of the same layer; refusing to write through it`);
    }
  };
  const ensureDir = (rel: string) => {
    if (dirs.has(rel)) return;
    const slash = rel.lastIndexOf('/');
    if (slash > 0) ensureDir(rel.slice(0, slash));
    try {
      mkdirSync(join(dest, rel), 0o755);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    dirs.add(rel);
  };
  const ensureParent = (rel: string) => {
    const slash = rel.lastIndexOf('/');
    if (slash > 0) ensureDir(rel.slice(0, slash));
  };
  const clear = (abs: string, keepDir: boolean) => {
    try {
      const st = lstatSync(abs);
      if (st.isDirectory()) { if (!keepDir) rmSync(abs, { recursive: true, force: true }); }
      else unlinkSync(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  };

  try {
    for await (const entry of readTar(tar)) {
      const h = entry.header;
      entries++;
      const rel = cleanEntryPath(h.path);
      checkNoSymlink(rel, h.path);
      const abs = rel === '' ? dest : join(dest, rel);
      const wh = rel === '' ? undefined : classifyWhiteout(rel);
      if (wh) {
        if (wh.kind === 'whiteout') {
          ensureParent(wh.target);
          clear(join(dest, wh.target), false);
          special.whiteout(wh.target);
        } else if (wh.dir !== '') {
          ensureDir(wh.dir);
          special.opaque(wh.dir);
        }
        continue;
      }
      if (rel !== '') ensureParent(rel);
      switch (h.type) {
        case 'directory': {
          if (rel !== '') {
            if (symlinks.has(rel)) { unlinkSync(abs); symlinks.delete(rel); }
            clear(abs, true);
            if (!dirs.has(rel)) {
              try { mkdirSync(abs); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; }
              dirs.add(rel);
            }
          }
          chownSync(abs, h.uid, h.gid);
          chmodSync(abs, h.mode);
          dirTimes.push([abs, h.mtime]);
          break;
        }
        case 'file': {
          clear(abs, false);
          symlinks.delete(rel);
          const fd = openSync(abs, 'w', 0o600);
          try {
            if (h.size > 0) {
              const reader = entry.stream().getReader();
              for (;;) {
                const { done, value } = await reader.read();
                if (done) break;
                for (let off = 0; off < value.length; ) off += writeSync(fd, value, off);
                bytes += value.length;
              }
            }
            fchownSync(fd, h.uid, h.gid);
            fchmodSync(fd, h.mode);
            futimesSync(fd, h.mtime, h.mtime);
          } finally {
            closeSync(fd);
          }
          break;
        }
        case 'symlink': {
          clear(abs, false);
          symlinkSync(h.linkname ?? '', abs);
          lchownSync(abs, h.uid, h.gid);
          lutimesSync(abs, h.mtime, h.mtime);
          symlinks.add(rel);
          break;
        }
        case 'hardlink': {
          const target = cleanEntryPath(h.linkname ?? '');
          checkNoSymlink(target, h.linkname ?? '');
          clear(abs, false);
          try {
            linkSync(join(dest, target), abs);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
            if (special.size > 0) await special.apply(helper, dest); // the target may be a device or FIFO not made yet
            try {
              linkSync(join(dest, target), abs);
            } catch {
              throw invalidArgument(`layer entry "${h.path}" is a hard link to "${h.linkname}", which this layer does not contain`);
            }
          }
          break;
        }
        case 'char':
        case 'block':
          clear(abs, false);
          special.device(h.type === 'char' ? 'c' : 'b', rel, h.mode, h.devmajor ?? 0, h.devminor ?? 0, h.uid, h.gid);
          break;
        case 'fifo':
          clear(abs, false);
          special.fifo(rel, h.mode, h.uid, h.gid);
          break;
      }
      for (const [name, value] of Object.entries(h.xattrs ?? {})) if (!refusedXattr(name) && rel !== '') special.xattr(rel, name, value);
    }
    await special.apply(helper, dest);
    // Directory times last: writing into a directory changes its mtime.
    for (let i = dirTimes.length - 1; i >= 0; i--) utimesSync(dirTimes[i]![0], dirTimes[i]![1], dirTimes[i]![1]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof SkiffError || !e.syscall) throw err; // not a file-system error: the caller names it
    throw new SkiffError('INTERNAL', `unpack a layer into ${dest}: ${e.syscall ?? 'write'} ${e.path ?? ''}: ${e.code ?? e.message}`, { cause: err });
  }
  return { entries, bytes };
}
