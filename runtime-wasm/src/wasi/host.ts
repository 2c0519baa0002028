/**
 * The WASI preview1 syscall table (`wasi_snapshot_preview1`), written here
 * rather than taken from the shim's WASI class so that every errno is the one
 * Linux and wasmtime give. It drives the shim's Fd objects: the container file
 * system (runtime-wasm/src/fs) and the standard streams are Fd subclasses.
 *
 * Where Linux and wasmtime differ, wasmtime wins (docker+wasm runs on it):
 * - proc_raise answers NOTSUP; sock_* answer NOTSOCK on any open fd, BADF otherwise;
 * - read/seek on a directory fd is BADF, seek on stdio is SPIPE;
 * - fd_allocate grows the file (Linux) where the Fd can, else NOTSUP (wasmtime);
 * - through a directory fd other than the container's root, `..` cannot climb
 *   above the fd and a symlink to an absolute path cannot be created (PERM);
 *   through the root (every absolute or working-directory path of wasi-libc)
 *   `..` at `/` stays at `/` and absolute targets are allowed, as in a
 *   chroot. Absolute symlink targets resolve from the container's root.
 * Exit codes follow Linux: proc_exit(n) ends the process with n & 0xff.
 *
 * Rights are kept per descriptor and enforced: a missing FD_READ/FD_WRITE is
 * BADF (a file opened the other way, as on Linux), any other missing right
 * NOTCAPABLE. A descriptor opened by path_open gets the rights it asked for
 * that its directory may pass on.
 */
import type { Fd, Inode } from '@bjorn3/browser_wasi_shim';
import {
  Clock, Errno, Eventtype, EVENTRWFLAGS_HANGUP, FDFLAGS_ALL, Fdflags, Filetype, FSTFLAGS_ALL, Fstflags,
  LOOKUP_SYMLINK_FOLLOW, OFLAGS_ALL, Oflags, PREOPENTYPE_DIR, RIFLAGS_ALL, RIGHTS_ALL, RIGHTS_DIRECTORY, RIGHTS_FILE,
  RIGHTS_PREOPEN_BASE, RIGHTS_PREOPEN_INHERITING, RIGHTS_STDIN, RIGHTS_STDOUT, Rights, SDFLAGS_ALL, SIGNAL_MAX,
  SUBCLOCK_ABSTIME, Whence,
} from './defs.js';
import { GuestMemory, encodeUtf8, outsideMemory, writeFdstat, writeFilestat, type StatLike } from './memory.js';
import { isDirectory, isSymlink, newWalkCache, resolvePath, type Resolved } from './resolve.js';
import type { GuestClock } from './clock.js';
import type { RandomSource } from './random.js';
import { InputFd, OutputFd } from './stdio.js';

/** Thrown by proc_exit; the runner turns it into the exit code. */
export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
  }
}

/** Thrown when the runtime ends the guest (a timeout or a kill seen at a syscall). */
export class GuestKilled extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A directory Fd may offer this beyond the shim's methods; without it path_symlink is NOTSUP. */
export interface SymlinkCapable {
  path_symlink(target: string, name: string): number;
}

/**
 * A directory Fd may offer an atomic rename to another directory Fd of its
 * kind; without it a rename is the shim's path_unlink + path_link.
 */
export interface RenameCapable {
  rename(oldName: string, to: Fd, newName: string): number;
}

export interface Preopen {
  /** The guest-visible name, e.g. `/`. */
  name: string;
  fd: Fd;
}

export interface WasiHostOptions {
  args: string[];
  /** KEY=VALUE */
  env: string[];
  preopens: Preopen[];
  stdin: InputFd;
  stdout: OutputFd;
  stderr: OutputFd;
  clock: GuestClock;
  random: RandomSource;
  /** performance.now() value after which the guest is ended at its next syscall. */
  deadline?: number;
}

type Kind = 'file' | 'dir' | 'stdin' | 'stdout';

interface Entry {
  fd: Fd;
  kind: Kind;
  filetype: number;
  base: bigint;
  inheriting: bigint;
  flags: number;
  preopen?: Uint8Array;
  /** The listing fd_readdir pages through; taken again at cookie 0. */
  listing?: DirRow[];
}

interface DirRow {
  name: Uint8Array;
  ino: bigint;
  type: number;
}

const E = Errno;
const R = Rights;
const u32 = (n: number) => n >>> 0;
const u64 = (n: bigint) => BigInt.asUintN(64, n);

export class WasiHost {
  readonly memory = new GuestMemory();
  private readonly table: Array<Entry | undefined> = [];
  private readonly args: Uint8Array[];
  private readonly env: Uint8Array[];
  private readonly clock: GuestClock;
  private readonly random: RandomSource;
  private readonly stdout: OutputFd;
  private readonly stderr: OutputFd;
  private readonly stdinFd: InputFd;
  /** The container's `/`, where absolute symlink targets start. */
  private readonly root: Fd | undefined;
  private readonly deadline: number | undefined;
  /** Preopened directories belong to the container, not the process: never closed here. */
  private readonly kept: Set<Fd>;
  /** How many times each syscall was made (for tests and profiling). */
  readonly counts = new Map<string, number>();

  constructor(o: WasiHostOptions) {
    this.args = o.args.map(encodeUtf8);
    this.env = o.env.map(encodeUtf8);
    this.clock = o.clock;
    this.random = o.random;
    this.stdout = o.stdout;
    this.stderr = o.stderr;
    this.stdinFd = o.stdin;
    this.deadline = o.deadline;
    this.table[0] = { fd: o.stdin, kind: 'stdin', filetype: Filetype.UNKNOWN, base: RIGHTS_STDIN, inheriting: 0n, flags: 0 };
    this.table[1] = { fd: o.stdout, kind: 'stdout', filetype: Filetype.UNKNOWN, base: RIGHTS_STDOUT, inheriting: 0n, flags: 0 };
    this.table[2] = { fd: o.stderr, kind: 'stdout', filetype: Filetype.UNKNOWN, base: RIGHTS_STDOUT, inheriting: 0n, flags: 0 };
    for (const p of o.preopens) {
      this.table.push({
        fd: p.fd, kind: 'dir', filetype: Filetype.DIRECTORY, base: RIGHTS_PREOPEN_BASE,
        inheriting: RIGHTS_PREOPEN_INHERITING, flags: 0, preopen: encodeUtf8(p.name),
      });
    }
    this.root = o.preopens.find((p) => p.name === '/')?.fd;
    this.kept = new Set<Fd>([o.stdin, o.stdout, o.stderr, ...o.preopens.map((p) => p.fd)]);
    o.stdout.sibling = o.stderr;
    o.stderr.sibling = o.stdout;
  }

