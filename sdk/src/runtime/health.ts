/**
 * Health checks (docker's HEALTHCHECK, `--health-cmd`): while a container
 * runs, its test is exec'd every interval; its status goes `starting` →
 * `healthy`, or `unhealthy` after `retries` failures in a row (failures in
 * the start period do not count). The status and the last five results are
 * kept in the container's record, so `inspect` shows them as docker does.
 * Checks run in the process that runs the Engine (the daemon, or an SDK
 * program); they stop with the run.
 */
import { invalidArgument } from '../errors/index.js';
import type { HealthConfig } from '../image/types.js';

/** `10s`, `1m30s`, `1.5s`, `500ms`: seconds. */
export function durationSec(v: unknown, where: string): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') throw invalidArgument(`${where}: expected a duration such as 10s, got ${JSON.stringify(v)}`);
  const s = v;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)/g;
  let total = 0;
  let used = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const n = Number(m[1]);
    total += n * { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 }[m[2] as 'h']!;
    used += m[0].length;
  }
  if (used !== s.length || s === '') throw invalidArgument(`${where}: invalid duration "${s}": use e.g. 10s, 1m30s or 500ms`);
  return total;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthResult {
  start: string;
  end: string;
  exitCode: number;
  output: string;
}

export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  log: HealthResult[];
}

const SECOND_NS = 1_000_000_000;
/** docker's defaults, in nanoseconds as the image config keeps them. */
export const HEALTH_DEFAULTS = { interval: 30 * SECOND_NS, timeout: 30 * SECOND_NS, startPeriod: 0, startInterval: 5 * SECOND_NS, retries: 3 };
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

/** The check a container runs: the image's, overridden field by field by the create options; undefined when there is none or it is `NONE`. */
export function resolveHealthcheck(image: HealthConfig | undefined, override: HealthConfig | undefined): HealthConfig | undefined {
  const merged: HealthConfig = { ...(image ?? {}) };
  for (const [k, v] of Object.entries(override ?? {})) if (v !== undefined && v !== 0) (merged as Record<string, unknown>)[k] = v;
  const test = merged.Test;
  if (!test?.length || test[0] === 'NONE') return undefined;
  if (test[0] !== 'CMD' && test[0] !== 'CMD-SHELL') throw invalidArgument(`invalid health check test ${JSON.stringify(test)}: it starts with CMD, CMD-SHELL or NONE`);
  if (test.length < 2) throw invalidArgument(`invalid health check test ${JSON.stringify(test)}: no command`);
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
    const v = merged[k];
    if (v !== undefined && (v < 0 || (v > 0 && v < 1_000_000))) throw invalidArgument(`health check ${k} must be at least 1ms`);
  }
  if (merged.Retries !== undefined && merged.Retries < 0) throw invalidArgument('health check retries must not be negative');
  return merged;
}

/** The argv of a check: CMD runs as is, CMD-SHELL through the container's /bin/sh. */
export function healthArgv(h: HealthConfig): string[] {
  const [kind, ...rest] = h.Test!;
  return kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : rest;
}

/** Folds one result into the state, as docker does. */
export function nextHealth(prev: HealthState, result: HealthResult, h: HealthConfig, inStartPeriod: boolean): HealthState {
  const log = [...prev.log, { ...result, output: result.output.slice(0, MAX_OUTPUT) }].slice(-MAX_LOG);
  if (result.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  // In the start period a failure only counts once the container has been healthy.
  if (inStartPeriod && prev.status === 'starting') return { ...prev, log };
  const failingStreak = prev.failingStreak + 1;
  const retries = h.Retries || HEALTH_DEFAULTS.retries;
  return { status: failingStreak >= retries ? 'unhealthy' : prev.status, failingStreak, log };
}

export interface HealthRunner {
  /** Runs the check once; resolves with its exit code and output (kills it after `timeoutMs`). */
  exec(argv: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** Stores the new state; returns false when the run is over (stop checking). */
  save(state: HealthState): Promise<boolean>;
}

/** Checks until `ended` settles or save() says the run is over. */
export function monitorHealth(h: HealthConfig, run: HealthRunner, ended: Promise<unknown>): void {
  const started = Date.now();
  const ms = (ns: number | undefined, dflt: number) => (ns && ns > 0 ? ns : dflt) / 1e6;
  const interval = ms(h.Interval, HEALTH_DEFAULTS.interval);
  const timeout = ms(h.Timeout, HEALTH_DEFAULTS.timeout);
  const startPeriod = ms(h.StartPeriod, HEALTH_DEFAULTS.startPeriod);
  const startInterval = ms(h.StartInterval, HEALTH_DEFAULTS.startInterval);
  let over = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let state: HealthState = { status: 'starting', failingStreak: 0, log: [] };
  void ended.finally(() => {
    over = true;
    if (timer) clearTimeout(timer);
  });
  const tick = async () => {
    if (over) return;
    const inStart = Date.now() - started < startPeriod;
    const start = new Date().toISOString();
    let result: { exitCode: number; output: string };
    try {
      result = await run.exec(healthArgv(h), timeout);
    } catch (err) {
      result = { exitCode: -1, output: (err as Error).message };
    }
    if (over) return;
    state = nextHealth(state, { start, end: new Date().toISOString(), ...result }, h, inStart);
    if (!(await run.save(state).catch(() => false))) return;
    const next = Date.now() - started < startPeriod && state.status === 'starting' ? Math.min(startInterval, interval) : interval;
    if (!over) timer = setTimeout(() => void tick(), next);
    timer?.unref?.();
  };
  void run.save(state).then((alive) => {
    if (!alive || over) return;
    const first = startPeriod > 0 ? Math.min(startInterval, interval) : interval;
    timer = setTimeout(() => void tick(), first);
    timer.unref?.();
  });
}
