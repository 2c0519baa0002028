/**
 * A container's logging driver and its options, as docker's HostConfig.LogConfig
 * (`--log-driver`, `--log-opt`): which drivers skiff has, what their options
 * mean, and the daemon-wide default merged in at create.
 *
 * - `json-file` (the default): the log store's JSON lines, rotated by size
 *   when `max-size` is given, keeping `max-file` files (default 1).
 * - `local`: the same files, rotated by default at 20m with 5 files kept, as
 *   docker's local driver (skiff does not compress the rotated files).
 * - `none`: nothing is kept; attach still streams, `logs` refuses.
 */
import { invalidArgument, unsupported } from '../errors/index.js';

export type LogDriver = 'json-file' | 'local' | 'none';

/** What a record keeps: docker's LogConfig with its Type always set. */
export interface LogConfig {
  type: LogDriver;
  config: Record<string, string>;
}

/** How big the current log file may grow before it is rotated, and how many files are kept (the current one included). */
export interface LogLimits {
  maxSize: number;
  maxFiles: number;
}

const DRIVERS: readonly LogDriver[] = ['json-file', 'local', 'none'];
const OPTIONS: Record<LogDriver, readonly string[]> = { 'json-file': ['max-size', 'max-file', 'compress'], local: ['max-size', 'max-file', 'compress'], none: [] };
/** Options docker's json-file and local drivers have that add attributes to each entry; skiff's entries carry none. */
const ATTRIBUTE_OPTIONS = ['labels', 'labels-regex', 'env', 'env-regex', 'tag'];
/** docker's local driver: 20 MiB a file, 5 files. */
const LOCAL_DEFAULTS = { maxSize: 20 * 1024 * 1024, maxFiles: 5 };

/**
 * The create options' log config over the daemon's default, checked: an
 * empty type takes the default driver, and the default's options fill in
 * the keys a container of that same driver leaves out (dockerd's rule).
 */
export function resolveLogConfig(given: { type?: string; config?: Record<string, string> } | undefined, daemonDefault?: LogConfig): LogConfig {
  const base = daemonDefault ?? { type: 'json-file', config: {} };
  const type = given?.type || base.type;
  const config: Record<string, string> = { ...(given?.config ?? {}) };
  if (type === base.type) for (const [k, v] of Object.entries(base.config)) if (!(k in config)) config[k] = v;
  return checkLogConfig({ type, config });
}

/** Checks a driver and its options; returns them typed. */
export function checkLogConfig(c: { type: string; config?: Record<string, string> }): LogConfig {
  if (!DRIVERS.includes(c.type as LogDriver)) {
    throw unsupported(`logging driver "${c.type}" is not supported: use json-file (the default), local or none`);
  }
  const type = c.type as LogDriver;
  const config = c.config ?? {};
  for (const [k, v] of Object.entries(config)) {
    if (type !== 'none' && ATTRIBUTE_OPTIONS.includes(k)) {
      throw unsupported(`log opt '${k}' is not supported: skiff's log entries carry no labels, env or tag attributes; use max-size and max-file`);
    }
    if (!OPTIONS[type].includes(k)) {
      const known = OPTIONS[type].filter((o) => o !== 'compress');
      throw invalidArgument(`unknown log opt '${k}' for ${type} log driver${known.length ? `: use ${known.join(' or ')}` : ' (it takes no options)'}`);
    }
    if (typeof v !== 'string') throw invalidArgument(`log opt '${k}' must be a string, got ${JSON.stringify(v)}`);
  }
  if (config.compress !== undefined && config.compress !== 'false') {
    throw unsupported(`log opt compress=${config.compress}: skiff keeps rotated log files uncompressed; leave it out or set compress=false`);
  }
  // max-file alone is taken (and checked) but rotates nothing, as dockerd does: compose files written for it keep working.
  if (config['max-file'] !== undefined) parseMaxFile(config['max-file']);
  logLimits({ type, config }); // the values parse
  return { type, config: { ...config } };
}

/** The rotation a config asks for; undefined: the log grows without bound (json-file without max-size, or none). */
export function logLimits(c: LogConfig | undefined): LogLimits | undefined {
  if (!c || c.type === 'none') return undefined;
  const size = c.config['max-size'];
  const files = c.config['max-file'];
  const defaults = c.type === 'local' ? LOCAL_DEFAULTS : undefined;
  if (size === undefined && !defaults) return undefined;
  return {
    maxSize: size === undefined ? defaults!.maxSize : parseLogSize(size),
    maxFiles: files === undefined ? (defaults?.maxFiles ?? 1) : parseMaxFile(files),
  };
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i;

/** docker's max-size: bytes, or a number with k, m, g (decimal, as docker's units.FromHumanSize: 10m = 10,000,000). */
export function parseLogSize(v: string): number {
  const m = SIZE.exec(v.trim());
  if (!m) throw invalidArgument(`invalid log opt max-size "${v}": use bytes or a number with a unit k, m or g (e.g. 10m)`);
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't' | 'p'];
  const n = Math.floor(Number(m[1]) * mult);
  if (!(n > 0)) throw invalidArgument(`invalid log opt max-size "${v}": it must be a positive size`);
  return n;
}

function parseMaxFile(v: string): number {
  if (!/^\d+$/.test(v.trim())) throw invalidArgument(`invalid log opt max-file "${v}": use a whole number of files, 1 or more`);
  const n = Number(v.trim());
  if (n < 1) throw invalidArgument(`invalid log opt max-file "${v}": max-file cannot be less than 1`);
  return n;
}

/** `--log-opt KEY=VALUE` flags as a config map. */
export function parseLogOpts(opts: string[]): Record<string, string> {
  const config: Record<string, string> = {};
  for (const o of opts) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw invalidArgument(`invalid log opt "${o}": use KEY=VALUE, e.g. max-size=10m`);
    config[o.slice(0, eq)] = o.slice(eq + 1);
  }
  return config;
}
