/**
 * The Dockerfile parser: directives, comments, line continuations, heredocs,
 * and each instruction's flags and arguments. Variable substitution happens
 * later, in the builder, where the values are known (see expand.ts).
 */
import { dockerfileError } from './errors.js';

export type InstructionName =
  | 'FROM' | 'RUN' | 'CMD' | 'ENTRYPOINT' | 'COPY' | 'ADD' | 'ENV' | 'ARG' | 'WORKDIR' | 'USER'
  | 'LABEL' | 'EXPOSE' | 'VOLUME' | 'STOPSIGNAL' | 'HEALTHCHECK' | 'SHELL' | 'ONBUILD' | 'MAINTAINER';

const KNOWN = new Set<string>(['FROM', 'RUN', 'CMD', 'ENTRYPOINT', 'COPY', 'ADD', 'ENV', 'ARG', 'WORKDIR', 'USER', 'LABEL', 'EXPOSE', 'VOLUME', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'ONBUILD', 'MAINTAINER']);

export interface Heredoc {
  name: string;
  content: string;
  /** `<<-` strips leading tabs; a quoted name disables expansion. */
  expand: boolean;
}

export interface Instruction {
  name: InstructionName;
  /** Flags like `--from=build`, `--chown=1:1`. */
  flags: Record<string, string>;
  /** The text after the name and flags, continuations joined. */
  args: string;
  /** Set when the arguments are a JSON array (exec form). */
  json?: string[];
  heredocs: Heredoc[];
  line: number;
  /** The original text, for history entries and errors. */
  original: string;
}

export interface Dockerfile {
  directives: Record<string, string>;
  escape: string;
  instructions: Instruction[];
  file: string;
}

const FLAGGED = new Set(['FROM', 'RUN', 'COPY', 'ADD', 'HEALTHCHECK']);

export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const directives: Record<string, string> = {};
  let escape = '\\';
  let i = 0;
  // Parser directives: only at the very top, before any blank line, comment or instruction.
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (key !== 'syntax' && key !== 'escape' && key !== 'check') break;
    if (key in directives) throw dockerfileError(file, i + 1, 1, `the parser directive "${key}" may appear only once`);
    directives[key] = m[2]!;
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw dockerfileError(file, i + 1, 1, `invalid escape token "${m[2]}": it must be \\ or \``);
      escape = m[2]!;
    }
  }
  const instructions = parseInstructions(lines, i, file, escape);
  if (!instructions.some((x) => x.name === 'FROM')) throw dockerfileError(file, 1, 1, 'the Dockerfile has no FROM instruction; every build stage starts with FROM');
  const firstReal = instructions.find((x) => x.name !== 'ARG');
  if (firstReal && firstReal.name !== 'FROM') throw dockerfileError(file, firstReal.line, 1, `${firstReal.name} before the first FROM; only ARG may come before FROM`);
  return { directives, escape, instructions, file };
}

/** One instruction on its own (an ONBUILD trigger), with no heredoc. */
export function parseInstruction(text: string, file = 'Dockerfile', escape = '\\'): Instruction {
  const list = parseInstructions([text.replace(/\r?\n/g, ' ')], 0, file, escape);
  if (list.length !== 1) throw dockerfileError(file, 1, 1, `expected one instruction, got "${text}"`);
  return list[0]!;
}

/**
 * Instructions one per line with no stage around them (docker commit
 * --change): parsed as a Dockerfile's body is, without the FROM rule.
 */
export function parseInstructionLines(text: string, file = 'Dockerfile', escape = '\\'): Instruction[] {
  return parseInstructions(text.replace(/\r\n/g, '\n').split('\n'), 0, file, escape);
}

/** Instructions that ONBUILD may not hold. */
const NOT_TRIGGERS = new Set(['ONBUILD', 'FROM', 'MAINTAINER']);

