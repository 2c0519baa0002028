/**
 * A cross-process lock: a lock file created with O_EXCL that holds the owner's
 * pid. A lock whose owner is dead is stale and taken over.
 */
import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { unavailable } from '../errors/index.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withLock<T>(path: string, fn: () => T | Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try { owner = Number(readFileSync(path, 'utf8')); } catch { /* just released */ }
      if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
        try { unlinkSync(path); } catch { /* someone else took it over */ }
        continue;
      }
      if (Date.now() > deadline) throw unavailable(`timed out waiting for the lock ${path} held by pid ${owner}; if that process is gone, remove the file`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 50);
    }
  }
  try {
    return await fn();
  } finally {
    try { unlinkSync(path); } catch { /* already gone */ }
  }
}
