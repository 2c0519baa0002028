/**
 * Reading a compose file: YAML, then interpolation of every string value from
 * the environment (the caller's, over the project's `.env`), then the checks
 * of model.ts. Isomorphic: the caller supplies file reading.
 */
import { parse, YAMLParseError } from 'yaml';
import { invalidArgument } from '../errors/index.js';
import { interpolate, parseDotEnv, type Lookup } from './interpolate.js';
import { normalizeProject, type ComposeProject } from './model.js';

export interface LoadOptions {
  /** The compose file's text and its path (for messages). */
  text: string;
  file: string;
  /** Absolute project directory. */
  dir: string;
  /** -p / COMPOSE_PROJECT_NAME; else the file's `name:`, else the directory's name. */
  projectName?: string;
  /** The caller's environment; it wins over `.env`. */
  env: Record<string, string | undefined>;
  /** Returns a file's text, or undefined when it does not exist. */
  readText: (path: string) => string | undefined;
  home?: string;
}

/** docker compose's rule: lowercase letters, digits, `_` and `-`, starting with a letter or digit. */
export function projectNameFrom(raw: string): string {
  return raw.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

function interpolateTree(v: unknown, lookup: Lookup, path: string): unknown {
  if (typeof v === 'string') return interpolate(v, lookup, path);
  if (Array.isArray(v)) return v.map((x, i) => interpolateTree(x, lookup, `${path}[${i}]`));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = interpolateTree(x, lookup, path ? `${path}.${k}` : k);
    return out;
  }
  return v;
}

export function loadCompose(o: LoadOptions): ComposeProject {
  const dotEnvPath = `${o.dir}/.env`;
  const dotEnvText = o.readText(dotEnvPath);
  const dotEnv = dotEnvText === undefined ? {} : parseDotEnv(dotEnvText, dotEnvPath);
  const lookup: Lookup = (name) => o.env[name] ?? dotEnv[name];
  let doc: unknown;
  try {
    doc = parse(o.text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      throw invalidArgument(`${o.file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${err.message.split('\n')[0]}`, err);
    }
    throw err;
  }
  const resolved = interpolateTree(doc, lookup, '');
  const fromFile = resolved && typeof resolved === 'object' && !Array.isArray(resolved) ? (resolved as { name?: unknown }).name : undefined;
  const raw = o.projectName ?? lookup('COMPOSE_PROJECT_NAME') ?? (typeof fromFile === 'string' ? fromFile : undefined) ?? o.dir.replace(/\/+$/, '').split('/').pop() ?? 'default';
  const name = projectNameFrom(raw);
  if (!name) throw invalidArgument(`invalid project name "${raw}": use lowercase letters, digits, "_" and "-" (set one with -p)`);
  try {
    return normalizeProject(resolved, {
      dir: o.dir,
      projectName: name,
      lookupEnv: lookup,
      readEnvFile: (p) => {
        const t = o.readText(p);
        return t === undefined ? undefined : parseDotEnv(t, p);
      },
      readText: (p) => o.readText(p),
      ...(o.home ? { home: o.home } : {}),
    });
  } catch (err) {
    if (err instanceof Error) err.message = `${o.file}: ${err.message}`;
    throw err;
  }
}
