/**
 * A streaming tar reader on Web Streams: ustar, pax (local and global), GNU
 * long names and links, base-256 numbers. Bodies are streamed; a body the
 * caller does not read is skipped when the next entry is asked for, so memory
 * stays at about one source chunk unless the caller asks for `bytes()`.
 */
import { dataLoss, failedPrecondition } from '../errors/index.js';
import { ByteReader } from './byte-reader.js';
import { fromBase64 } from '../content/base64.js';
import type { TarEntryType, TarHeader } from './tar-types.js';

export type { TarHeader, TarEntryType } from './tar-types.js';

export interface TarEntry {
  header: TarHeader;
  /**
   * The body as a stream, valid until the next entry is requested. Its chunks
   * may be views into a larger buffer: copy them before transferring them.
   */
  stream(): ReadableStream<Uint8Array>;
  /** The whole body in one buffer of its own. */
  bytes(): Promise<Uint8Array>;
  /**
   * The whole body as the chunks it arrived in, without copying them: views
   * into the source's chunks, which stay valid after the next entry (for a
   * writev, say). Bounded like bytes(): a lying size cannot allocate.
   */
  parts(): Promise<Uint8Array[]>;
}

export interface ReadTarOptions {
  /**
   * Largest pax or GNU long-name record accepted, in bytes (default 16 MiB):
   * these are buffered whole, so a hostile archive must not choose their size.
   */
  maxMetadataSize?: number;
}

const BLOCK = 512;
const dec = new TextDecoder();
const enc = new TextEncoder();

const TYPES: Record<number, TarEntryType> = {
  0x30: 'file', 0x00: 'file', 0x37: 'file', // '0', NUL (old tar), '7' (contiguous)
  0x31: 'hardlink', 0x32: 'symlink', 0x33: 'char', 0x34: 'block', 0x35: 'directory', 0x36: 'fifo',
};
const PAX = 0x78; // 'x'
const PAX_GLOBAL = 0x67; // 'g'
const GNU_LONGNAME = 0x4c; // 'L'
const GNU_LONGLINK = 0x4b; // 'K'

class HeaderError extends Error {}

function str(b: Uint8Array, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  return dec.decode(b.subarray(off, end));
}

/** An octal or base-256 (GNU) numeric field. */
function num(b: Uint8Array, off: number, len: number, field: string): number {
  const first = b[off]!;
  if (first & 0x80) {
    // base-256: big-endian two's complement; 0x80 marks positive, 0xff negative.
    if (first === 0xff) {
      let inv = 0; // the complement, so small negatives keep their precision
      for (let i = 1; i < len; i++) inv = inv * 256 + (0xff - b[off + i]!);
      return -(inv + 1);
    }
    let v = first & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    return v;
  }
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++; // leading blanks
  let v = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c >= 0x30 && c <= 0x37) v = v * 8 + (c - 0x30);
    else if (c === 0x20 || c === 0) break;
    else throw new HeaderError(`bad ${field} field`);
  }
  return v;
}

function checksumOk(block: Uint8Array): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  const want = num(block, 148, 8, 'checksum');
  // Some historic tars summed signed chars; both are accepted, as GNU tar does.
  return want === unsigned || want === signed;
}

function isZero(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

type PaxValue = string | Uint8Array;

/** "LEN key=value\n" records; SCHILY.xattr values stay raw bytes. */
function parsePax(data: Uint8Array, into: Map<string, PaxValue>, global: boolean): void {
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break; // some writers pad with NULs
    let sp = i;
    let len = 0;
    while (sp < data.length && data[sp]! >= 0x30 && data[sp]! <= 0x39) len = len * 10 + (data[sp++]! - 0x30);
    if (sp === i || data[sp] !== 0x20 || len <= sp - i + 1 || i + len > data.length || data[i + len - 1] !== 0x0a) {
      throw new HeaderError('bad pax record');
    }
    const rec = data.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw new HeaderError('bad pax record');
    const key = dec.decode(rec.subarray(0, eq));
    const raw = rec.subarray(eq + 1);
    // An empty value unsets the keyword: a global one is deleted, a local one
    // masks the global value for its entry ('' reads as absent below).
    if (raw.length === 0 && global) into.delete(key);
    else into.set(key, raw.length === 0 ? '' : key.startsWith('SCHILY.xattr.') ? new Uint8Array(raw) : dec.decode(raw));
    i += len;
  }
}

