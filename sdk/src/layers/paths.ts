/** Tar entry paths: cleaned and kept inside the root. */
import { invalidArgument } from '../errors/index.js';

/**
 * `./a//b/` -> `a/b`; a leading `/` is dropped (as GNU tar does); `..` that
 * would climb above the root is refused. Returns '' for the root itself.
 */
export function cleanEntryPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) throw invalidArgument(`refusing tar entry "${p}": it points outside the target directory`);
      out.pop();
      continue;
    }
    if (seg.includes('\0')) throw invalidArgument(`refusing tar entry "${p}": NUL in the name`);
    out.push(seg);
  }
  return out.join('/');
}

/** A link target resolved against the entry's directory, checked to stay inside. */
export function resolveInside(fromDir: string, target: string): string {
  return cleanEntryPath(target.startsWith('/') ? target : `${fromDir}/${target}`);
}
