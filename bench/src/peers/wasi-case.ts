/** Builds a WASI case's contenders: skiff first, then node:wasi and the plain shim. */
import type { Contender } from '../harness.js';
import { yieldToLoop } from './tools.js';
import { nodeWasiSubject, shimSubject, skiffSubject, type WasiSubject } from './wasi-subjects.js';

export interface WasiCaseSetup {
  contenders: Contender[];
  unavailable: Record<string, string>;
  teardown: () => Promise<void>;
}

/** `measure` turns a subject into its timed run (returning ms, or nothing to time the whole call). */
export async function wasiContenders(measure: (s: WasiSubject) => Promise<Contender['run']>): Promise<WasiCaseSetup> {
  const subjects: WasiSubject[] = [];
  const unavailable: Record<string, string> = {};
  const skiff = await skiffSubject();
  if (typeof skiff === 'string') unavailable.skiff = skiff;
  else subjects.push(skiff);
  subjects.push(nodeWasiSubject(), shimSubject());
  const contenders: Contender[] = [];
  for (const s of subjects) contenders.push({ name: s.name, run: await measure(s) });
  return { contenders, unavailable, teardown: async () => { for (const s of subjects) await s.dispose(); } };
}

/**
 * Runs `once` n times back to back, yielding to the event loop every 50 runs
 * (node:wasi on Node 20 crashes after several hundred fresh instances without
 * a turn of the loop), and returns each run's own time in ms.
 */
export async function repeat(n: number, once: () => Promise<{ ms: number }>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    times.push((await once()).ms);
    if (i % 50 === 49) await yieldToLoop();
  }
  return times;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}
