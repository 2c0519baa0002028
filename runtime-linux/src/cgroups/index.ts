/** cgroups: detect the host's layout, make a manager for a container, list what skiff left behind. */
import { existsSync, readFileSync, readdirSync, rmdirSync, statfsSync } from 'node:fs';
import type { CgroupManager, CgroupSetup } from './types.js';
import { V1CgroupManager } from './v1/manager.js';
import { V2CgroupManager } from './v2/manager.js';

export type { CgroupManager, CgroupSetup, Controller } from './types.js';
export { V1CgroupManager } from './v1/manager.js';
export { V2CgroupManager } from './v2/manager.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;

export interface CgroupOptions {
  /** Default /sys/fs/cgroup. */
  root?: string;
  /** Default: detected. */
  setup?: CgroupSetup;
  /** The directory (may be nested, "skiff/abc") under each hierarchy that holds these cgroups (default "skiff"). */
  parent?: string;
  /** v1: controller -> mount point (default: read from /proc/self/mountinfo). */
  mounts?: Record<string, string>;
  allowAllDevices?: boolean;
}

function isCgroup2(path: string): boolean {
  try {
    return statfsSync(path).type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** 'v2' when /sys/fs/cgroup is cgroup2, 'hybrid' when v1 with a cgroup2 at unified/, else 'v1'. */
export function detectCgroupSetup(root = '/sys/fs/cgroup'): CgroupSetup {
  if (isCgroup2(root)) return 'v2';
  if (existsSync(`${root}/unified`) && isCgroup2(`${root}/unified`)) return 'hybrid';
  return 'v1';
}

/** v1 controller -> mount point, from /proc/self/mountinfo. */
export function v1Mounts(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of mountinfo.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const [fstype, , superOpts] = line.slice(dash + 3).split(' ');
    if (fstype !== 'cgroup') continue;
    const mountPoint = line.slice(0, dash).split(' ')[4]!.replace(/\\040/g, ' ');
    for (const opt of (superOpts ?? '').split(',')) {
      if (['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'devices', 'freezer'].includes(opt) && !out[opt]) out[opt] = mountPoint;
    }
  }
  return out;
}

export function createCgroupManager(id: string, o: CgroupOptions = {}): CgroupManager {
  const root = o.root ?? '/sys/fs/cgroup';
  const setup = o.setup ?? detectCgroupSetup(root);
  const parent = o.parent ?? 'skiff';
  if (setup === 'v2') return new V2CgroupManager(id, root, parent);
  return new V1CgroupManager(id, {
    mounts: o.mounts ?? v1Mounts(),
    ...(setup === 'hybrid' ? { unified: `${root}/unified` } : {}),
    parent,
    ...(o.allowAllDevices ? { allowAllDevices: true } : {}),
  });
}

/** Ids of the cgroups in the parent directory, in every hierarchy (for orphan cleanup). */
export function listCgroupIds(o: CgroupOptions = {}): string[] {
  const root = o.root ?? '/sys/fs/cgroup';
  const setup = o.setup ?? detectCgroupSetup(root);
  const parent = o.parent ?? 'skiff';
  const bases = setup === 'v2' ? [root] : [...new Set(Object.values(o.mounts ?? v1Mounts())), ...(setup === 'hybrid' ? [`${root}/unified`] : [])];
  const ids = new Set<string>();
  for (const b of bases) {
    try {
      for (const e of readdirSync(`${b}/${parent}`, { withFileTypes: true })) if (e.isDirectory()) ids.add(e.name);
    } catch { /* no skiff directory in this hierarchy */ }
  }
  return [...ids];
}

/** Removes the parent directory in every hierarchy if no cgroup is left in it (best effort). */
export function removeEmptyParent(o: CgroupOptions = {}): void {
  const root = o.root ?? '/sys/fs/cgroup';
  const setup = o.setup ?? detectCgroupSetup(root);
  const parent = o.parent ?? 'skiff';
  const bases = setup === 'v2' ? [root] : [...new Set(Object.values(o.mounts ?? v1Mounts())), ...(setup === 'hybrid' ? [`${root}/unified`] : [])];
  for (const b of bases) {
    try { rmdirSync(`${b}/${parent}`); } catch { /* not empty, or gone */ }
  }
}
