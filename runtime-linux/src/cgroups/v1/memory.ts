/** cgroup v1 memory: limit_in_bytes (and memsw equal to it, so no swap on top), usage, OOM kills. */
import type { Controller } from '../types.js';
import { readCgroupFile, readKeyed, readNumber, writeCgroupFile } from '../fs.js';

const UNLIMITED = 2 ** 62; // the kernel reports "unlimited" as a page-rounded LONG_MAX

export const memoryV1: Controller & { oomKills(dir: string): Promise<number> } = {
  name: 'memory',
  async apply(dir, r) {
    if (r.memoryBytes === undefined) return;
    await writeCgroupFile(dir, 'memory.limit_in_bytes', String(r.memoryBytes));
    // Without swap accounting the file is absent; with it, equal limits mean no swap (predictable OOM).
    if ((await readCgroupFile(dir, 'memory.memsw.limit_in_bytes')) !== undefined) await writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', String(r.memoryBytes));
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
