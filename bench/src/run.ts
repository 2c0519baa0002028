/**
 * `npm run bench [-- NAME...] [--quick]`: runs the benchmark cases and writes
 * bench/results/latest.md and latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCase, toMarkdown, type BenchCase, type CaseResult } from './harness.js';
import { machineInfo } from './machine.js';
import { allCases } from './cases/index.js';

export async function runBenchmarks(argv: string[], cases: BenchCase[] = allCases): Promise<{ results: CaseResult[]; markdown: string; dir: string }> {
  const quick = argv.includes('--quick');
  const outFlag = argv.indexOf('--out');
  const names = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--out');
  const selected = names.length ? cases.filter((c) => names.some((n) => c.name.includes(n))) : cases;
  if (names.length && selected.length === 0) throw new Error(`no benchmark matches ${names.join(', ')}; cases: ${cases.map((c) => c.name).join(', ')}`);
  const results: CaseResult[] = [];
  for (const c of selected) {
    process.stderr.write(`bench: ${c.name}...\n`);
    results.push(await runCase(c, quick));
  }
  const machine = machineInfo();
  const markdown = toMarkdown(results, machine);
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = outFlag >= 0 ? argv[outFlag + 1]! : join(here, '..', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.md'), markdown + '\n');
  writeFileSync(join(dir, 'latest.json'), JSON.stringify({ date: new Date().toISOString(), quick, machine, results }, null, 2) + '\n');
  return { results, markdown, dir };
}

const invoked = process.argv[1] && /run\.(js|ts)$/.test(process.argv[1]);
if (invoked) {
  runBenchmarks(process.argv.slice(2)).then(
    ({ markdown }) => process.stdout.write(markdown + '\n'),
    (err) => {
      process.stderr.write(`bench: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
