/**
 * Small file helpers for cgroup interface files; errors name the file and errno.
 * Synchronous inside: these are tiny kernel files on the start path, where a
 * thread-pool round trip per file costs more than the write itself.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { SkiffError } from '@skiff/sdk';

export async function writeCgroupFile(dir: string, file: string, value: string): Promise<void> {
  const path = `${dir}/${file}`;
  try {
    writeFileSync(path, value);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const code = e.code === 'ENOENT' ? 'UNAVAILABLE' : e.code === 'EINVAL' || e.code === 'EBUSY' ? 'INVALID_ARGUMENT' : 'INTERNAL';
    throw new SkiffError(code, `write "${value}" to ${path}: ${e.code ?? e.message}${e.code === 'ENOENT' ? ' (the kernel lacks this cgroup controller or setting)' : ''}`, { cause: err });
  }
}

/** The file's contents, or undefined when it does not exist. */
export async function readCgroupFile(dir: string, file: string): Promise<string | undefined> {
  try {
    return readFileSync(`${dir}/${file}`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function readNumber(dir: string, file: string): Promise<number | undefined> {
  const s = await readCgroupFile(dir, file);
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** A value from a flat keyed file ("key value" lines: memory.events, cpu.stat, oom_control). */
export async function readKeyed(dir: string, file: string, key: string): Promise<number | undefined> {
  const s = await readCgroupFile(dir, file);
  if (s === undefined) return undefined;
  for (const line of s.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined) return Number(v);
  }
  return undefined;
}
