/**
 * Restart policies (`--restart`, compose's `restart:`), as dockerd applies
 * them: `no`; `on-failure[:N]` (a non-zero exit, at most N times);
 * `always`; `unless-stopped` (like always, but not after the user stopped
 * it, not even when the engine starts again). A stop or kill by the user
 * is never undone by a restart. Restarts back off: 100 ms, doubling up to a
 * minute, back to 100 ms after a run that lasted 10 s.
 */
import { invalidArgument } from '../errors/index.js';

export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface RestartPolicy {
  name: RestartPolicyName;
  /** on-failure only: the most restarts; 0 means no limit. */
  maximumRetryCount?: number;
}

/** `always`, `on-failure:3`... */
export function parseRestartPolicy(text: string): RestartPolicy {
  const [name, count] = text.split(':') as [string, string?];
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw invalidArgument(`invalid restart policy "${text}": use no, always, unless-stopped or on-failure[:max-retries]`);
  if (count !== undefined) {
    if (name !== 'on-failure') throw invalidArgument(`invalid restart policy "${text}": only on-failure takes a retry count`);
    if (!/^\d+$/.test(count)) throw invalidArgument(`invalid restart policy "${text}": the retry count must be a whole number`);
    return { name, maximumRetryCount: Number(count) };
  }
  return { name: name as RestartPolicyName };
}

export function checkRestartPolicy(p: RestartPolicy): RestartPolicy {
  parseRestartPolicy(p.name);
  if (p.maximumRetryCount !== undefined && (p.name !== 'on-failure' ? p.maximumRetryCount !== 0 : !(Number.isInteger(p.maximumRetryCount) && p.maximumRetryCount >= 0))) {
    throw invalidArgument(`invalid restart policy: a maximum retry count (${p.maximumRetryCount}) goes with on-failure only, as a whole number`);
  }
  return p;
}

/** Whether an exit should be followed by a restart. */
export function shouldRestart(p: RestartPolicy | undefined, o: { exitCode: number; restartCount: number; stoppedByUser: boolean }): boolean {
  if (!p || p.name === 'no' || o.stoppedByUser) return false;
  if (p.name === 'on-failure') return o.exitCode !== 0 && (!p.maximumRetryCount || o.restartCount < p.maximumRetryCount);
  return true;
}

/** Whether an engine starting up should start the container again (docker's daemon start). */
export function restartsOnEngineStart(p: RestartPolicy | undefined, stoppedByUser: boolean): boolean {
  return p?.name === 'always' || (p?.name === 'unless-stopped' && !stoppedByUser);
}

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const STABLE_RUN_MS = 10_000;

/** The wait before the next restart, from the previous wait and how long the run lasted. */
export function nextRestartDelay(previousMs: number, ranMs: number): number {
  if (ranMs >= STABLE_RUN_MS || previousMs === 0) return FIRST_DELAY_MS;
  return Math.min(previousMs * 2, MAX_DELAY_MS);
}
