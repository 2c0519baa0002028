/**
 * docker's `--security-opt` values (HostConfig.SecurityOpt, compose's
 * security_opt) and what each asks of the container. Pure: a profile file is
 * read by the caller (the CLI and compose, as docker's do) and arrives here
 * as `seccomp=<its JSON>`.
 */
import { invalidArgument, unsupported } from '../errors/index.js';

/** One rule of a Docker-format seccomp profile (moby's profiles/seccomp/default.json). */
export interface DockerSeccompRule {
  names?: string[];
  /** The older one-call form. */
  name?: string;
  action: string;
  errnoRet?: number;
  args?: Array<{ index: number; value: number; valueTwo?: number; op: string }> | null;
  comment?: string;
  /** The rule applies only when all of these hold (caps: the container has them all; arches: Docker's arch names; minKernel: "5.8"). */
  includes?: { caps?: string[] | null; arches?: string[] | null; minKernel?: string };
  /** The rule is left out when any of these holds. */
  excludes?: { caps?: string[] | null; arches?: string[] | null };
}

/** A Docker-format seccomp profile: the OCI fields plus archMap and per-rule includes/excludes. */
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[] | null;
  archMap?: Array<{ architecture: string; subArchitectures?: string[] | null }> | null;
  syscalls?: DockerSeccompRule[] | null;
  flags?: string[] | null;
  listenerPath?: string;
}

export interface SecurityOptions {
  /** Set no_new_privs, so setuid programs and file capabilities grant nothing. Docker's default: false. */
  noNewPrivileges?: boolean;
  /** `unconfined`: no filter; a profile: that one instead of the backend's default. */
  seccomp?: 'unconfined' | DockerSeccompProfile;
  /** `systempaths=unconfined`: no masked or read-only paths under /proc. */
  unmaskSystemPaths?: boolean;
}

function bool(key: string, value: string, raw: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidArgument(`--security-opt "${raw}": ${key} takes true or false, not "${value}"`);
}

/** Checks a profile's shape (the helper compiles it later, when the container starts). */
export function parseSeccompProfile(json: string, where = 'seccomp profile'): DockerSeccompProfile {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw invalidArgument(`${where}: not valid JSON (${(err as Error).message}); give "unconfined" or a Docker seccomp profile`);
  }
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(doc) || typeof doc.defaultAction !== 'string') throw invalidArgument(`${where}: a seccomp profile is a JSON object with a "defaultAction" (e.g. SCMP_ACT_ERRNO) and "syscalls"`);
  if (doc.listenerPath) throw unsupported(`${where}: listenerPath (SCMP_ACT_NOTIFY to a seccomp agent) is not supported`);
  if (Array.isArray(doc.architectures) && doc.architectures.length && Array.isArray(doc.archMap) && doc.archMap.length) throw invalidArgument(`${where}: give "architectures" or "archMap", not both`);
  const rules = doc.syscalls ?? [];
  if (!Array.isArray(rules)) throw invalidArgument(`${where}: "syscalls" must be a list of rules`);
  rules.forEach((r: unknown, i) => {
    const at = `${where}: syscalls[${i}]`;
    if (!isObj(r) || typeof r.action !== 'string') throw invalidArgument(`${at} needs an "action"`);
    if (r.name !== undefined && r.names !== undefined) throw invalidArgument(`${at}: give "name" or "names", not both`);
    const names = r.names ?? (r.name !== undefined ? [r.name] : undefined);
    if (!Array.isArray(names) || !names.length || names.some((n) => typeof n !== 'string')) throw invalidArgument(`${at} needs "names", a list of system call names`);
    if (r.action === 'SCMP_ACT_NOTIFY') throw unsupported(`${at}: SCMP_ACT_NOTIFY (a seccomp agent) is not supported`);
    if (r.args != null && (!Array.isArray(r.args) || r.args.some((a) => !isObj(a) || typeof a.index !== 'number' || typeof a.op !== 'string'))) {
      throw invalidArgument(`${at}: "args" must be a list of {index, value, valueTwo, op}`);
    }
  });
  return doc as unknown as DockerSeccompProfile;
}

/**
 * Parses `--security-opt` values as dockerd does: `no-new-privileges[:=]true|false`
 * (alone: true), `seccomp=unconfined|<profile JSON>`, `systempaths=unconfined`;
 * `apparmor=` and `label=` are accepted and have no effect, as on a dockerd
 * whose host has neither AppArmor nor SELinux. Either `=` or `:` separates.
 */
export function parseSecurityOpts(opts: readonly string[]): SecurityOptions {
  const out: SecurityOptions = {};
  for (const raw of opts) {
    if (raw === 'no-new-privileges') { out.noNewPrivileges = true; continue; }
    const sep = raw.search(/[=:]/);
    if (sep <= 0) throw invalidArgument(`invalid --security-opt "${raw}": use no-new-privileges[=true|false], seccomp=unconfined, seccomp=PROFILE.json, systempaths=unconfined, apparmor=... or label=...`);
    const key = raw.slice(0, sep);
    const value = raw.slice(sep + 1);
    switch (key) {
      case 'no-new-privileges':
        out.noNewPrivileges = bool(key, value, raw);
        break;
      case 'seccomp':
        if (value === 'unconfined') out.seccomp = 'unconfined';
        else if (value.trimStart().startsWith('{')) out.seccomp = parseSeccompProfile(value, '--security-opt seccomp');
        else throw invalidArgument(`--security-opt seccomp=${value}: expected "unconfined" or a profile's JSON (the skiff and docker CLIs read seccomp=FILE.json and send its content)`);
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw invalidArgument(`--security-opt "${raw}": systempaths takes only "unconfined"`);
        out.unmaskSystemPaths = true;
        break;
      case 'apparmor':
      case 'label':
        // No AppArmor or SELinux here: dockerd on such a host accepts and ignores these too.
        break;
      default:
        throw invalidArgument(`unknown --security-opt "${raw}": skiff supports no-new-privileges[=true|false], seccomp=unconfined, seccomp=PROFILE.json, systempaths=unconfined, apparmor=... and label=... (ignored)`);
    }
  }
  return out;
}

/**
 * What the CLI and compose do before sending: `seccomp=FILE` becomes
 * `seccomp=<the file's JSON>` (docker's CLI reads the file too, so a daemon
 * never opens client paths). `readFile` gets the path as given.
 */
export function inlineSeccompFiles(opts: readonly string[], readFile: (path: string) => string): string[] {
  return opts.map((raw) => {
    const m = /^seccomp[=:](.*)$/s.exec(raw);
    if (!m || m[1] === 'unconfined' || m[1]!.trimStart().startsWith('{')) return raw;
    let text: string;
    try {
      text = readFile(m[1]!);
    } catch (err) {
      throw invalidArgument(`--security-opt seccomp=${m[1]}: cannot read the profile: ${(err as Error).message}`);
    }
    // Compacted, as docker's CLI sends it (and inspect shows it).
    return `seccomp=${JSON.stringify(parseSeccompProfile(text, `seccomp profile ${m[1]}`))}`;
  });
}
