import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize, runCase } from './harness.js';
import { runBenchmarks } from './run.js';

describe('bench harness', () => {
  it('summarizes samples', () => {
    const s = summarize('x', [5, 1, 3, 2, 4]);
    expect(s).toMatchObject({ median: 3, min: 1, max: 5 });
    expect(s.spreadPct).toBeCloseTo(((4 - 2) / 2 / 3) * 100);
  });

  it('alternates contenders and reports ratios, writing results', async () => {
    const order: string[] = [];
    const slow = { name: 'peer', run: async () => { order.push('peer'); return 20; } };
    const fast = { name: 'skiff', run: async () => { order.push('skiff'); return 10; } };
    const c = { name: 'demo', description: 'd', setup: async () => ({ contenders: [fast, slow] }), rounds: { quick: 2, full: 2 } };
    const r = await runCase(c, true);
    expect(r.ratios.peer).toBeCloseTo(0.5);
    expect(order).toEqual(['skiff', 'peer', 'skiff', 'peer', 'peer', 'skiff']);
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const out = await runBenchmarks(['--quick', '--out', dir], [c]);
    expect(readFileSync(join(dir, 'latest.md'), 'utf8')).toContain('| demo | skiff |');
    expect(JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')).results[0].ratios.peer).toBeCloseTo(0.5);
    expect(out.results).toHaveLength(1);
  });
});
