/**
 * WASI hello-world warm start: the module is compiled and cached; each start
 * is a fresh container (skiff) or a fresh instance with fresh WASI state
 * (node:wasi, the plain shim). Each round times a batch of starts one by one
 * and reports their median.
 */
import type { BenchCase } from '../harness.js';
import { median, repeat, wasiContenders } from '../peers/wasi-case.js';

export const wasiWarmStartCase: BenchCase = {
  name: 'wasi-warm-start',
  description: 'WASI hello world, warm: cached module, fresh container (or fresh instance) per start; median of a batch of single starts',
  goal: 'skiff under 0.1 ms',
  rounds: { quick: 3, full: 9 },
  async setup({ quick }) {
    const batch = quick ? 50 : 300;
    return wasiContenders(async (s) => {
      const run = await s.warm('wasibench');
      return async () => median(await repeat(batch, () => run(['hello'])));
    });
  },
};
