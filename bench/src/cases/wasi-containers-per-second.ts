/**
 * WASI containers per second: hello-world containers (or fresh instances)
 * back to back in one process, garbage collection included. Reported as ms
 * per 1,000 containers: 100 ms is 10,000 containers a second.
 */
import type { BenchCase } from '../harness.js';
import { repeat, wasiContenders } from '../peers/wasi-case.js';

export const wasiContainersPerSecondCase: BenchCase = {
  name: 'wasi-containers-per-second',
  description: 'hello-world WASI containers run back to back in one process (cached module, fresh container each)',
  goal: 'skiff at least 10,000 containers/s (under 100 ms per 1,000)',
  rounds: { quick: 3, full: 7 },
  async setup({ quick }) {
    const n = quick ? 200 : 2000;
    const setup = await wasiContenders(async (s) => {
      const run = await s.warm('wasibench');
      return async () => {
        const times = await repeat(n, () => run(['hello']));
        return (times.reduce((a, b) => a + b, 0) * 1000) / n;
      };
    });
    return { ...setup, unit: 'ms per 1,000 containers' };
  },
};
