/**
 * WASI hello-world cold start: compile and run a module never seen before
 * (each round's program carries a unique custom section, so V8's own cache of
 * compiled modules misses too). For skiff, cold also means a fresh runtime
 * that indexes the image's layer first.
 */
import type { BenchCase } from '../harness.js';
import { wasiContenders } from '../peers/wasi-case.js';

let round = 0;

export const wasiColdStartCase: BenchCase = {
  name: 'wasi-cold-start',
  description: 'WASI hello world, cold: compile a never-seen module and run it (skiff: a fresh runtime indexes the image layer, compiles, runs a container)',
  rounds: { quick: 5, full: 15 },
  async setup() {
    return wasiContenders(async (s) => async () => {
      const run = await s.cold('wasibench', `cold-${process.pid}-${round++}`);
      return (await run(['hello'])).ms;
    });
  },
};
