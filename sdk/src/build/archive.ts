/**
 * ADD's archive extraction: a local tar (plain or gzip) is unpacked into the
 * destination directory, as docker does; anything else is copied as is. bzip2
 * and xz need decoders this isomorphic runtime lacks, so those are refused
 * with what to do instead.
 */
import { unsupported } from '../errors/index.js';
import { readTar } from '../layers/tar-reader.js';
import { cleanEntryPath } from '../layers/paths.js';
import { bytesStream, collect } from '../content/util.js';
import type { FileSpec } from './layer-io.js';

export type ArchiveCompression = 'none' | 'gzip' | 'bzip2' | 'xz';

export function sniffArchiveCompression(b: Uint8Array): ArchiveCompression {
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return 'bzip2'; // "BZh"
  if (b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0x00) return 'xz';
  return 'none';
}

/** Whether the bytes start with a tar header: its checksum field matches the header. */
export function isTarHeader(b: Uint8Array): boolean {
  if (b.length < 512) return false;
  const field = new TextDecoder().decode(b.subarray(148, 156)).replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!;
  return sum === parseInt(field, 8);
}

async function gunzipOrUndefined(data: Uint8Array): Promise<Uint8Array | undefined> {
  try {
    return await collect(bytesStream(data).pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>));
  } catch {
    return undefined;
  }
}

/**
 * The files of `data` unpacked under `dest` (absolute), or undefined when it
 * is not an archive. Entries keep their archive mode, owner and mtime unless
 * `owner` is given (ADD --chown); devices and fifos are skipped.
 */
export async function extractArchive(data: Uint8Array, dest: string, source: string, owner?: { uid: number; gid: number }): Promise<FileSpec[] | undefined> {
  const kind = sniffArchiveCompression(data);
  if (kind === 'bzip2' || kind === 'xz') {
    throw unsupported(`ADD ${source}: ${kind} archives cannot be extracted by skiff builds (no ${kind} decoder); recompress it with gzip, extract it into the build context, or use COPY to add the file without extracting it`);
  }
  const tar = kind === 'gzip' ? await gunzipOrUndefined(data) : data;
  if (!tar || !isTarHeader(tar)) return undefined;
  const out: FileSpec[] = [];
  const byPath = new Map<string, FileSpec>();
  const base = dest.replace(/\/+$/, '');
  for await (const e of readTar(bytesStream(tar))) {
    const rel = cleanEntryPath(e.header.path);
    if (rel === '') continue;
    const path = `${base}/${rel}`;
    const h = e.header;
    let spec: FileSpec;
    if (h.type === 'file') spec = { path, type: 'file', mode: h.mode & 0o7777, data: await e.bytes() };
    else if (h.type === 'hardlink') {
      // A hard link becomes a copy of the file it names (layers from COPY/ADD hold plain files).
      const target = byPath.get(cleanEntryPath(h.linkname ?? ''));
      spec = { path, type: 'file', mode: h.mode & 0o7777, data: target?.data ?? new Uint8Array() };
    } else if (h.type === 'directory') spec = { path, type: 'directory', mode: h.mode & 0o7777 };
    else if (h.type === 'symlink') spec = { path, type: 'symlink', mode: 0o777, linkname: h.linkname ?? '' };
    else continue;
    spec.uid = owner?.uid ?? h.uid;
    spec.gid = owner?.gid ?? h.gid;
    spec.mtime = h.mtime;
    byPath.set(rel, spec);
    out.push(spec);
  }
  return out;
}
