/** cgroup v1 pids: pids.max for --pids-limit, pids.current for stats. */
import type { Controller } from '../types.js';
import { readNumber, writeCgroupFile } from '../fs.js';

export const pidsV1: Controller = {
  name: 'pids',
  wanted: (r) => r.pidsLimit !== undefined,
  async apply(dir, r) {
    if (r.pidsLimit === undefined) return;
    await writeCgroupFile(dir, 'pids.max', r.pidsLimit > 0 ? String(r.pidsLimit) : 'max');
  },
  async stats(dir, into) {
    const n = await readNumber(dir, 'pids.current');
    if (n !== undefined) into.pids = n;
  },
};
