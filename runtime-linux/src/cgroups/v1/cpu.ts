/** cgroup v1 cpu: CFS quota over a 100 ms period for --cpus. */
import type { Controller } from '../types.js';
import { writeCgroupFile } from '../fs.js';

export const CFS_PERIOD_US = 100_000;

export const cpuV1: Controller = {
  name: 'cpu',
  async apply(dir, r) {
    if (r.cpus === undefined) return;
    await writeCgroupFile(dir, 'cpu.cfs_period_us', String(CFS_PERIOD_US));
    await writeCgroupFile(dir, 'cpu.cfs_quota_us', String(Math.max(1000, Math.round(r.cpus * CFS_PERIOD_US))));
  },
  async stats() {},
};
