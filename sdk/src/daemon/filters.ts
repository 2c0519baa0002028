/** Docker's `filters` query parameter: `{"label":["a=b"]}`, or the old form `{"label":{"a=b":true}}`. */
import { invalidArgument, unsupported } from '../errors/index.js';

export type Filters = Record<string, string[]>;

/**
 * The filters of a request, each checked against the names the endpoint
 * takes (`handled`): a name dockerd takes that skiff does not (`notHere`) is
 * refused as such, any other in dockerd's words; none is ever ignored.
 */
export function parseFilters(raw: string | null | undefined, handled: readonly string[], notHere: readonly string[] = []): Filters {
  const out = readFilters(raw);
  for (const k of Object.keys(out)) {
    if (handled.includes(k)) continue;
    if (notHere.includes(k)) throw unsupported(`the '${k}' filter is not supported by skiff`);
    throw invalidArgument(`Invalid filter '${k}'`); // dockerd's words
  }
  return out;
}

function readFilters(raw: string | null | undefined): Filters {
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw invalidArgument(`invalid filters: not JSON (${(err as Error).message})`, err);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalidArgument('invalid filters: expected a JSON object like {"label":["key=value"]}');
  const out: Filters = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (Array.isArray(val)) out[k] = val.map(String);
    else if (val && typeof val === 'object') out[k] = Object.entries(val as Record<string, unknown>).filter(([, on]) => on).map(([x]) => x);
    else throw invalidArgument(`invalid filter "${k}": expected a list of values`);
  }
  return out;
}

/** `key` or `key=value` against labels. */
export function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** A time filter's value (until, since for events) as dockerd takes it: unix seconds (with a fraction), RFC 3339, or a duration before now (10m, 1h30m). Milliseconds. */
export function filterTime(name: string, v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const d = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(v);
  if (d && v) return now - Math.round(((Number(d[1] ?? 0) * 60 + Number(d[2] ?? 0)) * 60 + Number(d[3] ?? 0)) * 1000);
  const t = Date.parse(v);
  if (!Number.isNaN(t) && /^\d{4}-\d\d-\d\d/.test(v)) return t;
  throw invalidArgument(`invalid ${name} filter "${v}": give a unix timestamp, an RFC 3339 time, or a duration such as 10m`);
}

/** `label` and `label!` filters against labels: all `label` match, none of `label!`. */
export function labelsMatch(labels: Record<string, string>, f: Filters): boolean {
  return (f.label ?? []).every((l) => labelMatches(labels, l)) && !(f['label!'] ?? []).some((l) => labelMatches(labels, l));
}

/** The `until` filters as one bound (ms): the earliest; Infinity without any. */
export function untilOf(f: Filters): number {
  return f.until?.length ? Math.min(...f.until.map((v) => filterTime('until', v))) : Infinity;
}

/**
 * before/since as docker ps and docker images take them: created after every
 * `since` and before every `before` (and `until`, given as a bound), the
 * times of the named objects from `timeOf`.
 */
export async function createdWindow(f: Filters, timeOf: (ref: string) => Promise<number>, until = Infinity): Promise<(created: number) => boolean> {
  const before = Math.min(...(await Promise.all((f.before ?? []).map(timeOf))), until);
  const since = Math.max(...(await Promise.all((f.since ?? []).map(timeOf))));
  return (t) => t < before && t > since;
}
