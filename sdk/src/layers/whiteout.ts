/** OCI whiteouts: `.wh.NAME` deletes NAME from lower layers; `.wh..wh..opq` empties a directory. */
import { invalidArgument } from '../errors/index.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
/** Names under this prefix are aufs bookkeeping (`.wh..wh.plnk`, ...), not files. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';

export type Whiteout = { kind: 'whiteout'; target: string } | { kind: 'opaque'; dir: string };

/** Classifies a clean, relative entry path. */
export function classifyWhiteout(path: string): Whiteout | undefined {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  const dir = slash < 0 ? '' : path.slice(0, slash);
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') throw invalidArgument(`invalid whiteout entry "${path}": a whiteout must name a file`);
  return { kind: 'whiteout', target: dir ? `${dir}/${name}` : name };
}

/** True for aufs metadata entries (and what lies below them), which appliers skip. */
export function isWhiteoutMeta(path: string): boolean {
  if (!path.includes(WHITEOUT_META_PREFIX)) return false;
  return path.split('/').some((seg) => seg.startsWith(WHITEOUT_META_PREFIX) && seg !== OPAQUE_MARKER);
}

/** The whiteout entry that deletes `target`. */
export function whiteoutPath(target: string): string {
  const slash = target.lastIndexOf('/');
  return slash < 0 ? `${WHITEOUT_PREFIX}${target}` : `${target.slice(0, slash)}/${WHITEOUT_PREFIX}${target.slice(slash + 1)}`;
}
