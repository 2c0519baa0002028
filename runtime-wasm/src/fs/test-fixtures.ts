/**
 * Helpers for the file system's tests: layers from short entry lists, and
 * calls through the Fd API that throw with the errno's name on failure.
 */
import type { Fd } from '@bjorn3/browser_wasi_shim';
import type { TarEntryType, TarHeader } from '@skiff/sdk';
import { errnoName, Filetype, Oflags, Rights } from '../wasi/defs.js';
import type { DirFd } from './dir-fd.js';
import { indexLayer, type LayerIndex, type TarEntryLike } from './layer-index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface FixtureEntry {
  path: string;
  type?: TarEntryType;
  data?: string | Uint8Array;
  linkname?: string;
  mode?: number;
  mtime?: number;
}

export const file = (path: string, data: string | Uint8Array = '', mode = 0o644): FixtureEntry => ({ path, type: 'file', data, mode });
export const dir = (path: string, mode = 0o755): FixtureEntry => ({ path, type: 'directory', mode });
export const symlink = (path: string, linkname: string): FixtureEntry => ({ path, type: 'symlink', linkname });
export const hardlink = (path: string, linkname: string): FixtureEntry => ({ path, type: 'hardlink', linkname });
export const whiteout = (path: string): FixtureEntry => ({ path, type: 'file' });

export function entries(list: FixtureEntry[]): AsyncIterable<TarEntryLike> {
  return (async function* () {
    for (const e of list) {
      const data = typeof e.data === 'string' ? enc.encode(e.data) : e.data ?? new Uint8Array(0);
      const type = e.type ?? 'file';
      const header: TarHeader = {
        path: e.path, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: 0, gid: 0,
        size: type === 'file' ? data.length : 0, mtime: e.mtime ?? 1_600_000_000,
      };
      if (e.linkname !== undefined) header.linkname = e.linkname;
      yield { header, bytes: async () => data };
    }
  })();
}

export function layer(list: FixtureEntry[], diffId?: string): Promise<LayerIndex> {
  return indexLayer(entries(list), diffId);
}

export const READ = Rights.FD_READ | Rights.FD_SEEK | Rights.FD_TELL | Rights.FD_FILESTAT_GET | Rights.FD_READDIR;
export const WRITE = Rights.FD_WRITE | Rights.FD_SEEK | Rights.FD_TELL | Rights.FD_FILESTAT_GET | Rights.FD_FILESTAT_SET_SIZE | Rights.FD_ALLOCATE;
export const RW = READ | WRITE;

export class ErrnoError extends Error {
  constructor(readonly errno: number, what: string) {
    super(`${what}: ${errnoName(errno)}`);
  }
}

export function check(ret: number, what: string): void {
  if (ret !== 0) throw new ErrnoError(ret, what);
}

/** The errno name a call gives (SUCCESS for 0). */
export function errno(ret: number | { ret: number }): string {
  const n = typeof ret === 'number' ? ret : ret.ret;
  return errnoName(n);
}

export function open(d: DirFd, path: string, oflags = 0, rights = RW, fdflags = 0, follow = true): Fd {
  const r = d.path_open(follow ? 1 : 0, path, oflags, rights, 0n, fdflags);
  if (!r.fd_obj) throw new ErrnoError(r.ret, `open ${path}`);
  return r.fd_obj;
}

export function readFd(fd: Fd): string {
  const parts: string[] = [];
  for (;;) {
    const r = fd.fd_read(7);
    check(r.ret, 'read');
    if (!r.data.length) break;
    parts.push(dec.decode(r.data, { stream: true }));
  }
  return parts.join('');
}

export function read(d: DirFd, path: string): string {
  const fd = open(d, path, 0, READ);
  try {
    return readFd(fd);
  } finally {
    fd.fd_close();
  }
}

export function write(d: DirFd, path: string, data: string, oflags = Oflags.CREAT | Oflags.TRUNC, fdflags = 0): void {
  const fd = open(d, path, oflags, RW, fdflags);
  const r = fd.fd_write(enc.encode(data));
  check(r.ret, `write ${path}`);
  fd.fd_close();
}

/** Names in a directory through fd_readdir_single, `.` and `..` included. */
export function names(d: DirFd, path = '.'): string[] {
  const fd = path === '.' ? d : (open(d, path, Oflags.DIRECTORY, READ) as DirFd);
  const out: string[] = [];
  for (let cookie = 0n; ; ) {
    const r = fd.fd_readdir_single(cookie);
    check(r.ret, `readdir ${path}`);
    if (!r.dirent) break;
    out.push(dec.decode(r.dirent.dir_name));
    cookie = r.dirent.d_next;
  }
  return out;
}

/** The whole tree under a directory: `path -> dir | file:<content> | link:<target> | dev:<type>`. */
export function tree(d: DirFd, path = '.', out: Record<string, string> = {}, prefix = ''): Record<string, string> {
  for (const name of names(d, path).slice(2)) {
    const p = path === '.' ? name : `${path}/${name}`;
    const st = d.path_filestat_get(0, p);
    check(st.ret, `stat ${p}`);
    const t = st.filestat!.filetype;
    if (t === Filetype.DIRECTORY) {
      out[prefix + p] = 'dir';
      tree(d, p, out, prefix);
    } else if (t === Filetype.REGULAR_FILE) out[prefix + p] = `file:${read(d, p)}`;
    else if (t === Filetype.SYMBOLIC_LINK) out[prefix + p] = `link:${d.path_readlink(p).data}`;
    else out[prefix + p] = `dev:${t}`;
  }
  return out;
}

export const bytes = (s: string) => enc.encode(s);
export const text = (b: Uint8Array) => dec.decode(b);
