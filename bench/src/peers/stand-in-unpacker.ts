/**
 * A STAND-IN, local to the benchmarks: skiff's own streaming pieces (the
 * DecompressionStream gunzip and readTar from @skiff/sdk) writing a layer into
 * a directory with node:fs. The unpack case measures it only where
 * runtime-linux's own unpackLayer cannot run (not root, no native helper).
 *
 * It does what GNU tar -x does as root: files with their mode, owner and
 * mtime, directories (mode and mtime set at the end, after their contents),
 * symlinks, hard links, and OCI whiteouts removing what they name.
 */
import { chmodSync, closeSync, fchownSync, futimesSync, lchownSync, linkSync, mkdirSync, openSync, rmSync, symlinkSync, utimesSync, writeSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { classifyWhiteout, cleanEntryPath, decompressLayer, readTar, resolveInside } from '@skiff/sdk';

const asRoot = process.getuid?.() === 0;

export async function standInUnpack(layerFile: string, mediaType: string, dest: string): Promise<{ entries: number }> {
  const blob = Readable.toWeb(createReadStream(layerFile, { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>;
  const dirs: Array<{ path: string; mode: number; mtime: number; uid: number; gid: number }> = [];
  let entries = 0;
  mkdirSync(dest, { recursive: true });
  for await (const e of readTar(decompressLayer(blob, mediaType))) {
    entries++;
    const h = e.header;
    const rel = cleanEntryPath(h.path);
    if (rel === '') continue;
    const wh = classifyWhiteout(rel);
    if (wh) {
      if (wh.kind === 'whiteout') rmSync(join(dest, wh.target), { recursive: true, force: true });
      continue;
    }
    const p = join(dest, rel);
    switch (h.type) {
      case 'directory':
        mkdirSync(p, { recursive: true, mode: 0o700 });
        dirs.push({ path: p, mode: h.mode, mtime: h.mtime, uid: h.uid, gid: h.gid });
        break;
      case 'file': {
        const fd = openSync(p, 'w', h.mode);
        try {
          for await (const chunk of e.stream() as unknown as AsyncIterable<Uint8Array>) {
            for (let o = 0; o < chunk.length; ) o += writeSync(fd, chunk, o);
          }
          if (asRoot) fchownSync(fd, h.uid, h.gid);
          futimesSync(fd, h.mtime, h.mtime);
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'symlink':
        symlinkSync(h.linkname!, p);
        if (asRoot) lchownSync(p, h.uid, h.gid);
        break;
      case 'hardlink':
        linkSync(join(dest, resolveInside('', h.linkname!)), p);
        break;
      default:
        // Device nodes and fifos need root and are rare in layers; the benchmark's layer has none.
        throw new Error(`stand-in unpacker: ${h.type} entries are not handled (${rel})`);
    }
  }
  for (const d of dirs.reverse()) {
    chmodSync(d.path, d.mode);
    if (asRoot) lchownSync(d.path, d.uid, d.gid);
    utimesSync(d.path, d.mtime, d.mtime);
  }
  return { entries };
}
