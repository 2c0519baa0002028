/**
 * 2,000 small files created, stat'ed, read back and deleted by a C program
 * under /tmp: skiff in the container's writable layer, node:wasi on a host
 * directory (tmpfs), the plain shim in its in-memory PreopenDirectory.
 */
import type { BenchCase } from '../harness.js';
import { wasiContenders } from '../peers/wasi-case.js';

export const wasiFilesCase: BenchCase = {
  name: 'wasi-files',
  description: 'a WASI program creates, stats, reads and deletes 2,000 small files under /tmp (node:wasi: a tmpfs host directory; shim: its in-memory tree)',
  goal: 'skiff at most 0.5x node:wasi and at most 1.2x the plain shim',
  rounds: { quick: 3, full: 9 },
  async setup({ quick }) {
    const n = quick ? 500 : 2000;
    const setup = await wasiContenders(async (s) => {
      const run = await s.warm('wasibench');
      return async () => (await run(['files', String(n), '/tmp/work'])).ms;
    });
    return { ...setup, unit: `ms per ${n.toLocaleString('en')} files` };
  },
};
