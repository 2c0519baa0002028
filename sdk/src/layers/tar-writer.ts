/**
 * A tar writer on Web Streams. Writes ustar headers, and pax records only when
 * a field does not fit (long paths, big sizes or ids, fractional mtimes,
 * xattrs, non-ASCII names). The same input always gives the same bytes, so
 * layers built twice have the same digest.
 */
import { cancelled, invalidArgument } from '../errors/index.js';
import type { TarHeader } from './tar-types.js';

export type { TarHeader } from './tar-types.js';

const enc = new TextEncoder();
const FLAGS: Record<TarHeader['type'], number> = {
  file: 0x30, hardlink: 0x31, symlink: 0x32, char: 0x33, block: 0x34, directory: 0x35, fifo: 0x36,
};
const PAX = 0x78;

/** ASCII only: pax holds anything else, so ustar fields stay portable. */
function putAscii(b: Uint8Array, off: number, len: number, s: string): boolean {
  if (s.length > len) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7f) return false;
  }
  for (let i = 0; i < s.length; i++) b[off + i] = s.charCodeAt(i);
  return true;
}

/** Zero-padded octal with a NUL terminator; false if it does not fit. */
function octal(b: Uint8Array, off: number, len: number, n: number): boolean {
  if (!Number.isInteger(n) || n < 0) return false;
  const s = n.toString(8);
  if (s.length > len - 1) return false;
  return putAscii(b, off, len - 1, s.padStart(len - 1, '0'));
}

/** Splits a path into a ustar prefix (<=155) and name (<=100), if it can be. */
function splitPath(p: string): [string, string] | undefined {
  if (p.length <= 100) return ['', p];
  for (let i = Math.min(p.length - 1, 155); i > 0; i--) {
    if (p[i] !== '/') continue;
    const name = p.slice(i + 1);
    if (name.length > 100) return undefined; // moving left only makes the name longer
    if (name.length > 0) return [p.slice(0, i), name];
  }
  return undefined;
}

function paxRecord(key: string, value: string | Uint8Array): Uint8Array {
  const v = typeof value === 'string' ? enc.encode(value) : value;
  const k = enc.encode(key);
  // "LEN key=value\n", where LEN counts its own digits too.
  const base = k.length + v.length + 3;
  let len = base + String(base).length;
  if (String(len).length !== String(base).length) len = base + String(len).length;
  const out = new Uint8Array(len);
  const head = enc.encode(`${len} `);
  out.set(head, 0);
  out.set(k, head.length);
  out[head.length + k.length] = 0x3d;
  out.set(v, head.length + k.length + 1);
  out[len - 1] = 0x0a;
  return out;
}

