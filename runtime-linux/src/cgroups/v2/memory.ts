/** cgroup v2 memory: memory.max, memory.swap.max (none on top unless a swap limit is set), memory.low, memory.current, OOM kills from memory.events. */
import { unavailable } from '@skiff/sdk';
import type { Controller } from '../types.js';
import { readCgroupFile, readKeyed, readNumber, writeCgroupFile } from '../fs.js';

export const memoryV2: Controller & { oomKills(dir: string): Promise<number> } = {
  name: 'memory',
  wanted: (r) => r.memoryBytes !== undefined || r.memorySwapBytes !== undefined || r.memoryReservationBytes !== undefined,
  async apply(dir, r) {
    if (r.memoryBytes !== undefined) {
      // Lowering memory.max below the usage makes the kernel reclaim, then OOM-kill: it never refuses.
      await writeCgroupFile(dir, 'memory.max', String(r.memoryBytes));
      // docker's MemorySwap is memory plus swap; v2's swap.max is the swap alone.
      const swap = r.memorySwapBytes === -1 ? 'max' : r.memorySwapBytes !== undefined ? String(r.memorySwapBytes - r.memoryBytes) : '0';
      if ((await readCgroupFile(dir, 'memory.swap.max')) !== undefined) await writeCgroupFile(dir, 'memory.swap.max', swap);
      else if (r.memorySwapBytes !== undefined && r.memorySwapBytes !== -1) throw unavailable(`this kernel does not account swap for cgroups (no memory.swap.max in ${dir}), so a memory+swap limit (--memory-swap) cannot be set; leave it out or use -1`);
    }
    if (r.memoryReservationBytes !== undefined) await writeCgroupFile(dir, 'memory.low', String(r.memoryReservationBytes));
  },
  async stats(dir, into) {
    const usage = await readNumber(dir, 'memory.current');
    if (usage !== undefined) into.memoryBytes = usage;
    const limit = await readNumber(dir, 'memory.max');
    if (limit !== undefined) into.memoryLimitBytes = limit;
  },
  async oomKills(dir) {
    return (await readKeyed(dir, 'memory.events', 'oom_kill')) ?? 0;
  },
};
