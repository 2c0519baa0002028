/** cgroup v1 cpu: CFS quota over a 100 ms period for --cpus, or docker's own --cpu-quota/--cpu-period; cpu.shares. */
import type { Controller } from '../types.js';
import { writeCgroupFile } from '../fs.js';

export const CFS_PERIOD_US = 100_000;

export const cpuV1: Controller = {
  name: 'cpu',
  wanted: (r) => r.cpus !== undefined || r.cpuShares !== undefined || r.cpuQuotaUs !== undefined || r.cpuPeriodUs !== undefined,
  async apply(dir, r) {
    if (r.cpuShares !== undefined) await writeCgroupFile(dir, 'cpu.shares', String(r.cpuShares));
    if (r.cpus !== undefined) {
      await writeCgroupFile(dir, 'cpu.cfs_period_us', String(CFS_PERIOD_US));
      await writeCgroupFile(dir, 'cpu.cfs_quota_us', String(Math.max(1000, Math.round(r.cpus * CFS_PERIOD_US))));
      return;
    }
    if (r.cpuPeriodUs !== undefined) await writeCgroupFile(dir, 'cpu.cfs_period_us', String(r.cpuPeriodUs));
    if (r.cpuQuotaUs !== undefined) await writeCgroupFile(dir, 'cpu.cfs_quota_us', String(r.cpuQuotaUs));
  },
  async stats() {},
};
