/**
 * The benchmark harness: each case measures skiff and its peers in the same
 * run, alternating them round by round so a noisy machine hurts both alike,
 * and reports medians, spread and ratios.
 */
export interface Contender {
  name: string;
  /** Runs the work once and returns its duration in ms (or undefined to time the call). */
  run(): Promise<number | void>;
}

export interface BenchCase {
  name: string;
  description: string;
  /** What "good" means, e.g. "skiff at most 0.5x node:wasi". */
  goal?: string;
  /** Prepares the contenders; a peer that is missing here is reported, not hidden. */
  setup(o: { quick: boolean }): Promise<{ contenders: Contender[]; unavailable?: Record<string, string>; teardown?: () => Promise<void>; unit?: string }>;
  rounds?: { quick: number; full: number };
}

export interface ContenderResult {
  name: string;
  samples: number[];
  median: number;
  min: number;
  max: number;
  /** Half the inter-quartile range relative to the median, in percent. */
  spreadPct: number;
}

export interface CaseResult {
  case: string;
  description: string;
  goal?: string;
  unit: string;
  results: ContenderResult[];
  /** skiff's median over each peer's (below 1 means skiff is faster). */
  ratios: Record<string, number>;
  unavailable: Record<string, string>;
}

export function summarize(name: string, samples: number[]): ContenderResult {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))]!;
  const median = q(0.5);
  return { name, samples, median, min: s[0]!, max: s[s.length - 1]!, spreadPct: median > 0 ? ((q(0.75) - q(0.25)) / 2 / median) * 100 : 0 };
}

export async function runCase(c: BenchCase, quick: boolean): Promise<CaseResult> {
  const { contenders, unavailable = {}, teardown, unit = 'ms' } = await c.setup({ quick });
  const rounds = quick ? (c.rounds?.quick ?? 3) : (c.rounds?.full ?? 9);
  const samples = new Map<string, number[]>(contenders.map((x) => [x.name, []]));
  try {
    // One warm-up round, then alternate the order each round.
    for (const x of contenders) await x.run();
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? contenders : [...contenders].reverse();
      for (const x of order) {
        const t0 = performance.now();
        const reported = await x.run();
        samples.get(x.name)!.push(typeof reported === 'number' ? reported : performance.now() - t0);
        await new Promise((res) => setImmediate(res));
      }
    }
  } finally {
    await teardown?.();
  }
  const results = contenders.map((x) => summarize(x.name, samples.get(x.name)!));
  // Ratios are skiff's: none when skiff itself could not be measured.
  const skiff = results[0]?.name.startsWith('skiff') ? results[0] : undefined;
  const ratios: Record<string, number> = {};
  if (skiff) for (const r of results.slice(1)) ratios[r.name] = r.median > 0 ? skiff.median / r.median : NaN;
  return { case: c.name, description: c.description, ...(c.goal ? { goal: c.goal } : {}), unit, results, ratios, unavailable };
}

export function toMarkdown(results: CaseResult[], machine: Record<string, string>): string {
  const lines = ['| case | contender | median | spread | ratio (skiff / peer) |', '|---|---|---|---|---|'];
  for (const c of results) {
    for (const r of c.results) {
      const ratio = c.ratios[r.name] === undefined ? '' : `${c.ratios[r.name]!.toFixed(2)}x`;
      lines.push(`| ${r === c.results[0] ? c.case : ''} | ${r.name} | ${fmt(r.median)} ${c.unit} | ±${r.spreadPct.toFixed(1)}% | ${ratio} |`);
    }
    for (const [n, why] of Object.entries(c.unavailable)) lines.push(`| | ${n} | not measured: ${why} | | |`);
  }
  const m = Object.entries(machine).map(([k, v]) => `${k}: ${v}`).join('; ');
  const goals = results.filter((c) => c.goal).map((c) => `- ${c.case}: ${c.goal}`);
  return [`Measured ${new Date().toISOString()} on ${m}.`, '', ...lines, '', ...(goals.length ? ['Goals:', ...goals, ''] : [])].join('\n');
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toPrecision(3);
}
