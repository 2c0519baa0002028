/** HEALTHCHECK's arguments and flags as an image config's Healthcheck (durations in nanoseconds). */
import type { HealthConfig } from '../../image/types.js';
import type { Instruction } from './parser.js';

const DURATION = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/;

export function healthcheck(ins: Instruction, fail: (m: string) => never): HealthConfig {
  const args = ins.args.trim();
  if (/^none$/i.test(args)) return { Test: ['NONE'] };
  const m = /^CMD\s+(.*)$/is.exec(args) ?? fail('expected HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE');
  const rest = m[1]!.trim();
  let test: string[];
  try {
    test = rest.startsWith('[') ? ['CMD', ...(JSON.parse(rest) as string[])] : ['CMD-SHELL', rest];
  } catch {
    test = ['CMD-SHELL', rest];
  }
  const hc: HealthConfig = { Test: test };
  const ns = (k: string) => {
    const v = ins.flags[k];
    if (v === undefined) return undefined;
    const d = DURATION.exec(v) ?? fail(`invalid --${k} "${v}": use a duration like 30s`);
    return Math.round(Number(d[1]) * { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[d[2] as 'ns'])!;
  };
  const interval = ns('interval'); if (interval !== undefined) hc.Interval = interval;
  const timeout = ns('timeout'); if (timeout !== undefined) hc.Timeout = timeout;
  const sp = ns('start-period'); if (sp !== undefined) hc.StartPeriod = sp;
  const si = ns('start-interval'); if (si !== undefined) hc.StartInterval = si;
  if (ins.flags.retries !== undefined) {
    const r = Number(ins.flags.retries);
    if (!Number.isInteger(r) || r < 0) fail(`invalid --retries "${ins.flags.retries}"`);
    hc.Retries = r;
  }
  return hc;
}
