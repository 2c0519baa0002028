/**
 * Docker-style flag parsing: `-e K=V`, `--env K=V`, `--env=K=V`, grouped short
 * booleans (`-it`), repeated flags collecting into lists, and `--` or the first
 * positional argument ending flag parsing where a command says so (run, exec).
 */
import { invalidArgument } from '../errors/index.js';

export type FlagType = 'bool' | 'string' | 'list' | 'number';

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  help: string;
  /** Shown in help as the value's name. */
  value?: string;
  /** A docker flag skiff does not offer: parsing it fails with "--NAME is not supported by skiff: WHY"; help leaves it out. */
  refused?: string;
}

export interface Parsed {
  flags: Record<string, string | boolean | string[] | number | undefined>;
  args: string[];
}

/** `--help`, which every command takes. */
export const HELP_FLAG: FlagSpec = { name: 'help', type: 'bool', help: 'Print usage' };

/** The command was used wrongly: the message says how; main adds "See 'skiff X --help'". */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
}

/** A flag the parser rejects: unknown, without its value, or a value of the wrong type (docker's 125 on every command). */
export class FlagError extends UsageError {
  override readonly name = 'FlagError';
}

/** Too few or too many arguments (docker exits 1 for these, unlike flag errors). */
export class ArgumentsError extends UsageError {
  override readonly name = 'ArgumentsError';
}

export function parseArgs(argv: string[], specs: FlagSpec[], options: { stopAtFirstArg?: boolean } = {}): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags: Parsed['flags'] = {};
  const args: string[] = [];
  const set = (spec: FlagSpec, value: string | undefined, shown: string) => {
    if (spec.refused) throw new FlagError(`${shown} is not supported by skiff: ${spec.refused}`);
    if (spec.type === 'bool') {
      if (value === undefined || value === 'true' || value === '1') flags[spec.name] = true;
      else if (value === 'false' || value === '0') flags[spec.name] = false;
      else throw new FlagError(`invalid boolean "${value}" for ${shown}`);
      return;
    }
    if (value === undefined) throw new FlagError(`flag needs an argument: ${shown}`);
    if (spec.type === 'list') ((flags[spec.name] ??= []) as string[]).push(value);
    else if (spec.type === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new FlagError(`invalid number "${value}" for ${shown}`);
      flags[spec.name] = n;
    } else flags[spec.name] = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { args.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = byName.get(name);
      if (!spec) throw new FlagError(`unknown flag: --${name}`);
      let value = eq < 0 ? undefined : a.slice(eq + 1);
      if (value === undefined && spec.type !== 'bool') value = argv[++i];
      set(spec, value, `--${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // Grouped shorts: -it, -e K=V, -eK=V
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const spec = byShort.get(c);
        if (!spec) throw new FlagError(`unknown shorthand flag: '${c}' in ${a}`);
        if (spec.type === 'bool') {
          // -p=false, as docker's flag parser takes it.
          if (a[j + 1] === '=') { set(spec, a.slice(j + 2), `-${c}`); break; }
          set(spec, undefined, `-${c}`);
          continue;
        }
        let value = a.slice(j + 1);
        if (value.startsWith('=')) value = value.slice(1);
        if (value === '') value = argv[++i] as string;
        set(spec, value, `-${c}`);
        break;
      }
      continue;
    }
    args.push(a);
    if (options.stopAtFirstArg) { args.push(...argv.slice(i + 1)); break; }
  }
  return { flags, args };
}

export function helpText(usage: string, description: string, specs: FlagSpec[]): string {
  const lines = [`Usage:  ${usage}`, '', description, ''];
  if (specs.length) {
    lines.push('Options:');
    const rows = specs.filter((s) => !s.refused).map((s) => [`${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'bool' ? '' : ` ${s.value ?? s.type}`}`, s.help]);
    const w = Math.max(...rows.map((r) => r[0]!.length));
    for (const [l, r] of rows) lines.push(`  ${l!.padEnd(w)}   ${r}`);
  }
  return lines.join('\n') + '\n';
}

export function requireArgs(args: string[], min: number, usage: string, max = Infinity): void {
  if (args.length < min || args.length > max) {
    const verb = usage.split(' ').filter((w) => /^[a-z]/.test(w)).join(' ');
    const count = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new ArgumentsError(`'${verb}' requires ${count} argument${min === 1 && (max === 1 || max === Infinity) ? '' : 's'}`);
  }
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function list(v: unknown): string[] {
  return Array.isArray(v) ? (v as string[]) : [];
}

export { invalidArgument };
