/** Docker's `filters` query parameter: `{"label":["a=b"]}`, or the old form `{"label":{"a=b":true}}`. */
import { invalidArgument } from '../errors/index.js';

export type Filters = Record<string, string[]>;

export function parseFilters(raw: string | null | undefined): Filters {
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