function paxNumber(v: PaxValue | undefined, key: string, integer: boolean): number | undefined {
  if (typeof v !== 'string') return undefined;
  const ok = integer ? /^\d+$/.test(v) : /^-?\d+(\.\d+)?$/.test(v);
  if (!ok) throw new HeaderError(`bad pax ${key} "${v.slice(0, 40)}"`);
  return Number(v);
}

function base64(s: string): Uint8Array {
  return fromBase64(s.replace(/\s+/g, ''));
}

function xattrsOf(pax: Map<string, PaxValue>): Record<string, Uint8Array> | undefined {
  let out: Record<string, Uint8Array> | undefined;
  for (const [k, v] of pax) {
    if (k.startsWith('SCHILY.xattr.')) {
      (out ??= {})[k.slice(13)] = typeof v === 'string' ? enc.encode(v) : v;
    } else if (k.startsWith('LIBARCHIVE.xattr.') && typeof v === 'string') {
      // bsdtar: URL-encoded name, base64 value.
      (out ??= {})[decodeURIComponent(k.slice(17))] = base64(v);
    }
  }
  return out;
}

type Parsed =
  | { kind: 'end' }
  /** A pax or GNU long-name record: its body goes to `meta()`. */
  | { kind: 'meta'; flag: number; size: number; padded: number }
  /** An entry of a type skipped (GNU sparse, volume labels, vendor types). */
  | { kind: 'skip'; padded: number }
  | { kind: 'entry'; header: TarHeader; size: number; padded: number };

/**
 * The header logic of a tar reader, without I/O: the streaming reader and
 * the synchronous one over bytes feed it blocks and share every rule.
 */
class HeaderParser {
  private readonly global = new Map<string, PaxValue>();
  private local: Map<string, PaxValue> | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  /** The previous entry's path, to place errors. */
  last = '';

  constructor(private readonly maxMeta: number) {}

  where(at: number): string {
    return `at offset ${at}${this.last ? ` (after entry "${this.last}")` : ' (the first entry)'}`;
  }

