/** cgroup v2 cpu: cpu.max "quota period" for --cpus or --cpu-quota/--cpu-period, cpu.weight from --cpu-shares; usage_usec from cpu.stat. */
import type { Controller } from '../types.js';
import { readKeyed, writeCgroupFile } from '../fs.js';

export const CPU_PERIOD_US = 100_000;

/** runc's mapping of v1 shares (2..262144) onto v2 weights (1..10000); 1024 becomes 39. */
export function sharesToWeight(shares: number): number {
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

export const cpuV2: Controller = {
  name: 'cpu',
  wanted: (r) => r.cpus !== undefined || r.cpuShares !== undefined || r.cpuQuotaUs !== undefined || r.cpuPeriodUs !== undefined,
  async apply(dir, r) {
    if (r.cpuShares !== undefined) await writeCgroupFile(dir, 'cpu.weight', String(sharesToWeight(r.cpuShares)));
    if (r.cpus !== undefined) await writeCgroupFile(dir, 'cpu.max', `${Math.max(1000, Math.round(r.cpus * CPU_PERIOD_US))} ${CPU_PERIOD_US}`);
    else if (r.cpuQuotaUs !== undefined || r.cpuPeriodUs !== undefined) {
      const quota = r.cpuQuotaUs === undefined || r.cpuQuotaUs === -1 ? 'max' : String(r.cpuQuotaUs);
      await writeCgroupFile(dir, 'cpu.max', `${quota} ${r.cpuPeriodUs ?? CPU_PERIOD_US}`);
    }
  },
  async stats(dir, into) {
    const us = await readKeyed(dir, 'cpu.stat', 'usage_usec');
    if (us !== undefined) into.cpuNanos = us * 1000;
  },
};
