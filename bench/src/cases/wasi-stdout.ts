/** 100,000 short lines to stdout (`seq 100000` in C), captured by the host. */
import type { BenchCase } from '../harness.js';
import { wasiContenders } from '../peers/wasi-case.js';

export const wasiStdoutCase: BenchCase = {
  name: 'wasi-stdout',
  description: 'a WASI program prints 100,000 short lines (printf per line); the host captures stdout (node:wasi: into a file on tmpfs)',
  goal: 'skiff at most 0.5x node:wasi',
  rounds: { quick: 3, full: 9 },
  async setup({ quick }) {
    const lines = quick ? 20_000 : 100_000;
    let expected = 0;
    for (let i = 1; i <= lines; i++) expected += String(i).length + 1;
    const setup = await wasiContenders(async (s) => {
      const run = await s.warm('wasibench');
      return async () => {
        const r = await run(['seq', String(lines)]);
        if (r.stdoutBytes !== expected) throw new Error(`${s.name}: seq ${lines} wrote ${r.stdoutBytes} bytes, expected ${expected}`);
        return r.ms;
      };
    });
    return { ...setup, unit: `ms per ${lines.toLocaleString('en')} lines` };
  },
};
