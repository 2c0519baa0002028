/**
 * Where containers' per-boot files go (see state.ts): a tmpfs, as crun keeps
 * /run/crun, so a start makes nothing on the disk. /run is tmpfs on most
 * systems but not all (this project's VMs have it on the root ext4, where a
 * file made costs 0.3-1 ms); /dev/shm is tmpfs nearly everywhere. A directory
 * in a world-writable place is only used when it is ours (a real directory,
 * owned by root, writable by no one else); otherwise <stateDir>/run.
 */
import { lstatSync, mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

const TMPFS_MAGIC = 0x01021994;

function isTmpfs(path: string): boolean {
  try {
    return statfsSync(path).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/** `dir` made (mode 0700) or found, and safe to trust: not a symlink, ours, closed to others. */
function ownDir(dir: string): boolean {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === (process.getuid?.() ?? 0) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** The run root for a state directory whose key (hash) is `key`. */
export function defaultRunRoot(stateDir: string, key: string, candidates = ['/run', '/dev/shm']): string {
  for (const base of candidates) {
    if (isTmpfs(base) && ownDir(join(base, 'skiff'))) return join(base, 'skiff', key);
  }
  return join(stateDir, 'run');
}
