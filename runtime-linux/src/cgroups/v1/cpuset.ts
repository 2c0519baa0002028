/**
 * cgroup v1 cpuset, made only for a container with --cpuset-cpus: a new v1
 * cpuset cgroup starts with no CPUs and no memory nodes, and the kernel
 * refuses to put a process into it (ENOSPC) until both are set. So each level
 * from the hierarchy's root down takes its parent's sets when it has none.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Controller } from '../types.js';
import { readCgroupFile, writeCgroupFile } from '../fs.js';

export const cpusetV1: Controller & { prepare(mount: string, dir: string): Promise<void> } = {
  name: 'cpuset',
  wanted: (r) => r.cpusetCpus !== undefined,
  async apply(dir, r) {
    if (r.cpusetCpus !== undefined) await writeCgroupFile(dir, 'cpuset.cpus', r.cpusetCpus);
  },
  async stats() {},
  /** Makes `dir` (under `mount`) and its parents, each with its parent's CPUs and memory nodes where it has none. */
  async prepare(mount, dir) {
    let parent = mount;
    for (const part of dir.slice(mount.length + 1).split('/')) {
      const cur = `${parent}/${part}`;
      if (!existsSync(cur)) mkdirSync(cur);
      for (const file of ['cpuset.mems', 'cpuset.cpus']) {
        if (((await readCgroupFile(cur, file)) ?? '').trim()) continue;
        await writeCgroupFile(cur, file, ((await readCgroupFile(parent, file)) ?? '').trim());
      }
      parent = cur;
    }
  },
};
