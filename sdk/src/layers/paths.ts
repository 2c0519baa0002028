/** Tar entry paths: cleaned and kept inside the root. */
import { invalidArgument } from '../errors/index.js';

/**
 * `./a//b/` -> `a/b`; a leading `/` is dropped (as GNU tar does); `..` that
 * would climb above the root is refused. Returns '' for the root itself.
 */
export function cleanEntryPath(p: string): string {
  if (p.includes('\0')) throw invalidArgument(`refusing tar entry "${p.replace(/\0/g, '\\0')}": NUL in the name`);
  // Fast path: most layer paths are already clean.
  if (p !== '' && !p.startsWith('/') && !p.endsWith('/') && !p.includes('//') && !/(^|\/)\.\.?(\/|$)/.test(p)) return p;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) throw invalidArgument(`refusing tar entry "${p}": it points outside the target directory`);
      out.pop();
      continue;
    }
    out.push(seg);
  }
  return out.join('/');
}

/** A link target resolved against the entry's directory, checked to stay inside. */
export function resolveInside(fromDir: string, target: string): string {
  return cleanEntryPath(target.startsWith('/') ? target : `${fromDir}/${target}`);
}

/** The directory part of a clean path ('' at the top). */
export function parentOf(clean: string): string {
  const slash = clean.lastIndexOf('/');
  return slash < 0 ? '' : clean.slice(0, slash);
}
