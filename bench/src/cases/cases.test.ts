/**
 * Every benchmark case runs in --quick mode and writes its figures. Speed is
 * never asserted here (goals live in the benchmark's table). Cases whose
 * programs or privileges are missing are left out on a developer machine and
 * fail with the reason under CI=true, where the setup installs everything.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { whyUnavailable } from '@skiff/runtime-linux';
import { runBenchmarks } from '../run.js';
import type { CaseResult } from '../harness.js';
import { allCases } from './index.js';
import { staticBusybox } from '../peers/busybox.js';
import { missingTool } from '../peers/tools.js';

const CI = process.env.CI === 'true';

/** Why a case cannot run here, or undefined. */
function missing(name: string): string | undefined {
  if (name === 'pull') return missingTool('docker-registry');
  if (name === 'unpack') return missingTool('tar');
  if (name === 'linux-start') return whyUnavailable() ?? (staticBusybox() ? undefined : 'no static busybox (busybox-static)');
  return undefined;
}

const runnable = allCases.filter((c) => CI || !missing(c.name));
const out = mkdtempSync(join(tmpdir(), 'skiff-bench-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('benchmark cases (--quick)', () => {
  it('has one case per scenario', () => {
    expect(allCases.map((c) => c.name)).toEqual(expect.arrayContaining(['pull', 'unpack', 'build', 'wasi-cold-start', 'wasi-warm-start', 'wasi-containers-per-second', 'wasi-stdout', 'wasi-stdout-buffered', 'wasi-files', 'wasi-sqlite', 'wasi-memory', 'linux-start']));
    expect(new Set(allCases.map((c) => c.name)).size).toBe(allCases.length);
  });

  it('runs every case and writes the table and the JSON', async () => {
    const left = allCases.filter((c) => !runnable.includes(c)).map((c) => `${c.name}: ${missing(c.name)}`);
    if (left.length) console.warn(`benchmark cases left out here:\n  ${left.join('\n  ')}`);
    // Exact names: runBenchmarks matches by substring.
    const { results } = await runBenchmarks(['--quick', '--out', out], runnable);
    expect(results.map((r) => r.case)).toEqual(runnable.map((c) => c.name));

    const json = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { quick: boolean; machine: Record<string, string>; results: CaseResult[] };
    expect(json.quick).toBe(true);
    expect(Number(json.machine.cores)).toBeGreaterThan(0);
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    for (const r of json.results) {
      expect(md).toContain(`| ${r.case} |`);
      expect(r.results.length).toBeGreaterThan(0);
      for (const c of r.results) {
        expect(c.samples.length, `${r.case} / ${c.name}`).toBeGreaterThan(0);
        for (const s of c.samples) expect(Number.isFinite(s) && s > 0, `${r.case} / ${c.name}: sample ${s}`).toBe(true);
      }
      // A peer that was not measured says why.
      for (const why of Object.values(r.unavailable)) expect(why.length).toBeGreaterThan(10);
      // Ratios exist exactly when skiff was measured.
      const skiffMeasured = r.results[0]!.name.startsWith('skiff');
      expect(Object.keys(r.ratios).length).toBe(skiffMeasured ? r.results.length - 1 : 0);
    }
    // The build case's own check (same digest on an unchanged rebuild) ran, or the run would have thrown.
    if (runnable.some((c) => c.name === 'build')) expect(json.results.find((r) => r.case === 'build')!.results.map((c) => c.name).slice(0, 2)).toEqual(['skiff rebuild (warm cache)', 'skiff cold build']);
  }, 300_000);
});
