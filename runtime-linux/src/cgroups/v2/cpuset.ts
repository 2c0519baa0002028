/** cgroup v2 cpuset: cpuset.cpus for --cpuset-cpus (the controller is enabled only for containers that ask). */
import type { Controller } from '../types.js';
import { writeCgroupFile } from '../fs.js';

export const cpusetV2: Controller = {
  name: 'cpuset',
  wanted: (r) => r.cpusetCpus !== undefined,
  async apply(dir, r) {
    if (r.cpusetCpus !== undefined) await writeCgroupFile(dir, 'cpuset.cpus', r.cpusetCpus);
  },
  async stats() {},
};