  /** One header block (`block.length` < 512 only at the end of the input). */
  parse(block: Uint8Array, at: number): Parsed {
    const where = (a: number) => this.where(a);
    if (block.length === 0) return { kind: 'end' }; // tolerate archives without end blocks
    if (block.length < BLOCK) throw dataLoss(`truncated tar archive: the header ${where(at)} is cut short`);
    if (isZero(block)) return { kind: 'end' };
    let flag: number;
    let size: number;
    try {
      if (!checksumOk(block)) throw new HeaderError('bad header checksum');
      flag = block[156]!;
      size = num(block, 124, 12, 'size');
      if (size < 0) throw new HeaderError('negative size');
    } catch (err) {
      if (!(err instanceof HeaderError)) throw err;
      throw dataLoss(`corrupt tar archive: ${err.message} in the header ${where(at)}; the file is not a tar archive or is damaged`);
    }
    const padded = Math.ceil(size / BLOCK) * BLOCK;

    if (flag === PAX || flag === PAX_GLOBAL || flag === GNU_LONGNAME || flag === GNU_LONGLINK) {
      if (size > this.maxMeta) throw dataLoss(`corrupt tar archive: a metadata record of ${size} bytes ${where(at)} is larger than the ${this.maxMeta}-byte limit`);
      return { kind: 'meta', flag, size, padded };
    }

    let pax = this.global;
    if (this.local) {
      pax = new Map([...this.global, ...this.local]);
      for (const [k, v] of this.local) if (v === '') pax.delete(k);
    }
    this.local = undefined;
    let type: TarEntryType | undefined = TYPES[flag];
    let path: string;
    let header: TarHeader;
    try {
      path = str(block, 0, 100);
      const magic = str(block, 257, 6);
      // 'ustar\0' has a prefix field; GNU's 'ustar ' uses those bytes for times.
      if (magic === 'ustar') {
        const prefix = str(block, 345, 155);
        if (prefix) path = `${prefix}/${path}`;
      }
      if (this.longName !== undefined) path = this.longName;
      this.longName = undefined;
      const paxPath = pax.get('path');
      if (typeof paxPath === 'string') path = paxPath;
      if (!type) {
        // Unknown entry types (GNU sparse, volume labels, vendor types) are skipped, as GNU tar does.
        this.longLink = undefined;
        this.last = path;
        return { kind: 'skip', padded };
      }
      if (type === 'file' && flag !== 0x37 && path.endsWith('/')) type = 'directory'; // pre-POSIX directories
      const paxSize = paxNumber(pax.get('size'), 'size', true);
      if (paxSize !== undefined) size = paxSize;
      header = {
        path,
        type,
        mode: num(block, 100, 8, 'mode') & 0o7777,
        uid: paxNumber(pax.get('uid'), 'uid', true) ?? num(block, 108, 8, 'uid'),
        gid: paxNumber(pax.get('gid'), 'gid', true) ?? num(block, 116, 8, 'gid'),
        size: type === 'file' ? size : 0,
        mtime: paxNumber(pax.get('mtime'), 'mtime', false) ?? num(block, 136, 12, 'mtime'),
      };
      const uname = pax.get('uname') ?? str(block, 265, 32);
      const gname = pax.get('gname') ?? str(block, 297, 32);
      if (typeof uname === 'string' && uname) header.uname = uname;
      if (typeof gname === 'string' && gname) header.gname = gname;
      if (type === 'symlink' || type === 'hardlink') {
        const paxLink = pax.get('linkpath');
        header.linkname = typeof paxLink === 'string' ? paxLink : this.longLink ?? str(block, 157, 100);
      }
      this.longLink = undefined;
      if (type === 'char' || type === 'block') {
        header.devmajor = num(block, 329, 8, 'devmajor');
        header.devminor = num(block, 337, 8, 'devminor');
      }
      const xattrs = xattrsOf(pax);
      if (xattrs) header.xattrs = xattrs;
    } catch (err) {
      if (!(err instanceof HeaderError)) throw err;
      throw dataLoss(`corrupt tar archive: ${err.message} in the header ${where(at)}`);
    }
    this.last = path;
    // Non-file entries may carry a body too (GNU dumpdirs, odd writers): the readers skip it.
    return { kind: 'entry', header, size, padded: Math.ceil(size / BLOCK) * BLOCK };
  }

  /** The body of a metadata record (`body`: `padded` bytes read, fewer if the input ended). */
  meta(flag: number, size: number, padded: number, body: Uint8Array, at: number): void {
    if (body.length < padded) throw dataLoss(`truncated tar archive: a metadata record ${this.where(at)} is cut short`);
    const data = body.subarray(0, size);
    try {
      if (flag === PAX) parsePax(data, (this.local ??= new Map()), false);
      else if (flag === PAX_GLOBAL) parsePax(data, this.global, true);
      else if (flag === GNU_LONGNAME) this.longName = str(data, 0, data.length);
      else this.longLink = str(data, 0, data.length);
    } catch (err) {
      if (!(err instanceof HeaderError)) throw err;
      throw dataLoss(`corrupt tar archive: ${err.message} ${this.where(at)}`);
    }
  }
}

/**
 * Reads a tar stream entry by entry. Leaving the loop early cancels the
 * stream; reading to the end drains it (so a digest check upstream runs).
 */
