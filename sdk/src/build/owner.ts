/**
 * `--chown=USER[:GROUP]` for COPY and ADD: numeric IDs, or names looked up in
 * the stage's own /etc/passwd and /etc/group as they are at that step, as
 * docker does. Without a group, the user part is used for the group too (a
 * UID is its own GID); a user name with no group of that name falls back to
 * the user's primary group.
 */
import type { FileSpec, StageFiles } from './layer-io.js';

export interface Owner {
  user: string;
  group?: string;
}

export interface Ids {
  uid: number;
  gid: number;
}

const NUMERIC = /^\d+$/;

/** Parses the flag's value; undefined when it is malformed. */
export function parseOwner(v: string): Owner | undefined {
  const parts = v.split(':');
  if (parts.length > 2 || parts.some((p) => p === '' || /\s/.test(p))) return undefined;
  return parts.length === 2 ? { user: parts[0]!, group: parts[1]! } : { user: parts[0]! };
}

/** Whether resolving needs the stage's files (a name, not only numbers). */
export function needsLookup(o: Owner): boolean {
  return !NUMERIC.test(o.user) || (o.group !== undefined && !NUMERIC.test(o.group));
}

/** Resolves names against the stage's files; `fail` gets a message naming what is unknown. */
export function resolveOwner(o: Owner, files: StageFiles | undefined, fail: (m: string) => never): Ids {
  const table = (path: string) => {
    const text = files ? fileText(files, path) : undefined;
    return text === undefined ? undefined : text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  };
  let uid: number;
  let primary: number | undefined;
  if (NUMERIC.test(o.user)) uid = Number(o.user);
  else {
    const passwd = table('etc/passwd') ?? fail(`--chown=${show(o)}: the image has no /etc/passwd to look up the user "${o.user}"; use a numeric UID or create the user first`);
    const row = passwd.find((r) => r[0] === o.user) ?? fail(`--chown=${show(o)}: no user "${o.user}" in the image's /etc/passwd`);
    uid = Number(row[2]);
    primary = Number(row[3]);
    if (!Number.isInteger(uid)) fail(`--chown=${show(o)}: the /etc/passwd entry of "${o.user}" has no valid UID`);
  }
  const groupName = o.group ?? o.user;
  let gid: number;
  if (NUMERIC.test(groupName)) gid = Number(groupName);
  else {
    const row = table('etc/group')?.find((r) => r[0] === groupName);
    if (row && Number.isInteger(Number(row[2])) && row[2] !== '') gid = Number(row[2]);
    else if (o.group === undefined && primary !== undefined && Number.isInteger(primary)) gid = primary;
    else fail(`--chown=${show(o)}: no group "${groupName}" in the image's /etc/group`);
  }
  return { uid, gid: gid! };
}

function show(o: Owner): string {
  return o.group === undefined ? o.user : `${o.user}:${o.group}`;
}

/** A file's text, following symlinks inside the stage (a few hops). */
function fileText(files: StageFiles, path: string): string | undefined {
  let p = path;
  for (let hop = 0; hop < 8; hop++) {
    const f: FileSpec | undefined = files.get(p);
    if (!f) return undefined;
    if (f.type === 'file') return new TextDecoder().decode(f.data ?? new Uint8Array());
    if (f.type !== 'symlink' || f.linkname === undefined) return undefined;
    const dir = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
    p = normalize(f.linkname.startsWith('/') ? f.linkname : `${dir}/${f.linkname}`);
  }
  return undefined;
}

function normalize(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return out.join('/');
}
