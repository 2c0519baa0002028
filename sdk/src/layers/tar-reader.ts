/**
 * A streaming tar reader on Web Streams: ustar, pax (local and global), GNU
 * long names and links, base-256 numbers. Bodies are streamed; a body the
 * caller does not read is skipped when the next entry is asked for, so memory
 * stays at about one source chunk unless the caller asks for `bytes()`.
 */
import { dataLoss, failedPrecondition } from '../errors/index.js';
import { ByteReader } from './byte-reader.js';
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
  const bin = atob(s.replace(/\s+/g, ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
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

/**
 * Reads a tar stream entry by entry. Leaving the loop early cancels the
 * stream; reading to the end drains it (so a digest check upstream runs).
 */
export async function* readTar(stream: ReadableStream<Uint8Array>, options: ReadTarOptions = {}): AsyncGenerator<TarEntry, void, undefined> {
  const maxMeta = options.maxMetadataSize ?? 16 << 20;
  const r = new ByteReader(stream);
  const global = new Map<string, PaxValue>();
  let local: Map<string, PaxValue> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let last = ''; // the previous entry's path, to place errors
  let unread = 0; // body and padding of the previous entry not yet consumed
  let generation = 0; // bumps when the caller moves on; stale bodies refuse reads
  let complete = false;
  const where = (at: number) => `at offset ${at}${last ? ` (after entry "${last}")` : ' (the first entry)'}`;
  try {
    for (;;) {
      generation++;
      if (unread > 0) {
        const skipped = await r.skip(unread);
        if (skipped < unread) throw dataLoss(`truncated tar archive: the body of "${last}" ends at offset ${r.position}, ${unread - skipped} bytes short`);
        unread = 0;
      }
      const at = r.position;
      const block = await r.read(BLOCK);
      if (block.length === 0) { complete = true; return; } // tolerate archives without end blocks
      if (block.length < BLOCK) throw dataLoss(`truncated tar archive: the header ${where(at)} is cut short`);
      if (isZero(block)) { complete = true; return; }
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
        if (size > maxMeta) throw dataLoss(`corrupt tar archive: a metadata record of ${size} bytes ${where(at)} is larger than the ${maxMeta}-byte limit`);
        const body = await r.read(padded);
        if (body.length < padded) throw dataLoss(`truncated tar archive: a metadata record ${where(at)} is cut short`);
        const data = body.subarray(0, size);
        try {
          if (flag === PAX) parsePax(data, (local ??= new Map()), false);
          else if (flag === PAX_GLOBAL) parsePax(data, global, true);
          else if (flag === GNU_LONGNAME) longName = str(data, 0, data.length);
          else longLink = str(data, 0, data.length);
        } catch (err) {
          if (!(err instanceof HeaderError)) throw err;
          throw dataLoss(`corrupt tar archive: ${err.message} ${where(at)}`);
        }
        continue;
      }

      let pax = global;
      if (local) {
        pax = new Map([...global, ...local]);
        for (const [k, v] of local) if (v === '') pax.delete(k);
      }
      local = undefined;
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
        if (longName !== undefined) path = longName;
        longName = undefined;
        const paxPath = pax.get('path');
        if (typeof paxPath === 'string') path = paxPath;
        if (!type) {
          // Unknown entry types (GNU sparse, volume labels, vendor types) are skipped, as GNU tar does.
          longLink = undefined;
          unread = padded;
          last = path;
          continue;
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
          header.linkname = typeof paxLink === 'string' ? paxLink : longLink ?? str(block, 157, 100);
        }
        longLink = undefined;
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

      // Non-file entries may carry a body too (GNU dumpdirs, odd writers): skipped.
      const bodyStart = r.position;
      const pad = Math.ceil(size / BLOCK) * BLOCK - size;
      let remaining = size;
      unread = size + pad;
      last = path;
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
