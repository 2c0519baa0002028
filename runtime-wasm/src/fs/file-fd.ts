/**
 * Open files of the in-memory file systems (the layered root, tmpfs): a
 * position over an MFile, and the null device. Reads and writes follow the
 * descriptor's rights as Linux follows its access mode (EBADF the other way).
 */
import { Fd, wasi } from '@bjorn3/browser_wasi_shim';
import { Fdflags, Rights, Whence } from '../wasi/defs.js';
import { setTimesOf } from './dir-fd.js';
import { Errno, Filetype, type FsNode, type Stat } from './node.js';
import type { MFile } from './layered.js';

const EMPTY = new Uint8Array(0);
/** Files stay below 4 GiB: a write or truncation past that is EFBIG. */
export const MAX_FILE_SIZE = 2 ** 32 - 1;

/** Computes a seek target, or an errno. */
export function seekTarget(pos: number, size: number, offset: bigint, whence: number): number {
  let base: number;
  if (whence === Whence.SET) base = 0;
  else if (whence === Whence.CUR) base = pos;
  else if (whence === Whence.END) base = size;
  else return -Errno.INVAL;
  const target = BigInt(base) + offset;
  if (target < 0n) return -Errno.INVAL;
  if (target > BigInt(Number.MAX_SAFE_INTEGER)) return -Errno.OVERFLOW;
  return Number(target);
}

export abstract class RightsFd extends Fd {
  protected readable: boolean;
  protected writable: boolean;

  constructor(protected rights: bigint, protected fdflags: number, private readonly filetype: number) {
    super();
    this.readable = (rights & Rights.FD_READ) !== 0n;
    this.writable = (rights & Rights.FD_WRITE) !== 0n;
  }

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    const s = new wasi.Fdstat(this.filetype, this.fdflags);
    s.fs_rights_base = this.rights;
    s.fs_rights_inherited = 0n;
    return { ret: Errno.SUCCESS, fdstat: s };
  }

  override fd_fdstat_set_flags(flags: number): number {
    this.fdflags = flags;
    return Errno.SUCCESS;
  }

  override fd_fdstat_set_rights(base: bigint): number {
    if (base & ~this.rights) return Errno.NOTCAPABLE;
    this.rights = base;
    this.readable = (base & Rights.FD_READ) !== 0n;
    this.writable = (base & Rights.FD_WRITE) !== 0n;
    return Errno.SUCCESS;
  }

  override fd_readdir_single(): { ret: number; dirent: wasi.Dirent | null } {
    return { ret: Errno.NOTDIR, dirent: null };
  }

  override fd_sync(): number {
    return Errno.SUCCESS;
  }
}

export class MemFileFd extends RightsFd {
  private pos = 0;

  constructor(readonly node: MFile, rights: bigint, fdflags: number) {
    super(rights, fdflags, Filetype.REGULAR_FILE);
  }

  override fd_filestat_get(): { ret: number; filestat: Stat | null } {
    return { ret: Errno.SUCCESS, filestat: this.node.stat() };
  }

  override fd_filestat_set_size(size: bigint): number {
    if (!this.writable) return Errno.INVAL; // ftruncate on a descriptor not open for writing, as Linux
    if (size > BigInt(MAX_FILE_SIZE)) return Errno.FBIG;
    return this.node.truncate(Number(size));
  }

  override fd_filestat_set_times(atim: bigint, mtim: bigint, flags: number): number {
    return setTimesOf(this.node, atim, mtim, flags);
  }

  override fd_allocate(offset: bigint, len: bigint): number {
    if (!this.writable) return Errno.BADF;
    const end = offset + len;
    if (end > BigInt(MAX_FILE_SIZE)) return Errno.FBIG;
    return Number(end) > this.node.size ? this.node.truncate(Number(end)) : Errno.SUCCESS;
  }

  override fd_read(size: number): { ret: number; data: Uint8Array } {
    if (!this.readable) return { ret: Errno.BADF, data: EMPTY };
    const data = this.node.read(this.pos, size);
    this.pos += data.length;
    return { ret: Errno.SUCCESS, data };
  }

  override fd_pread(size: number, offset: bigint): { ret: number; data: Uint8Array } {
    if (!this.readable) return { ret: Errno.BADF, data: EMPTY };
    if (offset > BigInt(MAX_FILE_SIZE)) return { ret: Errno.SUCCESS, data: EMPTY };
    return { ret: Errno.SUCCESS, data: this.node.read(Number(offset), size) };
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    if (!this.writable) return { ret: Errno.BADF, nwritten: 0 };
    const at = this.fdflags & Fdflags.APPEND ? this.node.size : this.pos;
    const ret = this.node.write(at, data);
    if (ret !== Errno.SUCCESS) return { ret, nwritten: 0 };
    this.pos = at + data.length;
    return { ret, nwritten: data.length };
  }

  override fd_pwrite(data: Uint8Array, offset: bigint): { ret: number; nwritten: number } {
    if (!this.writable) return { ret: Errno.BADF, nwritten: 0 };
    // Linux appends a pwrite on an O_APPEND file, whatever the offset.
    const at = this.fdflags & Fdflags.APPEND ? BigInt(this.node.size) : offset;
    if (at + BigInt(data.length) > BigInt(MAX_FILE_SIZE)) return { ret: Errno.FBIG, nwritten: 0 };
    const ret = this.node.write(Number(at), data);
    return { ret, nwritten: ret === Errno.SUCCESS ? data.length : 0 };
  }

  override fd_seek(offset: bigint, whence: number): { ret: number; offset: bigint } {
    const t = seekTarget(this.pos, this.node.size, offset, whence);
    if (t < 0) return { ret: -t, offset: 0n };
    this.pos = t;
    return { ret: Errno.SUCCESS, offset: BigInt(t) };
  }

  override fd_tell(): { ret: number; offset: bigint } {
    return { ret: Errno.SUCCESS, offset: BigInt(this.pos) };
  }
}

/** /dev/null: reads see end of file, writes vanish. */
export class NullFd extends RightsFd {
  constructor(readonly node: FsNode, rights: bigint, fdflags: number) {
    super(rights, fdflags, Filetype.CHARACTER_DEVICE);
  }

  override fd_filestat_get(): { ret: number; filestat: Stat | null } {
    return { ret: Errno.SUCCESS, filestat: this.node.stat() };
  }

  override fd_filestat_set_times(atim: bigint, mtim: bigint, flags: number): number {
    return setTimesOf(this.node, atim, mtim, flags);
  }

  override fd_filestat_set_size(): number {
    return this.writable ? Errno.SUCCESS : Errno.BADF;
  }

  override fd_read(): { ret: number; data: Uint8Array } {
    return { ret: this.readable ? Errno.SUCCESS : Errno.BADF, data: EMPTY };
  }

  override fd_pread(): { ret: number; data: Uint8Array } {
    return { ret: this.readable ? Errno.SUCCESS : Errno.BADF, data: EMPTY };
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    return this.writable ? { ret: Errno.SUCCESS, nwritten: data.length } : { ret: Errno.BADF, nwritten: 0 };
  }

  override fd_pwrite(data: Uint8Array): { ret: number; nwritten: number } {
    return this.writable ? { ret: Errno.SUCCESS, nwritten: data.length } : { ret: Errno.BADF, nwritten: 0 };
  }

  override fd_seek(): { ret: number; offset: bigint } {
    return { ret: Errno.SUCCESS, offset: 0n };
  }

  override fd_tell(): { ret: number; offset: bigint } {
    return { ret: Errno.SUCCESS, offset: 0n };
  }
}
