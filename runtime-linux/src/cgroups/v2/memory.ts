/** cgroup v2 memory: memory.max (and no swap on top), memory.current, OOM kills from memory.events. */
import type { Controller } from '../types.js';
import { readCgroupFile, readKeyed, readNumber, writeCgroupFile } from '../fs.js';

export const memoryV2: Controller & { oomKills(dir: string): Promise<number> } = {
  name: 'memory',
  async apply(dir, r) {
    if (r.memoryBytes === undefined) return;
    await writeCgroupFile(dir, 'memory.max', String(r.memoryBytes));
    if ((await readCgroupFile(dir, 'memory.swap.max')) !== undefined) await writeCgroupFile(dir, 'memory.swap.max', '0');
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