  /** Sends buffered output to the host now. */
  flush(): void {
    this.stdout.flush();
    this.stderr.flush();
  }

  /** Closes every descriptor (at exit). */
  closeAll(): void {
    const seen = new Set<Fd>(this.kept);
    for (const e of this.table) {
      if (e && !seen.has(e.fd)) {
        seen.add(e.fd);
        try {
          e.fd.fd_close();
        } catch {
          /* a failing close at exit changes nothing for the guest */
        }
      }
    }
    this.table.length = 0;
  }

  private killedReason: string | undefined;

  /** Ends the guest at its next syscall (or before it starts). */
  kill(reason: string): void {
    this.killedReason = reason;
  }

  /** Throws GuestKilled when the guest was killed or passed its deadline. */
  checkDeadline(): void {
    if (this.killedReason !== undefined) throw new GuestKilled(this.killedReason);
    if (this.deadline !== undefined && performance.now() > this.deadline) throw new GuestKilled('the run passed its time limit');
  }

  // ---- descriptor table ---------------------------------------------------

  private get(fd: number): Entry | undefined {
    return this.table[u32(fd)];
  }

  private allocate(e: Entry): number {
    let i = 0;
    while (i < this.table.length && this.table[i] !== undefined) i++;
    this.table[i] = e;
    return i;
  }

  private isShared(fd: Fd, except: number): boolean {
    return this.table.some((e, i) => i !== except && e?.fd === fd);
  }

  private releaseAt(i: number): number {
    const e = this.table[i];
    if (!e) return E.BADF;
    this.table[i] = undefined;
    while (this.table.length && this.table[this.table.length - 1] === undefined) this.table.length--;
    if (this.kept.has(e.fd) || this.isShared(e.fd, -1)) return E.SUCCESS;
    return e.fd.fd_close();
  }

  /** The directory entry for a path_* call: BADF unless `fd` is an open directory, NOTCAPABLE without `right`. */
  private dirEntry(fd: number, right: bigint): Entry | number {
    const e = this.get(fd);
    if (!e || e.kind !== 'dir') return E.BADF;
    if ((e.base & right) !== right) return E.NOTCAPABLE;
    return e;
  }

  /** The directories the last path walk went through (see WalkCache). */
  private readonly walks = newWalkCache();

  private readString(ptr: number, len: number): string | number {
    const s = this.memory.string(u32(ptr), u32(len));
    return s.ok ? s.value : s.errno;
  }

  private resolve(dir: Entry, path: string, follow: boolean, slashFollows = true) {
    return resolvePath(dir.fd, path, follow, this.root, slashFollows, this.walks);
  }

  /** The path at (`fd`, guest string): the directory's right checked, the string read, the path walked; or the errno of the first step that failed. */
  private walkAt(fd: number, right: bigint, pathPtr: number, pathLen: number, follow: boolean, slashFollows = true): Resolved | number {
    const d = this.dirEntry(fd, right);
    if (typeof d === 'number') return d;
    const path = this.readString(pathPtr, pathLen);
    if (typeof path === 'number') return path;
    const r = this.resolve(d, path, follow, slashFollows);
    return r.ok ? r.value : r.errno;
  }

  private statOf(r: Resolved): StatLike | number {
    if (r.kind === 'self') {
      const { ret, filestat } = r.dir.fd_filestat_get();
      return filestat ?? (ret || E.BADF);
    }
    if (!r.inode) return E.NOENT;
    if (r.trailingSlash && !isDirectory(r.inode)) return E.NOTDIR;
    return r.inode.stat();
  }

  private count(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  // ---- the import object --------------------------------------------------

  /** The `wasi_snapshot_preview1` import module. */
  imports(): Record<string, (...args: any[]) => number | void> {
    const calls: Record<string, (...args: any[]) => number | void> = {};
    const proto = Object.getPrototypeOf(this) as Record<string, unknown>;
    for (const name of SYSCALLS) {
      const f = proto[name] as (...a: unknown[]) => number | void;
      calls[name] = f.bind(this);
    }
    return calls;
  }

  /** Like imports(), counting every call in `counts`. */
  countingImports(): Record<string, (...args: any[]) => number | void> {
    const inner = this.imports();
    const out: Record<string, (...args: any[]) => number | void> = {};
    for (const [name, f] of Object.entries(inner)) {
      out[name] = (...a: unknown[]) => {
        this.count(name);
        return f(...a);
      };
    }
    return out;
  }

  // ---- args, environment ----------------------------------------------------

  args_sizes_get(argcPtr: number, bufSizePtr: number): number {
    this.memory.setU32(u32(argcPtr), this.args.length);
    this.memory.setU32(u32(bufSizePtr), this.args.reduce((n, a) => n + a.length + 1, 0));
    return E.SUCCESS;
  }

  args_get(argvPtr: number, bufPtr: number): number {
    return this.writeStrings(this.args, u32(argvPtr), u32(bufPtr));
  }

  environ_sizes_get(countPtr: number, bufSizePtr: number): number {
    this.memory.setU32(u32(countPtr), this.env.length);
    this.memory.setU32(u32(bufSizePtr), this.env.reduce((n, a) => n + a.length + 1, 0));
    return E.SUCCESS;
  }

  environ_get(envPtr: number, bufPtr: number): number {
    return this.writeStrings(this.env, u32(envPtr), u32(bufPtr));
  }

  private writeStrings(list: Uint8Array[], ptrs: number, buf: number): number {
    for (const s of list) {
      this.memory.setU32(ptrs, buf);
      ptrs += 4;
      this.memory.copyIn(buf, s);
      this.memory.copyIn(buf + s.length, ZERO);
      buf += s.length + 1;
    }
    return E.SUCCESS;
  }

  // ---- clocks, random, scheduling --------------------------------------------

  clock_res_get(id: number, resPtr: number): number {
    if (u32(id) > Clock.THREAD_CPUTIME) return E.INVAL;
    this.memory.setU64(u32(resPtr), this.clock.resolution());
    return E.SUCCESS;
  }

  clock_time_get(id: number, _precision: bigint, timePtr: number): number {
    this.checkDeadline();
    const t = this.now(u32(id));
    if (t === undefined) return E.INVAL;
    this.memory.setU64(u32(timePtr), t);
    return E.SUCCESS;
  }

  private now(id: number): bigint | undefined {
    switch (id) {
      case Clock.REALTIME: return this.clock.realtime();
      case Clock.MONOTONIC: return this.clock.monotonic();
      case Clock.PROCESS_CPUTIME:
      case Clock.THREAD_CPUTIME: return this.clock.cputime();
      default: return undefined;
    }
  }

  random_get(bufPtr: number, len: number): number {
    this.checkDeadline();
    const p = u32(bufPtr), n = u32(len);
    this.memory.check(p, n);
    this.random.fill(this.memory.bytes().subarray(p, p + n));
    return E.SUCCESS;
  }

  sched_yield(): number {
    this.checkDeadline();
    return E.SUCCESS;
  }

  proc_exit(code: number): never {
    this.flush();
    throw new ProcExit(u32(code));
  }

  proc_raise(sig: number): number {
    return u32(sig) > SIGNAL_MAX ? E.INVAL : E.NOTSUP;
  }

  // ---- fd_* ------------------------------------------------------------------

  fd_advise(fd: number, _offset: bigint, _len: bigint, advice: number): number {
    if (u32(advice) > 5) return E.INVAL;
    const e = this.get(fd);
    if (!e || e.kind !== 'file') return E.BADF;
    if (!(e.base & R.FD_ADVISE)) return E.NOTCAPABLE;
    return E.SUCCESS;
  }

  fd_allocate(fd: number, offset: bigint, len: bigint): number {
    const e = this.get(fd);
    if (!e || e.kind !== 'file') return E.BADF;
    if (!(e.base & R.FD_ALLOCATE)) return E.NOTCAPABLE;
    if (!(e.base & R.FD_WRITE)) return E.BADF;
    const end = u64(offset) + u64(len);
    if (end > BigInt(Number.MAX_SAFE_INTEGER)) return E.FBIG;
    return e.fd.fd_allocate(u64(offset), u64(len));
  }

  fd_close(fd: number): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    if (e.kind === 'stdout') (e.fd as OutputFd).flush();
    return this.releaseAt(u32(fd));
  }

