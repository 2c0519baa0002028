/**
 * A tar writer on Web Streams. Writes ustar headers, and pax records only when
 * a field does not fit (long paths, big sizes or ids, fractional mtimes,
 * xattrs, non-ASCII names). The same input always gives the same bytes.
 */
import { invalidArgument } from '../errors/index.js';
import type { TarHeader } from './tar-types.js';

export type { TarHeader } from './tar-types.js';

const enc = new TextEncoder();
const FLAGS: Record<TarHeader['type'], string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };

function put(b: Uint8Array, off: number, len: number, s: string): boolean {
  const bytes = enc.encode(s);
  if (bytes.length > len) return false;
  b.set(bytes, off);
  return true;
}

function octal(b: Uint8Array, off: number, len: number, n: number): boolean {
  const s = Math.floor(n).toString(8);
  if (s.length > len - 1 || n < 0) return false;
  put(b, off, len, s.padStart(len - 1, '0'));
  return true;
}

function isAscii(s: string): boolean {
  return /^[\x00-\x7f]*$/.test(s);
}

/** Splits a long path into ustar prefix (<=155) and name (<=100), if possible. */
function splitPath(p: string): [string, string] | undefined {
  if (enc.encode(p).length <= 100) return ['', p];
  for (let i = p.length - 1; i > 0; i--) {
    if (p[i] !== '/') continue;
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (enc.encode(prefix).length <= 155 && enc.encode(name).length <= 100 && name.length > 0) return [prefix, name];
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
  let o = 0;
  for (const part of [enc.encode(`${len} `), k, enc.encode('='), v, enc.encode('\n')]) { out.set(part, o); o += part.length; }
  return out;
}

function headerBlock(h: { path: string; flag: string; mode: number; uid: number; gid: number; size: number; mtime: number; linkname: string; uname: string; gname: string; devmajor: number; devminor: number }, pax: Record<string, string | Uint8Array>): Uint8Array {
  const b = new Uint8Array(512);
  const split = splitPath(h.path);
  if (!split || !isAscii(h.path)) { pax.path = h.path; put(b, 0, 100, asciiTail(h.path, 100)); }
  else { put(b, 0, 100, split[1]); put(b, 345, 155, split[0]); }
  octal(b, 100, 8, h.mode & 0o7777);
  if (!octal(b, 108, 8, h.uid)) { pax.uid = String(h.uid); octal(b, 108, 8, 0); }
  if (!octal(b, 116, 8, h.gid)) { pax.gid = String(h.gid); octal(b, 116, 8, 0); }
  if (!octal(b, 124, 12, h.size)) { pax.size = String(h.size); octal(b, 124, 12, 0); }
  if (!Number.isInteger(h.mtime) || !octal(b, 136, 12, h.mtime)) { pax.mtime = formatMtime(h.mtime); octal(b, 136, 12, Math.max(0, Math.floor(h.mtime))); }
  b[156] = h.flag.charCodeAt(0);
  if (h.linkname && (enc.encode(h.linkname).length > 100 || !isAscii(h.linkname))) { pax.linkpath = h.linkname; put(b, 157, 100, asciiTail(h.linkname, 100)); }
  else put(b, 157, 100, h.linkname);
  put(b, 257, 6, 'ustar');
  put(b, 263, 2, '00');
  if (!put(b, 265, 32, h.uname) || !isAscii(h.uname)) { pax.uname = h.uname; b.fill(0, 265, 297); }
  if (!put(b, 297, 32, h.gname) || !isAscii(h.gname)) { pax.gname = h.gname; b.fill(0, 297, 329); }
  octal(b, 329, 8, h.devmajor);
  octal(b, 337, 8, h.devminor);
  return b;
}

function asciiTail(s: string, n: number): string {
  const a = s.replace(/[^\x00-\x7f]/g, '_');
  return a.length <= n ? a : a.slice(a.length - n);
}

function formatMtime(t: number): string {
  const s = t.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

function checksum(b: Uint8Array): void {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  put(b, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
}

export class TarWriter {
  readonly readable: ReadableStream<Uint8Array>;
  private ctl!: ReadableStreamDefaultController<Uint8Array>;
  private waiters: Array<() => void> = [];
  private finished = false;

  constructor() {
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => { this.ctl = c; },
      pull: () => { const w = this.waiters.splice(0); for (const f of w) f(); },
      cancel: () => { this.finished = true; const w = this.waiters.splice(0); for (const f of w) f(); },
    }, { highWaterMark: 4, size: () => 1 });
  }

  private async push(chunk: Uint8Array): Promise<void> {
    if (this.finished) return;
    this.ctl.enqueue(chunk);
    if ((this.ctl.desiredSize ?? 1) <= 0) await new Promise<void>((r) => this.waiters.push(r));
  }

  async add(header: TarHeader, body?: Uint8Array | ReadableStream<Uint8Array>): Promise<void> {
    if (this.finished) throw invalidArgument('tar writer: add() after finish()');
    const size = header.type === 'file' ? header.size : 0;
    if (header.type === 'file' && body instanceof Uint8Array && body.length !== size) throw invalidArgument(`tar writer: "${header.path}" says ${size} bytes but the body has ${body.length}`);
    const pax: Record<string, string | Uint8Array> = {};
    const block = headerBlock({
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
    for (const k of Object.keys(header.xattrs ?? {}).sort()) pax[`SCHILY.xattr.${k}`] = header.xattrs![k]!;
    const keys = Object.keys(pax).sort();
    if (keys.length) {
      const recs = keys.map((k) => paxRecord(k, pax[k]!));
      const total = recs.reduce((n, r) => n + r.length, 0);
      const data = new Uint8Array(Math.ceil(total / 512) * 512);
      let o = 0;
      for (const r of recs) { data.set(r, o); o += r.length; }
      const ph = headerBlock({ path: `PaxHeaders/${asciiTail(header.path.split('/').filter(Boolean).pop() ?? 'x', 80)}`, flag: 'x', mode: 0o644, uid: 0, gid: 0, size: total, mtime: 0, linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0 }, {});
      checksum(ph);
      await this.push(ph);
      await this.push(data);
    }
    checksum(block);
    await this.push(block);
    if (size === 0) return;
    let written = 0;
    if (body instanceof Uint8Array) {
      await this.push(body);
      written = body.length;
    } else if (body) {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        written += chunk.length;
        if (written > size) throw invalidArgument(`tar writer: the body of "${header.path}" is longer than its size ${size}`);
        await this.push(chunk);
      }
    }
    if (written !== size) throw invalidArgument(`tar writer: the body of "${header.path}" has ${written} bytes, expected ${size}`);
    const pad = (512 - (size % 512)) % 512;
    if (pad) await this.push(new Uint8Array(pad));
  }

  /** Writes the two zero blocks and closes the stream. */
  async finish(): Promise<void> {
    if (this.finished) return;
    await this.push(new Uint8Array(1024));
    this.finished = true;
    this.ctl.close();
  }
}