export async function* readTar(stream: ReadableStream<Uint8Array>, options: ReadTarOptions = {}): AsyncGenerator<TarEntry, void, undefined> {
  const r = new ByteReader(stream);
  const headers = new HeaderParser(options.maxMetadataSize ?? 16 << 20);
  let unread = 0; // body and padding of the previous entry not yet consumed
  let generation = 0; // bumps when the caller moves on; stale bodies refuse reads
  let complete = false;
  try {
    for (;;) {
      generation++;
      if (unread > 0) {
        const skipped = await r.skip(unread);
        if (skipped < unread) throw dataLoss(`truncated tar archive: the body of "${headers.last}" ends at offset ${r.position}, ${unread - skipped} bytes short`);
        unread = 0;
      }
      const at = r.position;
      const parsed = headers.parse(await r.read(BLOCK), at);
      if (parsed.kind === 'end') { complete = true; return; }
      if (parsed.kind === 'meta') {
        headers.meta(parsed.flag, parsed.size, parsed.padded, await r.read(parsed.padded), at);
        continue;
      }
      if (parsed.kind === 'skip') {
        unread = parsed.padded;
        continue;
      }
      const { header, size } = parsed;
      const path = header.path;
      const bodyStart = r.position;
      let remaining = size;
      unread = parsed.padded;
      const mine = generation;
      const take = async (max: number): Promise<Uint8Array | undefined> => {
        if (mine !== generation) throw failedPrecondition(`tar entry "${path}": its body was read after the next entry was requested`);
        if (remaining === 0) return undefined;
        const b = await r.readSome(Math.min(remaining, max));
        if (b.length === 0) throw dataLoss(`truncated tar archive: the body of "${path}" (${size} bytes from offset ${bodyStart}) ends after ${size - remaining} bytes`);
        remaining -= b.length;
        unread -= b.length;
        return b;
      };
      /** The rest of the body, chunk by chunk as it arrives: a lying size field must not allocate by itself. */
      const takeAll = async (): Promise<Uint8Array[]> => {
        if (mine !== generation) throw failedPrecondition(`tar entry "${path}": its body was read after the next entry was requested`);
        const parts: Uint8Array[] = [];
        for (let b = await take(1 << 20); b; b = await take(1 << 20)) parts.push(b);
        return parts;
      };
      yield {
        header,
        stream: () => new ReadableStream<Uint8Array>({
          async pull(ctl) {
            const b = await take(1 << 20);
            if (b) ctl.enqueue(b);
            else ctl.close();
          },
        }, { highWaterMark: 0 }),
        bytes: async () => {
          const parts = await takeAll();
          if (parts.length === 1) return new Uint8Array(parts[0]!); // a buffer of its own, as promised
          let total = 0;
          for (const p of parts) total += p.length;
          const out = new Uint8Array(total);
          let o = 0;
          for (const p of parts) { out.set(p, o); o += p.length; }
          return out;
        },
        parts: () => takeAll(),
      };
    }
  } finally {
    generation++;
    if (complete) await r.drain();
    else await r.cancel();
  }
}

/** An entry of a tar held in memory: its body is a view into the archive's bytes. */
export interface TarBytesEntry {
  header: TarHeader;
  body: Uint8Array;
}

/**
 * Reads a tar held in memory, synchronously (for callers that cannot wait,
 * such as a request served inside a blocked WASI call). The same rules and
 * errors as readTar; bodies are views, not copies.
 */
export function* readTarBytes(tar: Uint8Array, options: ReadTarOptions = {}): Generator<TarBytesEntry, void, undefined> {
  const headers = new HeaderParser(options.maxMetadataSize ?? 16 << 20);
  let pos = 0;
  const read = (n: number) => {
    const b = tar.subarray(pos, Math.min(pos + n, tar.length));
    pos += b.length;
    return b;
  };
  for (;;) {
    const at = pos;
    const parsed = headers.parse(read(BLOCK), at);
    if (parsed.kind === 'end') return;
    if (parsed.kind === 'meta') {
      headers.meta(parsed.flag, parsed.size, parsed.padded, read(parsed.padded), at);
      continue;
    }
    if (parsed.kind === 'skip') {
      const skipped = read(parsed.padded).length;
      if (skipped < parsed.padded) throw dataLoss(`truncated tar archive: the body of "${headers.last}" ends at offset ${pos}, ${parsed.padded - skipped} bytes short`);
      continue;
    }
    const bodyStart = pos;
    const body = read(parsed.size);
    if (body.length < parsed.size) throw dataLoss(`truncated tar archive: the body of "${parsed.header.path}" (${parsed.size} bytes from offset ${bodyStart}) ends after ${body.length} bytes`);
    yield { header: parsed.header, body };
    const pad = parsed.padded - parsed.size;
    if (read(pad).length < pad) throw dataLoss(`truncated tar archive: the body of "${headers.last}" ends at offset ${pos}, short of its padding`);
  }
}
