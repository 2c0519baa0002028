/**
 * A streaming tar reader on Web Streams: ustar, pax (local and global), GNU
 * long names and links, base-256 numbers. Bodies are streamed; a body the
 * caller does not read is skipped when the next entry is asked for.
 */
import { dataLoss } from '../errors/index.js';
import { ByteReader } from './byte-reader.js';
import type { TarEntryType, TarHeader } from './tar-types.js';

export type { TarHeader, TarEntryType } from './tar-types.js';

export interface TarEntry {
  header: TarHeader;
  /** The body as a stream; valid until the next entry is requested. */
  stream(): ReadableStream<Uint8Array>;
  bytes(): Promise<Uint8Array>;
}

const dec = new TextDecoder();

function str(b: Uint8Array, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  return dec.decode(b.subarray(off, end));
}

function num(b: Uint8Array, off: number, len: number): number {
  if (b[off]! & 0x80) {
    // base-256 (GNU): big-endian two's complement with the top bit set.
    let v = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    return v;
  }
  const s = str(b, off, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

const TYPES: Record<string, TarEntryType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'directory', '6': 'fifo' };

function parsePax(data: Uint8Array): Record<string, string | Uint8Array> {
  const out: Record<string, string | Uint8Array> = {};
  let i = 0;
  while (i < data.length) {
    let sp = i;
    while (sp < data.length && data[sp] !== 0x20) sp++;
    const len = parseInt(dec.decode(data.subarray(i, sp)), 10);
    if (!Number.isFinite(len) || len <= 0 || i + len > data.length) throw dataLoss('corrupt pax header record');
    const rec = data.subarray(sp + 1, i + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    const key = dec.decode(rec.subarray(0, eq));
    const raw = rec.subarray(eq + 1);
    out[key] = key.startsWith('SCHILY.xattr.') ? raw.slice() : dec.decode(raw);
    i += len;
  }
  return out;
}

export async function* readTar(stream: ReadableStream<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(stream);
  let global: Record<string, string | Uint8Array> = {};
  let pending: Record<string, string | Uint8Array> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  let unread = 0; // body bytes (plus padding) of the previous entry not consumed
  try {
    for (;;) {
      if (unread > 0) { await r.skip(unread); unread = 0; }
      const at = r.position;
      const block = await r.read(512);
      if (block.length === 0) return; // tolerate archives without end blocks
      if (block.length < 512) throw dataLoss(`truncated tar archive: a header at offset ${at} is cut short`);
      if (block.every((x) => x === 0)) return;
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
      const want = num(block, 148, 8);
      if (sum !== want) throw dataLoss(`corrupt tar archive: bad header checksum at offset ${at} (not a tar file, or damaged)`);
      const flag = String.fromCharCode(block[156]!);
      const size = num(block, 124, 12);
      const padded = Math.ceil(size / 512) * 512;
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        const body = await r.read(padded);
        if (body.length < padded) throw dataLoss(`truncated tar archive in a ${flag} header at offset ${at}`);
        const data = body.subarray(0, size);
        if (flag === 'x') pending = { ...pending, ...parsePax(data) };
        else if (flag === 'g') global = { ...global, ...parsePax(data) };
        else if (flag === 'L') longName = str(data, 0, data.length);
        else longLink = str(data, 0, data.length);
        continue;
      }
      const pax = { ...global, ...pending };
      pending = {};
      const magic = str(block, 257, 6);
      let path = str(block, 0, 100);
      if (magic === 'ustar' || magic === 'ustar ') {
        const prefix = str(block, 345, 155);
        if (prefix && magic === 'ustar') path = `${prefix}/${path}`;
      }
      if (longName !== undefined) { path = longName; longName = undefined; }
      let linkname = str(block, 157, 100);
      if (longLink !== undefined) { linkname = longLink; longLink = undefined; }
      let type: TarEntryType | undefined = TYPES[flag];
      if (!type) {
        // Unknown entry types (GNU sparse, vendor types) are skipped, as GNU tar does.
        unread = padded;
        continue;
      }
      if (type === 'file' && path.endsWith('/') && flag === '\0') type = 'directory';
      const header: TarHeader = {
        path: typeof pax.path === 'string' ? pax.path : path,
        type,
        mode: num(block, 100, 8) & 0o7777,
        uid: typeof pax.uid === 'string' ? Number(pax.uid) : num(block, 108, 8),
        gid: typeof pax.gid === 'string' ? Number(pax.gid) : num(block, 116, 8),
        size: typeof pax.size === 'string' ? Number(pax.size) : size,
        mtime: typeof pax.mtime === 'string' ? Number(pax.mtime) : num(block, 136, 12),
      };
      const uname = typeof pax.uname === 'string' ? pax.uname : str(block, 265, 32);
      const gname = typeof pax.gname === 'string' ? pax.gname : str(block, 297, 32);
      if (uname) header.uname = uname;
      if (gname) header.gname = gname;
      const ln = typeof pax.linkpath === 'string' ? pax.linkpath : linkname;
      if (type === 'symlink' || type === 'hardlink') header.linkname = ln;
      if (type === 'char' || type === 'block') {
        header.devmajor = num(block, 329, 8);
        header.devminor = num(block, 337, 8);
      }
      for (const [k, v] of Object.entries(pax)) {
        if (k.startsWith('SCHILY.xattr.')) (header.xattrs ??= {})[k.slice(13)] = typeof v === 'string' ? new TextEncoder().encode(v) : v;
      }
      if (type !== 'file') header.size = 0;
      const bodySize = type === 'file' ? header.size : size;
      const bodyPadded = Math.ceil(bodySize / 512) * 512;
      let remaining = bodySize;
      unread = bodyPadded;
      const entryPath = header.path;
      const take = async (): Promise<Uint8Array | undefined> => {
        if (remaining === 0) return undefined;
        const b = await r.readSome(Math.min(remaining, 1 << 20));
        if (b.length === 0) throw dataLoss(`truncated tar archive: the body of "${entryPath}" ends early`);
        remaining -= b.length;
        unread -= b.length;
        if (remaining === 0) { const pad = bodyPadded - bodySize; await r.skip(pad); unread -= pad; }
        return b;
      };
      yield {
        header,
        stream: () => new ReadableStream<Uint8Array>({
          async pull(ctl) {
            const b = await take();
            if (b) ctl.enqueue(b.slice());
            else ctl.close();
          },
        }, { highWaterMark: 0 }),
        bytes: async () => {
          const out = new Uint8Array(remaining);
          let o = 0;
          for (let b = await take(); b; b = await take()) { out.set(b, o); o += b.length; }
          return out;
        },
      };
    }
  } finally {
    await r.cancel();
  }
}
