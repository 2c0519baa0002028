/**
 * Compose variable interpolation, as `docker compose` does it: `$VAR`,
 * `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
 * `${VAR:?message}` / `${VAR?message}` (an error), `${VAR:+alt}` / `${VAR+alt}`,
 * and `$$` for a literal `$`. Defaults may themselves hold variables.
 */
import { invalidArgument } from '../errors/index.js';

export type Lookup = (name: string) => string | undefined;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Interpolates one string; `where` names the place for error messages (`services.web.image`). */
export function interpolate(text: string, lookup: Lookup, where: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') { out += c; i++; continue; }
    const next = text[i + 1];
    if (next === '$') { out += '$'; i += 2; continue; }
    if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end < 0) throw invalidArgument(`${where}: unclosed "\${" in "${text}"`);
      out += expand(text.slice(i + 2, end), lookup, where);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(text.slice(i + 1));
    if (!m) { out += '$'; i++; continue; }
    out += lookup(m[0]) ?? '';
    i += 1 + m[0].length;
  }
  return out;
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '{') { depth++; i++; }
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function expand(body: string, lookup: Lookup, where: string): string {
  const m = NAME.exec(body);
  if (!m) throw invalidArgument(`${where}: invalid variable "\${${body}}": a name starts with a letter or _`);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = lookup(name);
  if (rest === '') return value ?? '';
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw invalidArgument(`${where}: invalid variable "\${${body}}": use \${${name}}, \${${name}:-default}, \${${name}:?error} or \${${name}:+alternative}`);
  const arg = () => interpolate(rest.slice(op.length), lookup, where);
  const unset = value === undefined;
  const emptyOrUnset = unset || value === '';
  switch (op) {
    case ':-': return emptyOrUnset ? arg() : value!;
    case '-': return unset ? arg() : value!;
    case ':+': return emptyOrUnset ? '' : arg();
    case '+': return unset ? '' : arg();
    case ':?':
    case '?':
      if (op === ':?' ? emptyOrUnset : unset) throw invalidArgument(`${where}: required variable ${name} is ${unset ? 'missing' : 'empty'}${rest.length > op.length ? `: ${arg()}` : ''}`);
      return value!;
  }
  return value ?? '';
}

/** Parses a `.env` file: KEY=VALUE lines, `#` comments, optional `export `, single or double quotes. */
export function parseDotEnv(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, n) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = line.startsWith('export ') ? line.slice(7).trimStart() : line;
    const eq = body.indexOf('=');
    const key = (eq < 0 ? body : body.slice(0, eq)).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw invalidArgument(`${file}:${n + 1}: invalid variable name "${key}"`);
    if (eq < 0) return; // a bare name passes the caller's environment in env_file; nothing to set here
    let value = body.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    } else {
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash).trimEnd();
    }
    out[key] = value;
  });
  return out;
}
