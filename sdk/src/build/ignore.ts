/**
 * `.dockerignore` matching: Go filepath.Match patterns plus `**`, `!` exceptions,
 * the last matching pattern wins. Paths are context-relative with `/`.
 */
export interface IgnoreRule {
  negate: boolean;
  re: RegExp;
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (let line of text.split(/\r?\n/)) {
    line = line.trim();
    if (!line || line.startsWith('#')) continue;
    let negate = false;
    if (line.startsWith('!')) { negate = true; line = line.slice(1).trim(); }
    const clean = cleanPattern(line);
    if (clean === '') continue;
    rules.push({ negate, re: patternToRegExp(clean) });
  }
  return rules;
}

function cleanPattern(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

function patternToRegExp(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (p[i + 1] === '*') {
        // `**` matches any number of directories (including none).
        i++;
        if (p[i + 1] === '/') { i++; re += '(?:.*/)?'; } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = p.indexOf(']', i + 1);
      if (end < 0) { re += '\\['; continue; }
      let cls = p.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < p.length) re += '\\' + p[++i];
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  // A pattern matching a directory also excludes everything below it.
  return new RegExp(`^${re}(?:/.*)?$`);
}

export function isIgnored(path: string, rules: IgnoreRule[]): boolean {
  let ignored = false;
  for (const r of rules) if (r.re.test(path)) ignored = !r.negate;
  return ignored;
}
