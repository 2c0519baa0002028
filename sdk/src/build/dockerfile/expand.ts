/**
 * Variable substitution as Dockerfile does it for ENV, ARG, FROM, COPY, ADD,
 * WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL: `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`; `\$` escapes.
 * Quotes are kept for the word splitter; single quotes stop substitution.
 */
export function expand(input: string, vars: Record<string, string | undefined>, escape = '\\', onError?: (col: number, msg: string) => never): string {
  let out = '';
  let inSingle = false;
  let inDouble = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === escape && i + 1 < input.length) {
      const n = input[i + 1]!;
      if (n === '$') { out += '$'; i++; continue; }
      out += c + n;
      i++;
      continue;
    }
    if (c === "'" && !inDouble) inSingle = !inSingle;
    else if (c === '"' && !inSingle) inDouble = !inDouble;
    if (c !== '$' || inSingle) { out += c; continue; }
    const rest = input.slice(i + 1);
    const simple = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (simple) {
      out += vars[simple[0]] ?? '';
      i += simple[0].length;
      continue;
    }
    if (rest.startsWith('{')) {
      const close = findClose(rest);
      if (close < 0) {
        if (onError) onError(i + 1, `unterminated \${ in "${input}"`);
        out += c;
        continue;
      }
      const body = rest.slice(1, close);
      out += substitute(body, vars, escape);
      i += close + 1;
      continue;
    }
    out += c;
  }
  return out;
}

function findClose(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function substitute(body: string, vars: Record<string, string | undefined>, escape: string): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])(.*))?$/s.exec(body);
  if (!m) return '';
  const [, name, op, word = ''] = m;
  const v = vars[name!];
  switch (op) {
    case ':-': return v === undefined || v === '' ? expand(word, vars, escape) : v;
    case '-': return v === undefined ? expand(word, vars, escape) : v;
    case ':+': return v === undefined || v === '' ? '' : expand(word, vars, escape);
    case '+': return v === undefined ? '' : expand(word, vars, escape);
    default: return v ?? '';
  }
}

/** Splits on unquoted whitespace and removes quotes, like Dockerfile's word processing. */
export function splitWords(s: string, escape = '\\'): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === escape && quote === '"' && i + 1 < s.length && ['"', escape, '$'].includes(s[i + 1]!)) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") { quote = c; has = true; continue; }
    if (c === escape && i + 1 < s.length) { cur += s[++i]; has = true; continue; }
    if (/\s/.test(c)) {
      if (has || cur) words.push(cur);
      cur = '';
      has = false;
      continue;
    }
    cur += c;
    has = true;
  }
  if (has || cur) words.push(cur);
  return words;
}

/** `K=V K2="v 2"` or the legacy `K V W` form (one pair). */
export function parseKeyValues(s: string, escape = '\\', legacyAllowed = true): Array<[string, string]> | undefined {
  const words = splitWords(s, escape);
  if (words.length === 0) return undefined;
  if (!words[0]!.includes('=')) {
    if (!legacyAllowed) return undefined;
    const sp = s.trim().search(/\s/);
    if (sp < 0) return undefined;
    const key = s.trim().slice(0, sp);
    const value = splitWords(s.trim().slice(sp).trim(), escape).join(' ');
    return [[key, value]];
  }
  const out: Array<[string, string]> = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) return undefined;
    out.push([w.slice(0, eq), w.slice(eq + 1)]);
  }
  return out;
}
