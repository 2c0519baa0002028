/**
 * WASI preview1 constants and struct layouts (wasi_snapshot_preview1.witx).
 * Our own table rather than the shim's wasi_defs: its Filestat encoder writes
 * the timestamps at the wrong offsets, and exact layouts matter here.
 */

export const Errno = {
  SUCCESS: 0, TOOBIG: 1, ACCES: 2, ADDRINUSE: 3, ADDRNOTAVAIL: 4, AFNOSUPPORT: 5, AGAIN: 6, ALREADY: 7,
  BADF: 8, BADMSG: 9, BUSY: 10, CANCELED: 11, CHILD: 12, CONNABORTED: 13, CONNREFUSED: 14, CONNRESET: 15,
  DEADLK: 16, DESTADDRREQ: 17, DOM: 18, DQUOT: 19, EXIST: 20, FAULT: 21, FBIG: 22, HOSTUNREACH: 23,
  IDRM: 24, ILSEQ: 25, INPROGRESS: 26, INTR: 27, INVAL: 28, IO: 29, ISCONN: 30, ISDIR: 31, LOOP: 32,
  MFILE: 33, MLINK: 34, MSGSIZE: 35, MULTIHOP: 36, NAMETOOLONG: 37, NETDOWN: 38, NETRESET: 39,
  NETUNREACH: 40, NFILE: 41, NOBUFS: 42, NODEV: 43, NOENT: 44, NOEXEC: 45, NOLCK: 46, NOLINK: 47,
  NOMEM: 48, NOMSG: 49, NOPROTOOPT: 50, NOSPC: 51, NOSYS: 52, NOTCONN: 53, NOTDIR: 54, NOTEMPTY: 55,
  NOTRECOVERABLE: 56, NOTSOCK: 57, NOTSUP: 58, NOTTY: 59, NXIO: 60, OVERFLOW: 61, OWNERDEAD: 62,
  PERM: 63, PIPE: 64, PROTO: 65, PROTONOSUPPORT: 66, PROTOTYPE: 67, RANGE: 68, ROFS: 69, SPIPE: 70,
  SRCH: 71, STALE: 72, TIMEDOUT: 73, TXTBSY: 74, XDEV: 75, NOTCAPABLE: 76,
} as const;

const errnoNames = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));
/** `NOENT` for 44; used in messages and test failures. */
export function errnoName(n: number): string {
  return errnoNames.get(n) ?? `errno ${n}`;
}

export const Clock = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;

export const Filetype = {
  UNKNOWN: 0, BLOCK_DEVICE: 1, CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4,
  SOCKET_DGRAM: 5, SOCKET_STREAM: 6, SYMBOLIC_LINK: 7,
} as const;

export const Whence = { SET: 0, CUR: 1, END: 2 } as const;
export const Advice = { NORMAL: 0, SEQUENTIAL: 1, RANDOM: 2, WILLNEED: 3, DONTNEED: 4, NOREUSE: 5 } as const;

export const Fdflags = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
export const FDFLAGS_ALL = 0x1f;
export const Oflags = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
export const OFLAGS_ALL = 0xf;
export const Fstflags = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;
export const FSTFLAGS_ALL = 0xf;
export const LOOKUP_SYMLINK_FOLLOW = 1;
export const Eventtype = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;
export const EVENTRWFLAGS_HANGUP = 1;
export const SUBCLOCK_ABSTIME = 1;
export const PREOPENTYPE_DIR = 0;
export const SIGNAL_MAX = 30;
export const RIFLAGS_ALL = 0x3;
export const SDFLAGS_ALL = 0x3;

const bit = (n: number) => 1n << BigInt(n);
export const Rights = {
  FD_DATASYNC: bit(0), FD_READ: bit(1), FD_SEEK: bit(2), FD_FDSTAT_SET_FLAGS: bit(3), FD_SYNC: bit(4),
  FD_TELL: bit(5), FD_WRITE: bit(6), FD_ADVISE: bit(7), FD_ALLOCATE: bit(8), PATH_CREATE_DIRECTORY: bit(9),
  PATH_CREATE_FILE: bit(10), PATH_LINK_SOURCE: bit(11), PATH_LINK_TARGET: bit(12), PATH_OPEN: bit(13),
  FD_READDIR: bit(14), PATH_READLINK: bit(15), PATH_RENAME_SOURCE: bit(16), PATH_RENAME_TARGET: bit(17),
  PATH_FILESTAT_GET: bit(18), PATH_FILESTAT_SET_SIZE: bit(19), PATH_FILESTAT_SET_TIMES: bit(20),
  FD_FILESTAT_GET: bit(21), FD_FILESTAT_SET_SIZE: bit(22), FD_FILESTAT_SET_TIMES: bit(23),
  PATH_SYMLINK: bit(24), PATH_REMOVE_DIRECTORY: bit(25), PATH_UNLINK_FILE: bit(26),
  POLL_FD_READWRITE: bit(27), SOCK_SHUTDOWN: bit(28), SOCK_ACCEPT: bit(29),
} as const;
export const RIGHTS_ALL = (1n << 30n) - 1n;

const R = Rights;
/** What an open regular file can do. */
export const RIGHTS_FILE =
  R.FD_DATASYNC | R.FD_READ | R.FD_SEEK | R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC | R.FD_TELL | R.FD_WRITE |
  R.FD_ADVISE | R.FD_ALLOCATE | R.FD_FILESTAT_GET | R.FD_FILESTAT_SET_SIZE | R.FD_FILESTAT_SET_TIMES |
  R.POLL_FD_READWRITE;
/** What an open directory can do (no seeking or resizing; wasmtime drops the same). */
export const RIGHTS_DIRECTORY =
  R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC | R.FD_DATASYNC | R.FD_READ | R.PATH_CREATE_DIRECTORY | R.PATH_CREATE_FILE |
  R.PATH_LINK_SOURCE | R.PATH_LINK_TARGET | R.PATH_OPEN | R.FD_READDIR | R.PATH_READLINK |
  R.PATH_RENAME_SOURCE | R.PATH_RENAME_TARGET | R.PATH_FILESTAT_GET | R.PATH_FILESTAT_SET_SIZE |
  R.PATH_FILESTAT_SET_TIMES | R.FD_FILESTAT_GET | R.FD_FILESTAT_SET_TIMES | R.PATH_SYMLINK |
  R.PATH_REMOVE_DIRECTORY | R.PATH_UNLINK_FILE | R.POLL_FD_READWRITE;
/** A preopened directory: the set userlands expect (wasmtime's), plus truncation through paths. */
export const RIGHTS_PREOPEN_BASE = RIGHTS_DIRECTORY & ~(R.FD_READ | R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC | R.FD_DATASYNC | R.POLL_FD_READWRITE);
export const RIGHTS_PREOPEN_INHERITING = RIGHTS_DIRECTORY | RIGHTS_FILE;
export const RIGHTS_STDIN = R.FD_READ | R.POLL_FD_READWRITE | R.FD_FILESTAT_GET;
export const RIGHTS_STDOUT = R.FD_WRITE | R.POLL_FD_READWRITE | R.FD_FILESTAT_GET;

/** Struct sizes in guest memory. */
export const SIZE = { iovec: 8, filestat: 64, fdstat: 24, prestat: 8, dirent: 24, subscription: 48, event: 32 } as const;