  fd_datasync(fd: number): number {
    return this.sync(fd, R.FD_DATASYNC);
  }

  fd_sync(fd: number): number {
    return this.sync(fd, R.FD_SYNC);
  }

  private sync(fd: number, right: bigint): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    if (e.kind === 'stdout') {
      (e.fd as OutputFd).flush();
      return E.BADF;
    }
    if (e.kind === 'stdin') return E.BADF;
    if (!(e.base & right)) return E.NOTCAPABLE;
    return e.kind === 'dir' ? E.SUCCESS : e.fd.fd_sync();
  }

  fd_fdstat_get(fd: number, ptr: number): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    writeFdstat(this.memory, u32(ptr), e.filetype, e.flags, e.base, e.inheriting);
    return E.SUCCESS;
  }

  fd_fdstat_set_flags(fd: number, flags: number): number {
    const f = u32(flags);
    if (f & ~FDFLAGS_ALL) return E.INVAL;
    const e = this.get(fd);
    if (!e || e.kind !== 'file') return E.BADF;
    if (!(e.base & R.FD_FDSTAT_SET_FLAGS)) return E.NOTCAPABLE;
    if (f & (Fdflags.DSYNC | Fdflags.SYNC | Fdflags.RSYNC)) return E.INVAL;
    e.flags = (e.flags & ~(Fdflags.APPEND | Fdflags.NONBLOCK)) | f;
    return E.SUCCESS;
  }

  fd_fdstat_set_rights(fd: number, base: bigint, inheriting: bigint): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    const b = u64(base), i = u64(inheriting);
    if ((b | i) & ~RIGHTS_ALL) return E.INVAL;
    if ((b & ~e.base) || (i & ~e.inheriting)) return E.NOTCAPABLE;
    e.base = b;
    e.inheriting = i;
    return E.SUCCESS;
  }

  fd_filestat_get(fd: number, ptr: number): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    if (e.kind === 'stdin' || e.kind === 'stdout') {
      writeFilestat(this.memory, u32(ptr), { ino: 0n, filetype: e.filetype, size: 0n, nlink: 0n });
      return E.SUCCESS;
    }
    if (!(e.base & R.FD_FILESTAT_GET)) return E.NOTCAPABLE;
    const { ret, filestat } = e.fd.fd_filestat_get();
    if (!filestat) return ret || E.BADF;
    writeFilestat(this.memory, u32(ptr), filestat);
    return E.SUCCESS;
  }

  fd_filestat_set_size(fd: number, size: bigint): number {
    const e = this.get(fd);
    if (!e || e.kind !== 'file') return E.BADF;
    // ftruncate on a file not open for writing: EINVAL, as Linux.
    if (!(e.base & R.FD_WRITE)) return E.INVAL;
    if (!(e.base & R.FD_FILESTAT_SET_SIZE)) return E.NOTCAPABLE;
    const s = u64(size);
    if (s > BigInt(Number.MAX_SAFE_INTEGER)) return E.FBIG;
    return e.fd.fd_filestat_set_size(s);
  }

  fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, fstFlags: number): number {
    const t = this.times(u64(atim), u64(mtim), u32(fstFlags));
    if (typeof t === 'number') return t;
    const e = this.get(fd);
    if (!e || e.kind === 'stdin' || e.kind === 'stdout') return E.BADF;
    if (!(e.base & R.FD_FILESTAT_SET_TIMES)) return E.NOTCAPABLE;
    return e.fd.fd_filestat_set_times(t.atim, t.mtim, t.flags);
  }

  /** Validates fstflags and turns *_NOW into explicit times from the guest's clock. */
  private times(atim: bigint, mtim: bigint, flags: number): { atim: bigint; mtim: bigint; flags: number } | number {
    if (flags & ~FSTFLAGS_ALL) return E.INVAL;
    if ((flags & Fstflags.ATIM) && (flags & Fstflags.ATIM_NOW)) return E.INVAL;
    if ((flags & Fstflags.MTIM) && (flags & Fstflags.MTIM_NOW)) return E.INVAL;
    let out = flags & (Fstflags.ATIM | Fstflags.MTIM);
    if (flags & (Fstflags.ATIM_NOW | Fstflags.MTIM_NOW)) {
      const now = this.clock.realtime();
      if (flags & Fstflags.ATIM_NOW) (atim = now), (out |= Fstflags.ATIM);
      if (flags & Fstflags.MTIM_NOW) (mtim = now), (out |= Fstflags.MTIM);
    }
    return { atim, mtim, flags: out };
  }

  fd_pread(fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nreadPtr: number): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    if (e.kind === 'stdin' || e.kind === 'stdout') return E.SPIPE;
    if (e.kind === 'dir') return E.ISDIR;
    if (!(e.base & R.FD_READ)) return E.BADF;
    if (!(e.base & R.FD_SEEK)) return E.NOTCAPABLE;
    const iovs = this.memory.iovecs(u32(iovsPtr), u32(iovsLen));
    const total = iovs.reduce((n, v) => n + v.len, 0);
    const { ret, data } = e.fd.fd_pread(total, u64(offset));
    if (ret !== E.SUCCESS) return ret;
    this.memory.setU32(u32(nreadPtr), this.memory.scatter(iovs, data));
    return E.SUCCESS;
  }

  fd_pwrite(fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nwrittenPtr: number): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    if (e.kind === 'stdin' || e.kind === 'stdout') return E.SPIPE;
    if (e.kind !== 'file' || !(e.base & R.FD_WRITE)) return E.BADF;
    if (!(e.base & R.FD_SEEK)) return E.NOTCAPABLE;
    const data = this.memory.gather(u32(iovsPtr), u32(iovsLen));
    let at = u64(offset);
    if (e.flags & Fdflags.APPEND) {
      // Linux (and wasmtime) ignore the offset of a pwrite on an O_APPEND file.
      const { filestat } = e.fd.fd_filestat_get();
      at = filestat?.size ?? at;
    }
    const { ret, nwritten } = e.fd.fd_pwrite(data, at);
    if (ret !== E.SUCCESS) return ret;
    this.memory.setU32(u32(nwrittenPtr), nwritten);
    return E.SUCCESS;
  }

  fd_prestat_get(fd: number, ptr: number): number {
    const e = this.get(fd);
    if (!e?.preopen) return E.BADF;
    const p = u32(ptr);
    this.memory.check(p, 8);
    this.memory.setU32(p, PREOPENTYPE_DIR);
    this.memory.setU32(p + 4, e.preopen.length);
    return E.SUCCESS;
  }

  fd_prestat_dir_name(fd: number, pathPtr: number, pathLen: number): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    if (!e.preopen) return E.NOTDIR;
    if (e.preopen.length > u32(pathLen)) return E.NAMETOOLONG;
    this.memory.copyIn(u32(pathPtr), e.preopen);
    return E.SUCCESS;
  }

  fd_read(fd: number, iovsPtr: number, iovsLen: number, nreadPtr: number): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    if (e.kind === 'dir') return E.ISDIR; // read(2) on a directory, as Linux
    if (e.kind === 'stdout' || !(e.base & R.FD_READ)) return E.BADF;
    const iovs = this.memory.iovecs(u32(iovsPtr), u32(iovsLen));
    const total = iovs.reduce((n, v) => n + v.len, 0);
    this.checkDeadline();
    if (e.kind === 'stdin') this.flush(); // a prompt must be visible before the guest waits for an answer
    const { ret, data } = e.fd.fd_read(total);
    if (ret !== E.SUCCESS) return ret;
    this.memory.setU32(u32(nreadPtr), this.memory.scatter(iovs, data));
    return E.SUCCESS;
  }

  fd_readdir(fd: number, bufPtr: number, bufLen: number, cookie: bigint, usedPtr: number): number {
    const e = this.get(fd);
    if (!e || e.kind !== 'dir') return E.BADF;
    if (!(e.base & R.FD_READDIR)) return E.NOTCAPABLE;
    const c = u64(cookie);
    if (c === 0n || !e.listing) {
      const listing = this.list(e.fd);
      if (typeof listing === 'number') return listing;
      e.listing = listing;
    }
    const rows = e.listing;
    const buf = u32(bufPtr), cap = u32(bufLen);
    this.memory.check(buf, cap);
    const head = new Uint8Array(24);
    const hv = new DataView(head.buffer);
    let used = 0;
    for (let i = Number(c > BigInt(rows.length) ? BigInt(rows.length) : c); i < rows.length && used < cap; i++) {
      const row = rows[i]!;
      hv.setBigUint64(0, BigInt(i + 1), true);
      hv.setBigUint64(8, u64(row.ino), true);
      hv.setUint32(16, row.name.length, true);
      hv.setUint8(20, row.type);
      // Entries that do not fit are cut at the buffer's end; the guest sees a
      // full buffer and asks again from the last whole entry's cookie.
      const h = Math.min(24, cap - used);
      this.memory.copyIn(buf + used, head.subarray(0, h));
      used += h;
      const n = Math.min(row.name.length, cap - used);
      this.memory.copyIn(buf + used, row.name.subarray(0, n));
      used += n;
    }
    this.memory.setU32(u32(usedPtr), used);
    return E.SUCCESS;
  }

  /** A directory's entries: `.` and `..` first, then what the Fd lists. */
  private list(dir: Fd): DirRow[] | number {
    const { filestat } = dir.fd_filestat_get();
    const selfIno = filestat?.ino ?? 0n;
    let parentIno = selfIno;
    const rows: DirRow[] = [];
    for (let cookie = 0n; ; ) {
      const { ret, dirent } = dir.fd_readdir_single(cookie);
      if (ret !== E.SUCCESS) return ret;
      if (!dirent) break;
      const name = dirent.dir_name;
      if (name.length === 1 && name[0] === 46) {
        /* `.`: ours comes first */
      } else if (name.length === 2 && name[0] === 46 && name[1] === 46) {
        parentIno = dirent.d_ino;
      } else {
        rows.push({ name, ino: dirent.d_ino, type: dirent.d_type });
      }
      if (dirent.d_next <= cookie) break;
      cookie = dirent.d_next;
    }
    return [
      { name: DOT, ino: selfIno, type: Filetype.DIRECTORY },
      { name: DOTDOT, ino: parentIno, type: Filetype.DIRECTORY },
      ...rows,
    ];
  }

  fd_renumber(from: number, to: number): number {
    const f = u32(from), t = u32(to);
    const e = this.table[f];
    if (!e || !this.table[t]) return E.BADF;
    if (f === t) return E.SUCCESS;
    const old = this.table[t]!;
    this.table[t] = e;
    this.table[f] = undefined;
    if (old.kind === 'stdout') (old.fd as OutputFd).flush();
    if (!this.kept.has(old.fd) && !this.isShared(old.fd, -1)) old.fd.fd_close();
    while (this.table.length && this.table[this.table.length - 1] === undefined) this.table.length--;
    return E.SUCCESS;
  }

  fd_seek(fd: number, offset: bigint, whence: number, newOffsetPtr: number): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    if (e.kind === 'stdin' || e.kind === 'stdout') return E.SPIPE;
    if (e.kind !== 'file') return E.BADF;
    const w = u32(whence);
    const d = BigInt.asIntN(64, offset);
    const tellOnly = w === Whence.CUR && d === 0n;
    if (!(e.base & R.FD_SEEK) && !(tellOnly && e.base & R.FD_TELL)) return E.NOTCAPABLE;
    let base: bigint;
    if (w === Whence.SET) base = 0n;
    else if (w === Whence.CUR) {
      const { ret, offset: pos } = e.fd.fd_tell();
      if (ret !== E.SUCCESS) return ret;
      base = pos;
    } else if (w === Whence.END) {
      const { ret, filestat } = e.fd.fd_filestat_get();
      if (!filestat) return ret || E.BADF;
      base = filestat.size;
    } else return E.INVAL;
    const target = base + d;
    if (target < 0n) return E.INVAL;
    if (target > 0x7fff_ffff_ffff_ffffn) return E.OVERFLOW;
    const { ret, offset: now } = e.fd.fd_seek(target, Whence.SET);
    if (ret !== E.SUCCESS) return ret;
    this.memory.setU64(u32(newOffsetPtr), now);
    return E.SUCCESS;
  }

  fd_tell(fd: number, offsetPtr: number): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    if (e.kind === 'stdin' || e.kind === 'stdout') return E.SPIPE;
    if (e.kind !== 'file') return E.BADF;
    if (!(e.base & (R.FD_TELL | R.FD_SEEK))) return E.NOTCAPABLE;
    const { ret, offset } = e.fd.fd_tell();
    if (ret !== E.SUCCESS) return ret;
    this.memory.setU64(u32(offsetPtr), offset);
    return E.SUCCESS;
  }

  fd_write(fd: number, iovsPtr: number, iovsLen: number, nwrittenPtr: number): number {
    const e = this.get(fd);
    if (!e) return E.BADF;
    if (e.kind === 'dir' || e.kind === 'stdin' || !(e.base & R.FD_WRITE)) return E.BADF;
    this.checkDeadline();
    if (e.kind === 'stdout') return this.writeOutput(e.fd as OutputFd, u32(iovsPtr), u32(iovsLen), u32(nwrittenPtr));
    const data = this.memory.gather(u32(iovsPtr), u32(iovsLen));
    if (e.flags & Fdflags.APPEND) {
      const { ret } = e.fd.fd_seek(0n, Whence.END);
      if (ret !== E.SUCCESS) return ret;
    }
    const { ret, nwritten } = e.fd.fd_write(data);
    if (ret !== E.SUCCESS) return ret;
    this.memory.setU32(u32(nwrittenPtr), nwritten);
    return E.SUCCESS;
  }

  /**
   * fd_write to stdout/stderr: each iovec goes from guest memory straight into
   * the batch. The hottest call of a chatty guest (one per line when its stdout
   * is line-buffered), so memory is fetched once and bounds checked by hand.
   */
  private writeOutput(out: OutputFd, iovs: number, count: number, nwrittenPtr: number): number {
    const u8 = this.memory.bytes();
    const dv = this.memory.view();
    const size = u8.length;
    if (iovs + count * 8 > size) throw outsideMemory(iovs, count * 8);
    for (let i = 0; i < count; i++) {
      const p = dv.getUint32(iovs + i * 8, true);
      const l = dv.getUint32(iovs + i * 8 + 4, true);
      if (p + l > size) throw outsideMemory(p, l);
    }
    let total = 0;
    for (let i = 0; i < count; i++) {
      const p = dv.getUint32(iovs + i * 8, true);
      const l = dv.getUint32(iovs + i * 8 + 4, true);
      if (!out.append(u8, p, p + l)) return E.PIPE;
      total += l;
    }
    out.written();
    dv.setUint32(nwrittenPtr, total, true);
    return E.SUCCESS;
  }

  // ---- path_* ----------------------------------------------------------------

  path_create_directory(fd: number, pathPtr: number, pathLen: number): number {
    const v = this.walkAt(fd, R.PATH_CREATE_DIRECTORY, pathPtr, pathLen, false);
    if (typeof v === 'number') return v;
    if (v.kind === 'self' || v.inode) return E.EXIST;
    return v.dir.path_create_directory(v.name);
  }

  path_filestat_get(fd: number, flags: number, pathPtr: number, pathLen: number, statPtr: number): number {
    if (u32(flags) & ~LOOKUP_SYMLINK_FOLLOW) return E.INVAL;
    const v = this.walkAt(fd, R.PATH_FILESTAT_GET, pathPtr, pathLen, (u32(flags) & LOOKUP_SYMLINK_FOLLOW) !== 0);
    if (typeof v === 'number') return v;
    const st = this.statOf(v);
    if (typeof st === 'number') return st;
    writeFilestat(this.memory, u32(statPtr), st);
    return E.SUCCESS;
  }

  path_filestat_set_times(fd: number, flags: number, pathPtr: number, pathLen: number, atim: bigint, mtim: bigint, fstFlags: number): number {
    if (u32(flags) & ~LOOKUP_SYMLINK_FOLLOW) return E.INVAL;
    const t = this.times(u64(atim), u64(mtim), u32(fstFlags));
    if (typeof t === 'number') return t;
    const v = this.walkAt(fd, R.PATH_FILESTAT_SET_TIMES, pathPtr, pathLen, (u32(flags) & LOOKUP_SYMLINK_FOLLOW) !== 0);
    if (typeof v === 'number') return v;
    if (v.kind === 'self') return v.dir.fd_filestat_set_times(t.atim, t.mtim, t.flags);
    if (!v.inode) return E.NOENT;
    if (v.trailingSlash && !isDirectory(v.inode)) return E.NOTDIR;
    return v.dir.path_filestat_set_times(0, v.name, t.atim, t.mtim, t.flags);
  }

  path_link(oldFd: number, oldFlags: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number): number {
    if (u32(oldFlags) & ~LOOKUP_SYMLINK_FOLLOW) return E.INVAL;
    const src = this.dirEntry(oldFd, R.PATH_LINK_SOURCE);
    if (typeof src === 'number') return src;
    const dst = this.dirEntry(newFd, R.PATH_LINK_TARGET);
    if (typeof dst === 'number') return dst;
    // wasmtime refuses to follow a symlink for a hard link.
    if (u32(oldFlags) & LOOKUP_SYMLINK_FOLLOW) return E.INVAL;
    const oldPath = this.readString(oldPtr, oldLen);
    if (typeof oldPath === 'number') return oldPath;
    const newPath = this.readString(newPtr, newLen);
    if (typeof newPath === 'number') return newPath;
    const a = this.resolve(src, oldPath, false);
    if (!a.ok) return a.errno;
    const from = a.value;
    if (from.kind === 'self') return E.PERM;
    if (!from.inode) return E.NOENT;
    if (isDirectory(from.inode)) return E.PERM;
    if (from.trailingSlash) return E.NOTDIR;
    const b = this.resolve(dst, newPath, false);
    if (!b.ok) return b.errno;
    const to = b.value;
    if (to.kind === 'self' || to.inode) return E.EXIST;
    if (to.trailingSlash) return E.NOENT;
    return to.dir.path_link(to.name, from.inode, false);
  }

  path_open(
    fd: number, dirflags: number, pathPtr: number, pathLen: number, oflags: number,
    rightsBase: bigint, rightsInheriting: bigint, fdflags: number, openedPtr: number,
  ): number {
    this.checkDeadline();
    const of = u32(oflags), ff = u32(fdflags), lf = u32(dirflags);
    const base = u64(rightsBase), inh = u64(rightsInheriting);
    if ((of & ~OFLAGS_ALL) || (ff & ~FDFLAGS_ALL) || (lf & ~LOOKUP_SYMLINK_FOLLOW) || ((base | inh) & ~RIGHTS_ALL)) return E.INVAL;
    const d = this.get(fd);
    if (!d) return E.BADF;
    if (d.kind === 'file') return E.NOTDIR;
    if (d.kind !== 'dir') return E.BADF;
    let need = R.PATH_OPEN;
    if (of & Oflags.CREAT) need |= R.PATH_CREATE_FILE;
    if (of & Oflags.TRUNC) need |= R.PATH_FILESTAT_SET_SIZE;
    if ((d.base & need) !== need) return E.NOTCAPABLE;
    const path = this.readString(pathPtr, pathLen);
    if (typeof path === 'number') return path;
    // O_CREAT|O_EXCL never follows a final symlink: a dangling one is EEXIST (POSIX).
    const exclusive = (of & (Oflags.CREAT | Oflags.EXCL)) === (Oflags.CREAT | Oflags.EXCL);
    const r = this.resolve(d, path, (lf & LOOKUP_SYMLINK_FOLLOW) !== 0 && !exclusive);
    if (!r.ok) return r.errno;
    const v = r.value;
    const wantsWrite = (base & (R.FD_WRITE | R.FD_ALLOCATE | R.FD_FILESTAT_SET_SIZE)) !== 0n;

    let opened: Fd;
    if (v.kind === 'self') {
      if ((of & (Oflags.CREAT | Oflags.EXCL)) === (Oflags.CREAT | Oflags.EXCL)) return E.EXIST;
      if ((of & Oflags.TRUNC) || (base & R.FD_WRITE)) return E.ISDIR;
      opened = v.dir;
    } else if (!v.inode) {
      if (!(of & Oflags.CREAT)) return E.NOENT;
      if (v.trailingSlash) return E.ISDIR;
      if (of & Oflags.DIRECTORY) return E.INVAL;
      const res = v.dir.path_open(0, v.name, of & (Oflags.CREAT | Oflags.EXCL | Oflags.TRUNC), base, inh, ff & ~Fdflags.APPEND);
      if (!res.fd_obj) return res.ret || E.IO;
      opened = res.fd_obj;
    } else {
      if ((of & (Oflags.CREAT | Oflags.EXCL)) === (Oflags.CREAT | Oflags.EXCL)) return E.EXIST;
      if (isSymlink(v.inode)) return E.LOOP; // O_NOFOLLOW on a symlink, as Linux
      const dir = isDirectory(v.inode);
      if (dir) {
        if ((of & Oflags.TRUNC) || (base & R.FD_WRITE)) return E.ISDIR;
      } else if ((of & Oflags.DIRECTORY) || v.trailingSlash) {
        return E.NOTDIR;
      }
      // APPEND stays here (fd_write seeks to the end), so fd_fdstat_set_flags can turn it off.
      const res = v.dir.path_open(0, v.name, (of & Oflags.TRUNC) | (dir ? Oflags.DIRECTORY : 0), base, inh, ff & ~Fdflags.APPEND);
      if (!res.fd_obj) return res.ret || E.IO;
      opened = res.fd_obj;
    }

    const filetype = filetypeOf(opened);
    const isDir = filetype === Filetype.DIRECTORY;
    const mask = isDir ? RIGHTS_DIRECTORY : RIGHTS_FILE;
    let granted = base & d.inheriting & mask;
    // A file the guest may not write cannot be resized either.
    if (!isDir && !wantsWrite) granted &= ~(R.FD_WRITE | R.FD_ALLOCATE | R.FD_FILESTAT_SET_SIZE);
    const entry: Entry = {
      fd: opened, kind: isDir ? 'dir' : 'file', filetype, base: granted,
      inheriting: inh & d.inheriting, flags: isDir ? 0 : ff,
    };
    if (!isDir && (ff & Fdflags.APPEND)) opened.fd_seek(0n, Whence.END);
    const n = this.allocate(entry);
    this.memory.setU32(u32(openedPtr), n);
    return E.SUCCESS;
  }

  path_readlink(fd: number, pathPtr: number, pathLen: number, bufPtr: number, bufLen: number, usedPtr: number): number {
    const v = this.walkAt(fd, R.PATH_READLINK, pathPtr, pathLen, false);
    if (typeof v === 'number') return v;
    if (v.kind === 'self') return E.INVAL;
    if (!v.inode) return E.NOENT;
    if (!isSymlink(v.inode)) return v.trailingSlash && !isDirectory(v.inode) ? E.NOTDIR : E.INVAL;
    const { ret, data } = v.dir.path_readlink(v.name);
    if (data === null) return ret || E.INVAL;
    const bytes = encodeUtf8(data).subarray(0, u32(bufLen));
    this.memory.copyIn(u32(bufPtr), bytes);
    this.memory.setU32(u32(usedPtr), bytes.length);
    return E.SUCCESS;
  }

  path_remove_directory(fd: number, pathPtr: number, pathLen: number): number {
    const d = this.dirEntry(fd, R.PATH_REMOVE_DIRECTORY);
    if (typeof d === 'number') return d;
    const path = this.readString(pathPtr, pathLen);
    if (typeof path === 'number') return path;
    const r = this.resolve(d, path, false, false);
    if (!r.ok) return r.errno;
    const v = r.value;
    if (v.kind === 'self') return path.split('/').filter(Boolean).pop() === '..' ? E.NOTEMPTY : E.INVAL;
    if (!v.inode) return E.NOENT;
    if (!isDirectory(v.inode)) return E.NOTDIR;
    return v.dir.path_remove_directory(v.name);
  }

  path_rename(fd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number): number {
    const src = this.dirEntry(fd, R.PATH_RENAME_SOURCE);
    if (typeof src === 'number') return src;
    const dst = this.dirEntry(newFd, R.PATH_RENAME_TARGET);
    if (typeof dst === 'number') return dst;
    const oldPath = this.readString(oldPtr, oldLen);
    if (typeof oldPath === 'number') return oldPath;
    const newPath = this.readString(newPtr, newLen);
    if (typeof newPath === 'number') return newPath;
    const a = this.resolve(src, oldPath, false);
    if (!a.ok) return a.errno;
    const b = this.resolve(dst, newPath, false);
    if (!b.ok) return b.errno;
    const from = a.value, to = b.value;
    if (from.kind === 'self' || to.kind === 'self') return E.BUSY;
    if (!from.inode) return E.NOENT;
    const fromDir = isDirectory(from.inode);
    if (!fromDir && (from.trailingSlash || to.trailingSlash)) return E.NOTDIR;
    if (to.inode) {
      if (to.inode === from.inode || sameFile(to.inode, from.inode)) return E.SUCCESS;
      const toDir = isDirectory(to.inode);
      if (fromDir && !toDir) return E.NOTDIR;
      if (!fromDir && toDir) return E.ISDIR;
    }
    if (fromDir && this.isInside(to.chain, from.inode)) return E.INVAL;
    const atomic = from.dir as Fd & Partial<RenameCapable>;
    if (typeof atomic.rename === 'function' && Object.getPrototypeOf(from.dir) === Object.getPrototypeOf(to.dir)) {
      return atomic.rename(from.name, to.dir, to.name);
    }
    if (to.inode) {
      const ret = isDirectory(to.inode) ? to.dir.path_remove_directory(to.name) : to.dir.path_unlink_file(to.name);
      if (ret !== E.SUCCESS) return ret;
    }
    const { ret, inode_obj: moved } = from.dir.path_unlink(from.name);
    if (!moved) return ret || E.NOENT;
    const linked = to.dir.path_link(to.name, moved, true);
    if (linked !== E.SUCCESS) {
      from.dir.path_link(from.name, moved, true);
      return linked;
    }
    return E.SUCCESS;
  }

  /** Is `inode` one of the directories the resolution went through? (renaming a directory into itself) */
  private isInside(chain: Fd[], inode: Inode): boolean {
    const ino = inode.stat().ino;
    return chain.some((d) => d.fd_filestat_get().filestat?.ino === ino);
  }

  path_symlink(oldPtr: number, oldLen: number, fd: number, newPtr: number, newLen: number): number {
    const d = this.dirEntry(fd, R.PATH_SYMLINK);
    if (typeof d === 'number') return d;
    const target = this.readString(oldPtr, oldLen);
    if (typeof target === 'number') return target;
    const newPath = this.readString(newPtr, newLen);
    if (typeof newPath === 'number') return newPath;
    if (target.includes('\0')) return E.INVAL;
    const r = this.resolve(d, newPath, false);
    if (!r.ok) return r.errno;
    const v = r.value;
    if (v.kind === 'self' || v.inode) return E.EXIST; // Linux, even with a trailing slash on a file
    if (v.trailingSlash) return E.NOENT;
    // An absolute target is a path in the container: allowed through its root
    // (wasi-libc's symlink()), refused through other directory fds (wasmtime).
    if (target.startsWith('/') && d.fd !== this.root) return E.PERM;
    const dir = v.dir as Fd & Partial<SymlinkCapable>;
    if (typeof dir.path_symlink !== 'function') return E.NOTSUP;
    return dir.path_symlink(target, v.name);
  }

  path_unlink_file(fd: number, pathPtr: number, pathLen: number): number {
    const v = this.walkAt(fd, R.PATH_UNLINK_FILE, pathPtr, pathLen, false, false);
    if (typeof v === 'number') return v;
    if (v.kind === 'self') return E.ISDIR;
    if (!v.inode) return E.NOENT;
    if (isDirectory(v.inode)) return E.ISDIR;
    if (v.trailingSlash) return E.NOTDIR;
    return v.dir.path_unlink_file(v.name);
  }

  // ---- poll ------------------------------------------------------------------

  poll_oneoff(inPtr: number, outPtr: number, nsubs: number, neventsPtr: number): number {
    const n = u32(nsubs);
    if (n === 0) return E.INVAL;
    const ip = u32(inPtr), op = u32(outPtr);
    this.memory.check(ip, n * 48);
    this.memory.check(op, n * 32);
    this.checkDeadline();
    const dv = this.memory.view();
    type Ev = { userdata: bigint; type: number; error: number; nbytes: bigint; flags: number };
    const ready: Ev[] = [];
    const timers: Array<{ userdata: bigint; deadline: bigint }> = [];
    for (let i = 0; i < n; i++) {
      const s = ip + i * 48;
      const userdata = dv.getBigUint64(s, true);
      const tag = dv.getUint8(s + 8);
      if (tag === Eventtype.CLOCK) {
        const id = dv.getUint32(s + 16, true);
        const timeout = dv.getBigUint64(s + 24, true);
        const flags = dv.getUint16(s + 40, true);
        if (flags & ~SUBCLOCK_ABSTIME) return E.INVAL;
        const mono = this.clock.monotonic();
        let deadline: bigint;
        if (id === Clock.MONOTONIC) deadline = flags & SUBCLOCK_ABSTIME ? timeout : mono + timeout;
        else if (id === Clock.REALTIME) {
          deadline = flags & SUBCLOCK_ABSTIME ? mono + (timeout - this.clock.realtime()) : mono + timeout;
        } else return E.INVAL;
        timers.push({ userdata, deadline });
      } else if (tag === Eventtype.FD_READ || tag === Eventtype.FD_WRITE) {
        // As poll(2): a closed fd is an event of its own (BADF, which wasi-libc
        // reports as POLLNVAL); files and directories are always ready; stdin
        // (complete before the guest starts) is readable, at EOF as a hangup;
        // stdout and stderr are writable. The other directions never become ready.
        const e = this.get(dv.getUint32(s + 16, true));
        if (!e) {
          ready.push({ userdata, type: tag, error: E.BADF, nbytes: 0n, flags: 0 });
        } else if (tag === Eventtype.FD_READ) {
          if (e.kind === 'stdout') continue;
          const left = e.kind === 'stdin' ? BigInt(this.stdinFd.available) : e.kind === 'dir' ? 0n : this.bytesLeft(e);
          ready.push({ userdata, type: tag, error: 0, nbytes: left, flags: left === 0n && e.kind !== 'dir' ? EVENTRWFLAGS_HANGUP : 0 });
        } else {
          if (e.kind === 'stdin') continue;
          ready.push({ userdata, type: tag, error: 0, nbytes: 1n, flags: 0 });
        }
      } else {
        return E.INVAL;
      }
    }
    if (ready.length === 0 && timers.length) {
      const first = timers.reduce((m, t) => (t.deadline < m ? t.deadline : m), timers[0]!.deadline);
      const wait = first - this.clock.monotonic();
      if (wait > 0n) {
        this.flush();
        this.sleepUntilDeadline(wait);
      }
    }
    const mono = this.clock.monotonic();
    for (const t of timers) if (t.deadline <= mono) ready.push({ userdata: t.userdata, type: Eventtype.CLOCK, error: 0, nbytes: 0n, flags: 0 });
    let k = 0;
    for (const ev of ready) {
      const o = op + k * 32;
      dv.setBigUint64(o, ev.userdata, true);
      dv.setUint16(o + 8, ev.error, true);
      dv.setUint8(o + 10, ev.type);
      for (let j = 11; j < 16; j++) dv.setUint8(o + j, 0);
      dv.setBigUint64(o + 16, ev.nbytes, true);
      dv.setUint16(o + 24, ev.flags, true);
      for (let j = 26; j < 32; j++) dv.setUint8(o + j, 0);
      k++;
    }
    this.memory.setU32(u32(neventsPtr), k);
    return E.SUCCESS;
  }

  /** Sleeps `ns`, but not past the run's deadline (then the guest is ended). */
  private sleepUntilDeadline(ns: bigint): void {
    if (this.deadline !== undefined) {
      const leftMs = this.deadline - performance.now();
      if (Number(ns) / 1e6 > leftMs) {
        this.clock.sleep(BigInt(Math.max(0, Math.ceil(leftMs * 1e6))));
        throw new GuestKilled('the run passed its time limit');
      }
    }
    this.clock.sleep(ns);
  }

  private bytesLeft(e: Entry): bigint {
    const { filestat } = e.fd.fd_filestat_get();
    const { offset } = e.fd.fd_tell();
    const size = filestat?.size ?? 0n;
    return size > offset ? size - offset : 0n;
  }

  // ---- sockets: none here, but the right errno rather than a trap ----------

  sock_accept(fd: number, flags: number, _fdPtr: number): number {
    if (u32(flags) & ~FDFLAGS_ALL) return E.INVAL;
    return this.get(fd) ? E.NOTSOCK : E.BADF;
  }

  sock_recv(fd: number, _riPtr: number, _riLen: number, riFlags: number, _nPtr: number, _flagsPtr: number): number {
    if (u32(riFlags) & ~RIFLAGS_ALL) return E.INVAL;
    return this.get(fd) ? E.NOTSOCK : E.BADF;
  }

  sock_send(fd: number, _siPtr: number, _siLen: number, _siFlags: number, _nPtr: number): number {
    return this.get(fd) ? E.NOTSOCK : E.BADF;
  }

  sock_shutdown(fd: number, how: number): number {
    if (u32(how) & ~SDFLAGS_ALL) return E.INVAL;
    return this.get(fd) ? E.NOTSOCK : E.BADF;
  }
}

