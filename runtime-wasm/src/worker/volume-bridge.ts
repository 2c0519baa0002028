/**
 * Volumes held in the host's memory (a VolumeHandle with `fs`: memfs in Node
 * tests, MemoryFs in browsers) cannot be shared with a worker's thread. The
 * worker mounts a copy (a snapshot taken at start) and reports each change
 * as it happens; the host applies it to the original. A guest killed midway
 * has already handed over every change it made.
 *
 * Two containers running at once on one such volume each see their own copy
 * until their next start. Volumes on disk (`hostPath`, Node) are shared live.
 */
import type { FsLike } from '@skiff/sdk';
import { MemoryFs, type FsChange, type FsSnapshot, type SnapshotEntry } from './memory-fs.js';

type AnyStats = { ino: number | bigint; mode: number | bigint; atimeNs?: bigint; mtimeNs?: bigint; atimeMs: number | bigint; mtimeMs: number | bigint; isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean };

function join(root: string, path: string): string {
  if (path === '/') return root;
  return root === '/' ? path : `${root.replace(/\/+$/, '')}${path}`;
}

/** The tree under `root` of any node-fs-shaped file system, as plain data. */
export function snapshotOf(fs: FsLike, root: string): FsSnapshot {
  const own: unknown = fs;
  if (own instanceof MemoryFs) return own.snapshot(root);
  const entries: SnapshotEntry[] = [];
  const files = new Map<string, string>();
  const visit = (path: string) => {
    const host = join(root, path);
    const st = fs.lstatSync(host, { bigint: true }) as unknown as AnyStats;
    const mode = Number(st.mode) & 0o7777;
    const times = { atimeNs: st.atimeNs ?? BigInt(st.atimeMs) * 1_000_000n, mtimeNs: st.mtimeNs ?? BigInt(st.mtimeMs) * 1_000_000n };
    if (st.isDirectory()) {
      entries.push({ path, type: 'dir', mode, ...times });
      for (const name of (fs.readdirSync(host) as unknown[]).map(String).sort()) visit(path === '/' ? `/${name}` : `${path}/${name}`);
    } else if (st.isFile()) {
      const key = String(st.ino);
      const earlier = files.get(key);
      if (earlier !== undefined) entries.push({ path, type: 'file', mode, ...times, linkOf: earlier });
      else {
        files.set(key, path);
        entries.push({ path, type: 'file', mode, ...times, data: new Uint8Array(fs.readFileSync(host) as unknown as Uint8Array) });
      }
    } else if (st.isSymbolicLink()) {
      entries.push({ path, type: 'symlink', mode, ...times, target: String(fs.readlinkSync(host)) });
    }
    // Devices, FIFOs and sockets do not travel.
  };
  visit('/');
  return { entries };
}

/** Applies a change a worker reported to the original volume (`root`: the volume's directory in `fs`). */
export function applyChange(fs: FsLike, root: string, c: FsChange): void {
  const f = fs as unknown as MemoryFs;
  switch (c.op) {
    case 'mkdir':
      f.mkdirSync(join(root, c.path), c.mode);
      return;
    case 'create': {
      const k = fs.constants;
      f.closeSync(f.openSync(join(root, c.path), k.O_CREAT | k.O_WRONLY, c.mode));
      return;
    }
    case 'write': {
      const fd = f.openSync(join(root, c.path), fs.constants.O_WRONLY);
      try {
        f.writeSync(fd, c.data, 0, c.data.length, c.offset);
      } finally {
        f.closeSync(fd);
      }
      return;
    }
    case 'truncate':
      f.truncateSync(join(root, c.path), c.size);
      return;
    case 'unlink':
      f.unlinkSync(join(root, c.path));
      return;
    case 'rmdir':
      f.rmdirSync(join(root, c.path));
      return;
    case 'rename':
      f.renameSync(join(root, c.from), join(root, c.to));
      return;
    case 'link':
      f.linkSync(join(root, c.from), join(root, c.to));
      return;
    case 'symlink':
      f.symlinkSync(c.target, join(root, c.path));
      return;
    case 'utimes':
      f.lutimesSync(join(root, c.path), Number(c.atimeNs) / 1e9, Number(c.mtimeNs) / 1e9);
      return;
  }
}
