/**
 * --user: "uid[:gid]" or "name[:group]", resolved against the image's
 * /etc/passwd and /etc/group as docker does (supplementary groups from
 * /etc/group membership; a numeric uid missing from passwd is allowed).
 */
import { invalidArgument } from '@skiff/sdk';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** The user's name, when passwd knows it. */
  name?: string;
  home?: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5] ?? '/' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, gid, members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return out;
}

const isNumeric = (s: string) => /^\d+$/.test(s);
const MAX_ID = 2 ** 32 - 2;

export function resolveUser(spec: string | undefined, passwd: string | undefined, group: string | undefined): ResolvedUser {
  const users = parsePasswd(passwd ?? '');
  const groups = parseGroup(group ?? '');
  const [userPart = '', groupPart] = (spec ?? '').split(':', 2) as [string, string | undefined];
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (userPart === '') {
    uid = 0;
    entry = users.find((u) => u.uid === 0);
  } else if (isNumeric(userPart)) {
    uid = Number(userPart);
    if (uid > MAX_ID) throw invalidArgument(`invalid user "${spec}": uid ${userPart} is out of range`);
    entry = users.find((u) => u.uid === uid);
  } else {
    entry = users.find((u) => u.name === userPart);
    if (!entry) throw invalidArgument(`unable to find user ${userPart}: no matching entries in the image's /etc/passwd`);
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (isNumeric(groupPart)) {
      gid = Number(groupPart);
      if (gid > MAX_ID) throw invalidArgument(`invalid user "${spec}": gid ${groupPart} is out of range`);
    } else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw invalidArgument(`unable to find group ${groupPart}: no matching entries in the image's /etc/group`);
      gid = g.gid;
    }
  }
  // Supplementary groups: the primary one first (dockerd since the fix for
  // CVE-2023-25173, so a process cannot drop it with setgroups), then the
  // user's memberships in /etc/group only when no group was named, as docker does.
  const memberOf = groupPart === undefined && entry ? groups.filter((g) => g.members.includes(entry!.name)).map((g) => g.gid) : [];
  const out: ResolvedUser = { uid, gid, additionalGids: [...new Set([gid, ...memberOf])] };
  if (entry) { out.name = entry.name; out.home = entry.home; }
  return out;
}

/**
 * --group-add: each a number or a name from the image's /etc/group, added to
 * the user's supplementary groups after the primary one (docker's getUser),
 * without repeats.
 */
export function addGroups(user: ResolvedUser, names: string[], group: string | undefined): ResolvedUser {
  if (!names.length) return user;
  const groups = parseGroup(group ?? '');
  // dockerd lists the primary group first among them too (id shows groups=0(root),10(wheel)).
  const gids = [user.gid, ...user.additionalGids.filter((g) => g !== user.gid)];
  for (const n of names) {
    let gid: number;
    if (isNumeric(n)) {
      gid = Number(n);
      if (gid > MAX_ID) throw invalidArgument(`invalid group "${n}" for --group-add: gid is out of range`);
    } else {
      const g = groups.find((x) => x.name === n);
      if (!g) throw invalidArgument(`unable to find group ${n}: no matching entries in the image's /etc/group (--group-add takes names from it or numbers)`);
      gid = g.gid;
    }
    if (!gids.includes(gid)) gids.push(gid);
  }
  return { ...user, additionalGids: gids };
}