/** The host whose guest is running on this thread (a guest started inside another's host call nests). */
let active: WasiHost | undefined;

/** Runs `f` with `host` as the one the shared imports call. */
export function runAs<T>(host: WasiHost, f: () => T): T {
  const prev = active;
  active = host;
  try {
    return f();
  } finally {
    active = prev;
  }
}

type HostMethod = (this: WasiHost, ...args: unknown[]) => number | void;

/**
 * One import object for every guest: each function calls the active host
 * (see runAs), so starting a container binds no functions. A fixed arity
 * (path_open's nine) avoids a rest array per call.
 */
export const sharedImports: Record<string, (...args: any[]) => number | void> = {};

function noActiveHost(): never {
  throw new Error('a WASI call came while no guest was running (it must be made during runAs)');
}

const ZERO = new Uint8Array(1);
const DOT = encodeUtf8('.');
const DOTDOT = encodeUtf8('..');

function filetypeOf(fd: Fd): number {
  const st = fd.fd_fdstat_get();
  if (st.fdstat) return st.fdstat.fs_filetype;
  const fs = fd.fd_filestat_get();
  return fs.filestat?.filetype ?? Filetype.UNKNOWN;
}

function sameFile(a: Inode, b: Inode): boolean {
  const sa = a.stat(), sb = b.stat();
  return sa.ino === sb.ino && sa.dev === sb.dev && sa.ino !== 0n;
}

/** Every function of wasi_snapshot_preview1. */
export const SYSCALLS = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get', 'sock_accept',
  'sock_recv', 'sock_send', 'sock_shutdown',
] as const;

for (const name of SYSCALLS) {
  const f = (WasiHost.prototype as unknown as Record<string, HostMethod>)[name]!;
  sharedImports[name] = (a, b, c, d, e, g, h, i, j) => f.call(active ?? noActiveHost(), a, b, c, d, e, g, h, i, j);
}
