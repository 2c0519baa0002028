/**
 * 100,000 short lines to stdout, captured by the host, in two guests:
 * - wasi-stdout: one write(2) per line, as line-buffered programs do (Rust's
 *   println!, C on a tty or under _IOLBF, Python -u). Each line is a host
 *   call; what the host does with it (batch it, or write it out) is measured.
 * - wasi-stdout-buffered: printf through stdio's full buffer (C when stdout is
 *   not a terminal): a few dozen host calls, so the guest's own formatting is
 *   most of the time and every host comes out close.
 */
import type { BenchCase } from '../harness.js';
import { wasiContenders } from '../peers/wasi-case.js';

function stdoutCase(name: string, command: 'lines' | 'seq', description: string, goal?: string): BenchCase {
  return {
    name,
    description,
    ...(goal ? { goal } : {}),
    rounds: { quick: 3, full: 9 },
    async setup({ quick }) {
      const lines = quick ? 20_000 : 100_000;
      let expected = 0;
      for (let i = 1; i <= lines; i++) expected += String(i).length + 1;
      const setup = await wasiContenders(async (s) => {
        const run = await s.warm('wasibench');
        return async () => {
          const r = await run([command, String(lines)]);
          if (r.stdoutBytes !== expected) throw new Error(`${s.name}: ${command} ${lines} wrote ${r.stdoutBytes} bytes, expected ${expected}`);
          return r.ms;
        };
      });
      return { ...setup, unit: `ms per ${lines.toLocaleString('en')} lines` };
    },
  };
}

export const wasiStdoutCase = stdoutCase(
  'wasi-stdout', 'lines',
  'a WASI program writes 100,000 short lines, one write(2) per line; the host captures stdout (node:wasi: into a file on tmpfs)',
  'skiff at most 0.5x node:wasi',
);

export const wasiStdoutBufferedCase = stdoutCase(
  'wasi-stdout-buffered', 'seq',
  'the same 100,000 lines through printf and stdio\'s full buffer (stdout is not a tty): the guest\'s formatting dominates',
);
