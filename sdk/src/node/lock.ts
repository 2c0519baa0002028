/**
 * A cross-process lock: a lock file created with O_EXCL that holds the owner's
 * pid. A lock whose owner is dead is stale and is taken over.
 *
 * Taking over is itself guarded: two waiters that both see the same dead
 * owner must not both delete the file, or the second would delete the lock
 * the first has just taken. So a waiter first takes `<lock>.break` (O_EXCL
 * too), reads the lock again under it, and deletes it only if it still holds
 * the dead pid.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { cancelled, unavailable } from '../errors/index.js';

/** Whether a process with this pid exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock file that stays empty this long belongs to a process that died between create and write. */
const EMPTY_LOCK_GRACE_MS = 5_000;

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw unavailable(`cannot create the lock file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The owner's pid, `undefined` when the file is gone, NaN while it is being written. */
function ownerOf(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return text === '' ? NaN : Number(text);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function isStale(path: string, owner: number): boolean {
  if (Number.isNaN(owner)) {
    try {
      return Date.now() - statSync(path).mtimeMs > EMPTY_LOCK_GRACE_MS;
    } catch {
      return false;
    }
  }
  return !processAlive(owner);
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Removes `path` if its owner is (still) dead; true when it did. */
function breakStale(path: string): boolean {
  const breaker = `${path}.break`;
  if (!tryCreate(breaker)) {
    // Someone else is breaking; if that someone died doing it, clear their marker.
    const b = ownerOf(breaker);
    if (b !== undefined && isStale(breaker, b)) unlinkQuiet(breaker);
    return false;
  }
  try {
    const owner = ownerOf(path);
    if (owner !== undefined && isStale(path, owner)) {
      unlinkQuiet(path);
      return true;
    }
    return false;
  } finally {
    unlinkQuiet(breaker);
  }
}

export interface LockOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Runs `fn` holding the lock at `path`; waits (with backoff) while another live process holds it. */
export async function withLock<T>(path: string, fn: () => T | Promise<T>, options: LockOptions | number = {}): Promise<T> {
  const { timeoutMs = 30_000, signal } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  while (!tryCreate(path)) {
    const owner = ownerOf(path);
    if (owner === undefined) continue; // released between our create and read
    if (isStale(path, owner) && breakStale(path)) continue;
    if (signal?.aborted) throw cancelled(`cancelled while waiting for the lock ${path}`, signal.reason);
    if (Date.now() > deadline) {
      throw unavailable(`timed out after ${timeoutMs} ms waiting for the lock ${path} held by pid ${owner}; if that process is gone, remove the file`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await fn();
  } finally {
    unlinkQuiet(path);
  }
}
