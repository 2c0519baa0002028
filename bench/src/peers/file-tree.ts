/**
 * A directory of many files of mixed sizes and kinds for the unpack benchmark:
 * mostly small files, some medium, a few large; about a third of the bytes
 * random (like compressed assets), the rest low-entropy text that gzip halves.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ALPHABET = Buffer.from('etaoinshrdlu \n.,');

function content(size: number, binary: boolean): Buffer {
  const b = randomBytes(size);
  if (!binary) for (let i = 0; i < size; i++) b[i] = ALPHABET[b[i]! & 15]!;
  return b;
}

function sizeOfNext(): number {
  const r = randomInt(100);
  if (r < 80) return randomInt(64, 8 << 10);
  if (r < 99) return randomInt(8 << 10, 128 << 10);
  return randomInt(512 << 10, 2 << 20);
}

export interface TreeStats {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

/** Fills `dir` with about `bytes` of file data. */
export function makeFileTree(dir: string, bytes: number): TreeStats {
  const stats: TreeStats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  mkdirSync(dir, { recursive: true });
  let sub = '';
  while (stats.bytes < bytes) {
    if (stats.files % 40 === 0) {
      sub = join(`d${stats.dirs % 50}`, `s${stats.dirs}`);
      mkdirSync(join(dir, sub), { recursive: true });
      stats.dirs++;
    }
    const size = Math.min(sizeOfNext(), bytes - stats.bytes + 64);
    const name = join(sub, `f${stats.files}.${stats.files % 3 === 0 ? 'bin' : 'txt'}`);
    writeFileSync(join(dir, name), content(size, stats.files % 3 === 0), { mode: stats.files % 7 === 0 ? 0o755 : 0o644 });
    if (stats.files % 100 === 0) {
      symlinkSync(`f${stats.files}.${stats.files % 3 === 0 ? 'bin' : 'txt'}`, join(dir, sub, `link${stats.files}`));
      stats.symlinks++;
    }
    stats.files++;
    stats.bytes += size;
  }
  return stats;
}
