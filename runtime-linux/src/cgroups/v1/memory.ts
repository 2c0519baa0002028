/** cgroup v1 memory: limit_in_bytes, memsw (equal to it unless a swap limit is set: no swap on top), soft limit, usage, OOM kills. */
import { failedPrecondition, unavailable, type SkiffError } from '@skiff/sdk';
import type { Controller } from '../types.js';
import { readCgroupFile, readKeyed, readNumber, writeCgroupFile } from '../fs.js';

const UNLIMITED = 2 ** 62; // the kernel reports "unlimited" as a page-rounded LONG_MAX

export const memoryV1: Controller & { oomKills(dir: string): Promise<number> } = {
  name: 'memory',
  wanted: (r) => r.memoryBytes !== undefined || r.memorySwapBytes !== undefined || r.memoryReservationBytes !== undefined,
  async apply(dir, r) {
    if (r.memoryBytes !== undefined) {
      // Without swap accounting the memsw file is absent; with it, equal limits mean no swap (predictable OOM).
      const memsw = await readCgroupFile(dir, 'memory.memsw.limit_in_bytes');
      if (memsw === undefined && r.memorySwapBytes !== undefined && r.memorySwapBytes !== -1) throw noSwapAccounting(dir);
      if (memsw === undefined) await writeLimit(dir, r.memoryBytes);
      else {
        const swap = r.memorySwapBytes ?? r.memoryBytes;
        // The kernel keeps memsw >= limit at every step: raise memsw first, lower it last.
        if (swap === -1 || swap >= (Number(memsw.trim()) || 0)) {
          await writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', String(swap));
          await writeLimit(dir, r.memoryBytes);
        } else {
          await writeLimit(dir, r.memoryBytes);
          await writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', String(swap));
        }
      }
    }
    if (r.memoryReservationBytes !== undefined) await writeCgroupFile(dir, 'memory.soft_limit_in_bytes', String(r.memoryReservationBytes));
  },
  async stats(dir, into) {
    const usage = await readNumber(dir, 'memory.usage_in_bytes');
    if (usage !== undefined) into.memoryBytes = usage;
    const limit = await readNumber(dir, 'memory.limit_in_bytes');
    if (limit !== undefined && limit < UNLIMITED) into.memoryLimitBytes = limit;
  },
  async oomKills(dir) {
    return (await readKeyed(dir, 'memory.oom_control', 'oom_kill')) ?? 0;
  },
};

/** v1 refuses (EBUSY) a limit below what the cgroup uses once reclaim fails; v2 reclaims or OOM-kills instead. */
async function writeLimit(dir: string, bytes: number): Promise<void> {
  try {
    await writeCgroupFile(dir, 'memory.limit_in_bytes', String(bytes));
  } catch (err) {
    const cause = (err as SkiffError).cause as NodeJS.ErrnoException | undefined;
    if (cause?.code !== 'EBUSY') throw err;
    const usage = await readNumber(dir, 'memory.usage_in_bytes').catch(() => undefined);
    throw failedPrecondition(`cannot lower the memory limit to ${bytes} bytes: the container uses more${usage !== undefined ? ` (${usage} bytes)` : ''} and the kernel could not reclaim enough (EBUSY from ${dir}/memory.limit_in_bytes); free memory in the container, or stop it and update it then`, err);
  }
}

/** Without swap accounting the kernel cannot hold a memory+swap limit: say so rather than drop it. */
export function noSwapAccounting(dir: string): SkiffError {
  return unavailable(`this kernel does not account swap for cgroups (no memory.memsw.limit_in_bytes in ${dir}; boot with swapaccount=1), so a memory+swap limit (--memory-swap) cannot be set; leave it out or use -1`);
}
