/**
 * What a container changed, as an uncompressed tar with OCI whiteouts: the
 * overlay upper dir walked in name order; char 0/0 devices become `.wh.NAME`,
 * opaque directories (asked of the helper, Node cannot read xattrs) get a
 * `.wh..wh..opq` entry; hard links inside the upper dir stay hard links.
 * Mount points the runtime made for its own mounts are left out when empty.
 */
import { createReadStream, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { TarWriter, WHITEOUT_PREFIX, OPAQUE_MARKER, type TarHeader } from '@skiff/sdk';
import { runHelper } from '../process/helper.js';

export interface ExportOptions {
  upperDir: string;
  helper: string;
  /** Container paths (no leading slash) the runtime may have created as mount points. */
  mountPoints?: string[];
}

export function exportChanges(o: ExportOptions): ReadableStream<Uint8Array> {
  const tar = new TarWriter();
  // Piping through a TransformStream lets a failure midway reach the reader as an error, not a short tar.
  const out = new TransformStream<Uint8Array, Uint8Array>();
  const abort = new AbortController();
  tar.readable.pipeTo(out.writable, { signal: abort.signal }).catch(() => {});
  void (async () => {
    try {
      const opaque = new Set((await runHelper(o.helper, ['list-opaque', o.upperDir])).toString('utf8').split('\0').filter(Boolean));
      const skip = new Set(o.mountPoints ?? []);
      const links = new Map<string, string>(); // dev:ino -> first path
      const walk = async (rel: string): Promise<void> => {
        const names = readdirSync(rel ? join(o.upperDir, rel) : o.upperDir).sort();
        for (const name of names) {
          const path = rel ? `${rel}/${name}` : name;
          const abs = join(o.upperDir, path);
          const st = lstatSync(abs);
          if (st.isCharacterDevice() && st.rdev === 0) {
            await tar.add(header(st, rel ? `${rel}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`, 'file', 0));
            continue;
          }
          if (skip.has(path) && (st.isDirectory() ? readdirSync(abs).length === 0 : st.isFile() && st.size === 0)) continue;
          if (st.isDirectory()) {
            await tar.add(header(st, path, 'directory', 0));
            if (opaque.has(path)) await tar.add(header(st, `${path}/${OPAQUE_MARKER}`, 'file', 0));
            await walk(path);
          } else if (st.isFile()) {
            const key = `${st.dev}:${st.ino}`;
            const first = st.nlink > 1 ? links.get(key) : undefined;
            if (first) {
              await tar.add({ ...header(st, path, 'hardlink', 0), linkname: first });
              continue;
            }
            if (st.nlink > 1) links.set(key, path);
            await tar.add(header(st, path, 'file', st.size), st.size ? (Readable.toWeb(createReadStream(abs)) as ReadableStream<Uint8Array>) : undefined);
          } else if (st.isSymbolicLink()) {
            await tar.add({ ...header(st, path, 'symlink', 0), linkname: readlinkSync(abs) });
          } else if (st.isFIFO()) {
            await tar.add(header(st, path, 'fifo', 0));
          } else if (st.isCharacterDevice() || st.isBlockDevice()) {
            await tar.add({ ...header(st, path, st.isCharacterDevice() ? 'char' : 'block', 0), devmajor: Number((BigInt(st.rdev) >> 8n) & 0xfffn), devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) });
          }
        }
      };
      await walk('');
      await tar.finish();
    } catch (err) {
      abort.abort(err);
    }
  })();
  return out.readable;
}

function header(st: Stats, path: string, type: TarHeader['type'], size: number): TarHeader {
  return { path, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size, mtime: Math.floor(st.mtimeMs / 1000) };
}
