/**
 * docker's `--tmpfs PATH[:OPTIONS]` and `--mount type=tmpfs,tmpfs-size=...`:
 * the mount options a tmpfs takes, checked here so a typo is an error
 * rather than a mount that fails at start (or, worse, an option dropped).
 */
import { invalidArgument } from '../errors/index.js';
import type { MountOption } from './options.js';

/** Flags docker passes to the kernel for a tmpfs (moby's mount option table, as far as it concerns tmpfs). */
const FLAGS = new Set(['rw', 'ro', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'sync', 'async', 'dirsync', 'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'mand', 'nomand']);
const VALUED: Record<string, RegExp> = {
  size: /^\d+[kmg%]?$/i,
  mode: /^[0-7]{3,4}$/,
  uid: /^\d+$/,
  gid: /^\d+$/,
  nr_inodes: /^\d+[kmg]?$/i,
  nr_blocks: /^\d+[kmg]?$/i,
};

/** Checks tmpfs mount options (`size=64m`, `mode=1777`, `noexec`...). */
export function checkTmpfsOptions(options: string[], where: string): string[] {
  for (const o of options) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    const ok = eq < 0 ? FLAGS.has(o) : VALUED[key]?.test(o.slice(eq + 1));
    if (!ok) throw invalidArgument(`invalid tmpfs option "${o}" in ${where}: use size=SIZE (e.g. 64m), mode=OCTAL, uid=N, gid=N, nr_inodes=N or a flag like noexec, nosuid, nodev, ro`);
  }
  return options;
}

/** `/run`, `/run:size=64m,noexec` -> a tmpfs mount with its options. */
export function parseTmpfsSpec(spec: string): MountOption {
  const i = spec.indexOf(':');
  const target = i < 0 ? spec : spec.slice(0, i);
  const options = i < 0 || i === spec.length - 1 ? [] : spec.slice(i + 1).split(',').filter(Boolean);
  if (!target.startsWith('/')) throw invalidArgument(`invalid tmpfs "${spec}": the container path must be absolute`);
  checkTmpfsOptions(options, `--tmpfs ${spec}`);
  return { type: 'tmpfs', target, ...(options.length ? { options } : {}) };
}
