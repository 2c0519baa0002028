/** cgroup v2 cpu: cpu.max "quota period" for --cpus; usage_usec from cpu.stat. */
import type { Controller } from '../types.js';
import { readKeyed, writeCgroupFile } from '../fs.js';

export const CPU_PERIOD_US = 100_000;

export const cpuV2: Controller = {
  name: 'cpu',
  async apply(dir, r) {
    if (r.cpus === undefined) return;
    await writeCgroupFile(dir, 'cpu.max', `${Math.max(1000, Math.round(r.cpus * CPU_PERIOD_US))} ${CPU_PERIOD_US}`);
  },
  async stats(dir, into) {
    const us = await readKeyed(dir, 'cpu.stat', 'usage_usec');
    if (us !== undefined) into.cpuNanos = us * 1000;
  },
};