function parseInstructions(lines: string[], start: number, file: string, escape: string): Instruction[] {
  let i = start;
  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) { i++; continue; }
    const startLine = i + 1;
    // Join continuation lines; comment lines inside a continuation are dropped (as docker does).
    let logical = '';
    let cur = raw;
    for (;;) {
      const stripped = cur.replace(/\s+$/, '');
      if (stripped.endsWith(escape) && !stripped.endsWith(escape + escape)) {
        logical += stripped.slice(0, -1);
        i++;
        while (i < lines.length && /^\s*#/.test(lines[i]!)) i++;
        if (i >= lines.length) break;
        cur = lines[i]!;
        continue;
      }
      logical += cur;
      i++;
      break;
    }
    const m = /^\s*([A-Za-z]+)(\s+|$)(.*)$/s.exec(logical);
    if (!m) throw dockerfileError(file, startLine, 1, `unknown instruction: ${logical.trim().split(/\s/)[0]}`);
    const name = m[1]!.toUpperCase();
    if (!KNOWN.has(name)) throw dockerfileError(file, startLine, logical.search(/\S/) + 1, `unknown instruction: ${m[1]}`);
    let rest = m[3]!.trim();
    const flags: Record<string, string> = {};
    if (FLAGGED.has(name)) {
      for (;;) {
        const f = /^--([a-z][a-z0-9-]*)(?:=(\S*))?(\s+|$)/.exec(rest);
        if (!f) break;
        flags[f[1]!] = f[2] ?? 'true';
        rest = rest.slice(f[0].length);
      }
    }
    // Heredocs: `<<EOF`, `<<-EOF`, `<<"EOF"`; their bodies are the following lines.
    const heredocs: Heredoc[] = [];
    if ((name === 'RUN' || name === 'COPY' || name === 'ADD') && /<<-?["']?[A-Za-z_][A-Za-z0-9_]*["']?/.test(rest)) {
      const re = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
      let h: RegExpExecArray | null;
      while ((h = re.exec(rest))) {
        const strip = h[1] === '-';
        const body: string[] = [];
        let closed = false;
        while (i < lines.length) {
          const l = lines[i++]!;
          if ((strip ? l.replace(/^\t+/, '') : l) === h[3]) { closed = true; break; }
          body.push(strip ? l.replace(/^\t+/, '') : l);
        }
        if (!closed) throw dockerfileError(file, startLine, h.index + 1, `unterminated heredoc <<${h[3]}: no line "${h[3]}" ends it`);
        heredocs.push({ name: h[3]!, content: body.join('\n') + '\n', expand: h[2] === '' });
      }
    }
    const ins: Instruction = { name: name as InstructionName, flags, args: rest, heredocs, line: startLine, original: logical.trim() };
    if (rest.startsWith('[')) {
      try {
        const parsed = JSON.parse(rest) as unknown;
        if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) ins.json = parsed as string[];
      } catch {
        // Not valid JSON: docker treats it as the shell form.
      }
    }
    validate(ins, file, escape);
    instructions.push(ins);
  }
  return instructions;
}

function validate(ins: Instruction, file: string, escape: string): void {
  const fail = (msg: string) => { throw dockerfileError(file, ins.line, 1, `${ins.name}: ${msg}`); };
  const needArgs = ['FROM', 'RUN', 'COPY', 'ADD', 'ENV', 'ARG', 'WORKDIR', 'USER', 'LABEL', 'EXPOSE', 'VOLUME', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'CMD', 'ENTRYPOINT', 'ONBUILD'];
  if (needArgs.includes(ins.name) && ins.args.trim() === '') fail('requires at least one argument');
  if (ins.name === 'ONBUILD') {
    // The trigger is checked now, so a bad one fails this build, not the child's.
    let trigger: Instruction;
    try {
      trigger = parseInstruction(ins.args, file, escape);
    } catch (err) {
      fail(`invalid trigger: ${(err as Error).message.replace(/^[^:]*:\d+:\d+: /, '')}`);
    }
    const name = trigger!.name;
    if (NOT_TRIGGERS.has(name)) fail(name === 'ONBUILD' ? 'chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed' : `${name} isn't allowed as an ONBUILD trigger`);
  }
  if (ins.name === 'FROM') {
    const w = ins.args.split(/\s+/);
    if (!(w.length === 1 || (w.length === 3 && w[1]!.toLowerCase() === 'as'))) fail(`expected "FROM [--platform=P] IMAGE [AS NAME]", got "FROM ${ins.args}"`);
  }
  if ((ins.name === 'COPY' || ins.name === 'ADD') && !ins.heredocs.length) {
    const n = ins.json ? ins.json.length : ins.args.split(/\s+/).length;
    if (n < 2) fail('requires at least two arguments: SOURCE... DEST');
  }
  if (ins.name === 'SHELL' && !ins.json) fail('requires the arguments as a JSON array, e.g. SHELL ["/bin/sh", "-c"]');
  for (const f of Object.keys(ins.flags)) {
    const allowed: Record<string, string[]> = { FROM: ['platform'], RUN: ['mount', 'network', 'security'], COPY: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'], ADD: ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir', 'exclude'], HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'] };
    if (!allowed[ins.name]?.includes(f)) fail(`unknown flag: --${f}`);
  }
}
