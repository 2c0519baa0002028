/**
 * Finding the program to run inside a container's file system, as a shell
 * would: a name without a slash is looked up on PATH, a relative path starts
 * at the working directory, symlinks are followed, and a `#!` script runs
 * under its interpreter.
 */
import type { Fd, Inode } from '@bjorn3/browser_wasi_shim';
import { concat } from '@skiff/sdk';
import { Filetype, Rights } from './wasi/defs.js';
import { resolvePath } from './wasi/resolve.js';
import type { Preopen } from './wasi/host.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface FoundFile {
  /** Absolute path in the container. */
  path: string;
  /** The file itself (after symlinks), stable while the layer that holds it is. */
  inode: Inode;
  dir: Fd;
  name: string;
}

export type Lookup = { ok: true; file: FoundFile } | { ok: false; reason: 'not-found' | 'not-a-file' | 'not-allowed'; message: string };

/** Joins and cleans an absolute container path; `..` stops at `/`. */
export function absolutePath(cwd: string, p: string): string {
  const parts: string[] = [];
  for (const c of (p.startsWith('/') ? p : `${cwd}/${p}`).split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  return `/${parts.join('/')}`;
}

/** The preopen holding `abs` (the longest matching name, as wasi-libc picks) and the path inside it. */
function locate(preopens: Preopen[], abs: string): { fd: Fd; rel: string } | undefined {
  let best: Preopen | undefined;
  for (const p of preopens) {
    const name = p.name.endsWith('/') && p.name.length > 1 ? p.name.slice(0, -1) : p.name;
    const inside = name === '/' || abs === name || abs.startsWith(`${name}/`);
    if (inside && (!best || name.length > best.name.length)) best = p;
  }
  if (!best) return undefined;
  const rel = best.name === '/' ? abs.slice(1) : abs.slice(best.name.length).replace(/^\/+/, '');
  return { fd: best.fd, rel: rel || '.' };
}

/** Looks up an absolute path, following symlinks; the file must be a regular file. */
export function lookupFile(preopens: Preopen[], abs: string): Lookup {
  const where = locate(preopens, abs);
  if (!where) return { ok: false, reason: 'not-found', message: `${abs}: no such file or directory` };
  const root = preopens.find((p) => p.name === '/')?.fd;
  const r = resolvePath(where.fd, where.rel, true, root);
  if (!r.ok || r.value.kind !== 'entry' || !r.value.inode) return { ok: false, reason: 'not-found', message: `${abs}: no such file or directory` };
  const type = r.value.inode.stat().filetype;
  if (type !== Filetype.REGULAR_FILE) {
    return { ok: false, reason: 'not-a-file', message: `${abs}: ${type === Filetype.DIRECTORY ? 'is a directory' : 'is not a regular file'}` };
  }
  return { ok: true, file: { path: abs, inode: r.value.inode, dir: r.value.dir, name: r.value.name } };
}

/** Finds `command` like execvp: on PATH when it has no slash, else relative to `cwd`. */
export function findProgram(preopens: Preopen[], command: string, env: string[], cwd: string): Lookup {
  if (command === '') return { ok: false, reason: 'not-found', message: 'exec: "": executable file not found in $PATH' };
  if (command.includes('/')) {
    const r = lookupFile(preopens, absolutePath(cwd, command));
    return r.ok ? r : { ...r, message: `exec: "${command}": ${r.message.split(': ').slice(1).join(': ')}` };
  }
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  let sawOther: Lookup | undefined;
  for (const dir of pathVar.split(':')) {
    const r = lookupFile(preopens, absolutePath(cwd, `${dir || '.'}/${command}`));
    if (r.ok) return r;
    if (r.reason !== 'not-found') sawOther ??= r;
  }
  return sawOther ?? { ok: false, reason: 'not-found', message: `exec: "${command}": executable file not found in $PATH` };
}

/** Reads a whole file through its directory's Fd. */
export function readFile(file: FoundFile): Uint8Array {
  const { fd_obj: fd, ret } = file.dir.path_open(0, file.name, 0, Rights.FD_READ | Rights.FD_SEEK, 0n, 0);
  if (!fd) throw new Error(`cannot open ${file.path} (WASI errno ${ret})`);
  try {
    const size = Number(file.inode.stat().size);
    const { ret: rret, data } = fd.fd_pread(size, 0n);
    if (rret === 0 && data.length === size) return data;
    // An Fd without pread: read sequentially.
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const r = fd.fd_read(1 << 20);
      if (r.ret !== 0) throw new Error(`cannot read ${file.path} (WASI errno ${r.ret})`);
      if (r.data.length === 0) break;
      parts.push(r.data);
      total += r.data.length;
    }
    return concat(parts, total);
  } finally {
    fd.fd_close();
  }
}

/** `#!/bin/sh -e` → ['/bin/sh', '-e']; undefined when the file is no script. Linux passes the rest of the line as one argument. */
export function shebang(head: Uint8Array): string[] | undefined {
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  let end = head.indexOf(0x0a);
  if (end < 0) end = Math.min(head.length, 256);
  const line = new TextDecoder().decode(head.subarray(2, end)).trim();
  if (!line) return undefined;
  const m = /^(\S+)(?:\s+(.*))?$/.exec(line)!;
  return m[2] ? [m[1]!, m[2].trim()] : [m[1]!];
}