/** Shortest decimal that reads back as the same number (no float noise). */
function formatTime(t: number): string {
  const s = String(t);
  return /e/i.test(s) ? t.toFixed(9).replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** A readable ASCII stand-in for a field pax overrides (what old readers show). */
function fallback(s: string, n: number): string {
  const a = s.replace(/[^\x01-\x7f]/g, '_');
  return a.length <= n ? a : a.slice(a.length - n);
}

function checksum(b: Uint8Array): void {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  putAscii(b, 148, 6, sum.toString(8).padStart(6, '0'));
  b[154] = 0;
  b[155] = 0x20;
}

interface Fields {
  path: string; flag: number; mode: number; uid: number; gid: number; size: number; mtime: number;
  linkname: string; uname: string; gname: string; devmajor: number; devminor: number;
}

/** The ustar block; fields that do not fit go to `pax`. */
function ustarBlock(h: Fields, pax: Map<string, string | Uint8Array>): Uint8Array {
  const b = new Uint8Array(512);
  const split = splitPath(h.path);
  if (!split || !putAscii(b, 345, 155, split[0]) || !putAscii(b, 0, 100, split[1])) {
    pax.set('path', h.path);
    b.fill(0, 0, 100);
    b.fill(0, 345, 500);
    putAscii(b, 0, 100, fallback(h.path, 100));
  }
  octal(b, 100, 8, h.mode & 0o7777);
  if (!octal(b, 108, 8, h.uid)) { pax.set('uid', String(h.uid)); octal(b, 108, 8, 0); }
  if (!octal(b, 116, 8, h.gid)) { pax.set('gid', String(h.gid)); octal(b, 116, 8, 0); }
  if (!octal(b, 124, 12, h.size)) { pax.set('size', String(h.size)); octal(b, 124, 12, 0); }
  if (!octal(b, 136, 12, h.mtime)) {
    pax.set('mtime', formatTime(h.mtime));
    octal(b, 136, 12, Math.min(0o77777777777, Math.max(0, Math.floor(h.mtime))));
  }
  b[156] = h.flag;
  if (!putAscii(b, 157, 100, h.linkname)) { pax.set('linkpath', h.linkname); putAscii(b, 157, 100, fallback(h.linkname, 100)); }
  putAscii(b, 257, 6, 'ustar');
  putAscii(b, 263, 2, '00');
  if (!putAscii(b, 265, 32, h.uname)) { pax.set('uname', h.uname); b.fill(0, 265, 297); }
  if (!putAscii(b, 297, 32, h.gname)) { pax.set('gname', h.gname); b.fill(0, 297, 329); }
  if (h.flag === FLAGS.char || h.flag === FLAGS.block) {
    if (!octal(b, 329, 8, h.devmajor) || !octal(b, 337, 8, h.devminor)) {
      throw invalidArgument(`tar writer: device numbers ${h.devmajor}:${h.devminor} of "${h.path}" do not fit a tar header`);
    }
  }
  return b;
}

function validate(header: TarHeader): void {
  const what = `tar writer: entry "${header.path}"`;
  if (!header.path) throw invalidArgument('tar writer: an entry needs a path');
  if (header.path.includes('\0') || header.linkname?.includes('\0')) throw invalidArgument(`${what}: NUL in a name`);
  if (!(header.type in FLAGS)) throw invalidArgument(`${what}: unknown type "${header.type}"`);
  if ((header.type === 'symlink' || header.type === 'hardlink') && !header.linkname) throw invalidArgument(`${what}: a ${header.type} needs a linkname`);
  if (header.type === 'file' && !(Number.isSafeInteger(header.size) && header.size >= 0)) throw invalidArgument(`${what}: bad size ${header.size}`);
  for (const [k, v] of [['uid', header.uid], ['gid', header.gid], ['mode', header.mode]] as const) {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw invalidArgument(`${what}: bad ${k} ${v}`);
  }
  if (!Number.isFinite(header.mtime)) throw invalidArgument(`${what}: bad mtime ${header.mtime}`);
  for (const k of Object.keys(header.xattrs ?? {})) if (!k || k.includes('=') || k.includes('\0')) throw invalidArgument(`${what}: bad xattr name "${k}"`);
}

/** The header block of an entry, after a pax header when the fields do not fit ustar. */
export function headerBlocks(header: TarHeader): Uint8Array {
  validate(header);
  const size = header.type === 'file' ? header.size : 0;
  const pax = new Map<string, string | Uint8Array>();
  const block = ustarBlock({
    path: header.type === 'directory' && !header.path.endsWith('/') ? `${header.path}/` : header.path,
    flag: FLAGS[header.type],
    mode: header.mode,
    uid: header.uid,
    gid: header.gid,
    size,
    mtime: header.mtime,
    linkname: header.linkname ?? '',
    uname: header.uname ?? '',
    gname: header.gname ?? '',
    devmajor: header.devmajor ?? 0,
    devminor: header.devminor ?? 0,
  }, pax);
  for (const k of Object.keys(header.xattrs ?? {}).sort()) pax.set(`SCHILY.xattr.${k}`, header.xattrs![k]!);
  checksum(block);
  if (pax.size) {
    const recs = [...pax.keys()].sort().map((k) => paxRecord(k, pax.get(k)!));
    const total = recs.reduce((n, r) => n + r.length, 0);
    const out = new Uint8Array(512 + Math.ceil(total / 512) * 512 + 512);
    const base = header.path.split('/').filter(Boolean).pop() ?? 'entry';
    const ph = ustarBlock({ path: `PaxHeaders/${fallback(base, 80)}`, flag: PAX, mode: 0o644, uid: 0, gid: 0, size: total, mtime: 0, linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0 }, new Map());
    checksum(ph);
    out.set(ph, 0);
    let o = 512;
    for (const r of recs) { out.set(r, o); o += r.length; }
    out.set(block, out.length - 512);
    return out;
  }
  return block;
}

/** A whole archive in one buffer, synchronously (for callers that cannot wait). */
export function tarBytes(entries: Iterable<{ header: TarHeader; body?: Uint8Array }>): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  const put = (b: Uint8Array) => { parts.push(b); total += b.length; };
  for (const { header, body } of entries) {
    const size = header.type === 'file' ? header.size : 0;
    if ((body?.length ?? 0) !== size) throw invalidArgument(`tar writer: "${header.path}" says ${size} bytes but the body has ${body?.length ?? 0}`);
    put(headerBlocks(header));
    if (!size) continue;
    put(body!);
    const pad = (512 - (size % 512)) % 512;
    if (pad) put(new Uint8Array(pad));
  }
  put(new Uint8Array(1024));
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export class TarWriter {
  readonly readable: ReadableStream<Uint8Array>;
  private ctl!: ReadableStreamDefaultController<Uint8Array>;
  private waiters: Array<() => void> = [];
  private closed = false;
  private failure: unknown;
  private tail: Promise<void> = Promise.resolve();

  constructor() {
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => { this.ctl = c; },
      pull: () => this.wake(),
      cancel: (reason) => {
        this.failure ??= cancelled('the reader of the tar stream cancelled it', reason);
        this.wake();
      },
    }, { highWaterMark: 1 << 20, size: (c) => c.byteLength });
  }

  private wake(): void {
    for (const f of this.waiters.splice(0)) f();
  }

  /** Queues a chunk; waits while the reader is more than ~1 MiB behind. */
  private async push(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    this.ctl.enqueue(chunk);
    while ((this.ctl.desiredSize ?? 1) <= 0 && !this.failure) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure) throw this.failure;
  }

  /**
   * Appends an entry. Calls are serialized, so adds need not be awaited one by
   * one; a failure mid-body errors the stream (the archive would be corrupt).
   */
  add(header: TarHeader, body?: Uint8Array | ReadableStream<Uint8Array>): Promise<void> {
    const run = this.tail.then(() => this.write(header, body));
    this.tail = run.catch(() => {});
    return run;
  }

  private async write(header: TarHeader, body?: Uint8Array | ReadableStream<Uint8Array>): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closed) throw invalidArgument('tar writer: add() after finish()');
    validate(header); // before the body checks: a bad size is named as such
    const size = header.type === 'file' ? header.size : 0;
    if (body instanceof Uint8Array && body.length !== size) {
      throw invalidArgument(`tar writer: "${header.path}" says ${size} bytes but the body has ${body.length}`);
    }
    if (size > 0 && !body) throw invalidArgument(`tar writer: "${header.path}" says ${size} bytes but has no body`);
    await this.push(headerBlocks(header));
    if (size === 0) return;
    try {
      let written = 0;
      if (body instanceof Uint8Array) {
        await this.push(body);
        written = body.length;
      } else {
        const reader = body!.getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            written += value.length;
            if (written > size) throw invalidArgument(`tar writer: the body of "${header.path}" is longer than its size ${size}`);
            await this.push(value);
          }
        } catch (err) {
          await reader.cancel(err).catch(() => {});
          throw err;
        } finally {
          reader.releaseLock();
        }
      }
      if (written !== size) throw invalidArgument(`tar writer: the body of "${header.path}" has ${written} bytes, expected ${size}`);
      const pad = (512 - (size % 512)) % 512;
      if (pad) await this.push(new Uint8Array(pad));
    } catch (err) {
      this.abort(err);
      throw err;
    }
  }

  /** Writes the two zero blocks and closes the stream, after pending adds. */
  finish(): Promise<void> {
    const run = this.tail.then(async () => {
      if (this.failure) throw this.failure;
      if (this.closed) return;
      this.closed = true;
      await this.push(new Uint8Array(1024));
      this.ctl.close();
    });
    this.tail = run.catch(() => {});
    return run;
  }

  /** Errors the stream (its reader sees `reason`); later adds fail. */
  abort(reason: unknown): void {
    if (this.failure) return;
    this.failure = reason;
    try { this.ctl.error(reason); } catch { /* already closed */ }
    this.wake();
  }
}
