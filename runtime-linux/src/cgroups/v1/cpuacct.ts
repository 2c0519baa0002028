/** cgroup v1 cpuacct: CPU time used, in nanoseconds. */
import type { Controller } from '../types.js';
import { readNumber } from '../fs.js';

export const cpuacctV1: Controller = {
  name: 'cpuacct',
  async apply() {},
  async stats(dir, into) {
    const ns = await readNumber(dir, 'cpuacct.usage');
    if (ns !== undefined) into.cpuNanos = ns;
  },
};
