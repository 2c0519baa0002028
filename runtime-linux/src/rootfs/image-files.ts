/**
 * Reading a file of the container's merged view without mounting it: the
 * topmost of the upper dir and the layers that has it wins; a whiteout (char
 * 0/0) or an opaque parent stops the search. Enough for /etc/passwd and /etc/group.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function readMergedFile(dirsTopFirst: string[], path: string): string | undefined {
  const rel = path.replace(/^\/+/, '');
  for (const dir of dirsTopFirst) {
    const abs = join(dir, rel);
    let st;
    try {
      st = lstatSync(abs);
    } catch {
      continue;
    }
    if (st.isCharacterDevice() && st.rdev === 0) return undefined; // whited out
    if (!st.isFile()) return undefined;
    try {
      return readFileSync(abs, 'utf8');
    } catch {
      return undefined;
    }
  }
  return undefined;
}
