/**
 * `docker commit --change` and `docker import --change`: Dockerfile
 * instructions applied to a container config, as dockerd's BuildFromConfig
 * does. The changes are joined by newlines and parsed as a Dockerfile body
 * (so one change may hold several lines, as testcontainers sends them); only
 * instructions that change the config are allowed, and words are expanded
 * with the config's own Env.
 */
import { invalidArgument, isSkiffError } from '../errors/index.js';
import type { ContainerDefaults } from '../image/types.js';
import { parseInstructionLines, type Instruction } from './dockerfile/parser.js';
import { expand, parseKeyValues, splitWords } from './dockerfile/expand.js';
import { healthcheck } from './dockerfile/healthcheck.js';

/** What dockerd accepts in --change (its validCommitCommands; it refuses STOPSIGNAL, SHELL and MAINTAINER too). */
export const COMMIT_CHANGES = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR'] as const;

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** The config with the changes applied (a copy); INVALID_ARGUMENT names the change at fault. */
export function applyChanges(base: ContainerDefaults, changes: string[]): ContainerDefaults {
  const cfg = structuredClone(base);
  if (changes.length === 0) return cfg;
  let list: Instruction[];
  try {
    list = parseInstructionLines(changes.join('\n'), 'change');
  } catch (err) {
    const unknown = /unknown instruction: (\S+)/.exec((err as Error).message);
    if (unknown) throw notAllowed(unknown[1]!);
    throw invalidArgument(`${(err as Error).message.replace(/^change:\d+:\d+: /, '')} (in --change)`, err);
  }
  for (const ins of list) if (!(COMMIT_CHANGES as readonly string[]).includes(ins.name)) throw notAllowed(ins.name);
  let cmdSet = false;
  for (const ins of list) {
    const where = ` (in --change "${ins.original}")`;
    const fail = (msg: string): never => { throw invalidArgument(msg + where); };
    const x = (w: string) => expand(w, envMap(cfg.Env), '\\', (_c, m) => fail(m));
    try {
      switch (ins.name) {
        case 'CMD':
          cfg.Cmd = ins.json ?? [...(cfg.Shell ?? DEFAULT_SHELL), ins.args];
          cmdSet = true;
          break;
        case 'ENTRYPOINT':
          cfg.Entrypoint = ins.json ?? [...(cfg.Shell ?? DEFAULT_SHELL), ins.args];
          // As in a Dockerfile: a new ENTRYPOINT drops the CMD unless the same changes set one.
          if (!cmdSet) cfg.Cmd = null;
          break;
        case 'ENV': {
          const pairs = parseKeyValues(x(ins.args)) ?? fail('expected KEY=VALUE pairs, e.g. ENV NAME=value');
          let env = cfg.Env ?? [];
          for (const [k, v] of pairs) env = [...env.filter((e) => e !== k && !e.startsWith(`${k}=`)), `${k}=${v}`];
          cfg.Env = env;
          break;
        }
        case 'LABEL': {
          const pairs = parseKeyValues(x(ins.args)) ?? fail('expected KEY=VALUE pairs, e.g. LABEL version=1');
          cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(pairs) };
          break;
        }
        case 'EXPOSE': {
          const ports = splitWords(x(ins.args)).map((p) => (p.includes('/') ? p.toLowerCase() : `${p}/tcp`));
          for (const p of ports) {
            // dockerd's words first (nat.ParsePortSpecs), then how to write one.
            const [port, proto] = p.split('/') as [string, string];
            if (!/^\d+(-\d+)?$/.test(port)) fail(`Invalid containerPort: ${port}; use PORT[/PROTOCOL], e.g. 8080/tcp`);
            if (!['tcp', 'udp', 'sctp'].includes(proto)) fail(`Invalid proto: ${proto}; use tcp, udp or sctp`);
          }
          cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), ...Object.fromEntries(ports.map((p) => [p, {}])) };
          break;
        }
        case 'USER':
          cfg.User = x(ins.args.trim());
          break;
        case 'WORKDIR':
          cfg.WorkingDir = resolveDir(cfg.WorkingDir ?? '', x(ins.args.trim()));
          break;
        case 'VOLUME': {
          const paths = (ins.json ?? splitWords(x(ins.args))).map((p) => (ins.json ? x(p) : p).trim());
          if (paths.some((p) => p === '')) fail('a volume path cannot be an empty string');
          cfg.Volumes = { ...(cfg.Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [p, {}])) };
          break;
        }
        case 'HEALTHCHECK':
          cfg.Healthcheck = healthcheck(ins, fail);
          break;
        case 'ONBUILD':
          cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.args.trim()];
          break;
      }
    } catch (err) {
      if (isSkiffError(err) && err.message.endsWith(where)) throw err;
      throw invalidArgument((err as Error).message + where, err);
    }
  }
  return cfg;
}

function notAllowed(name: string) {
  return invalidArgument(`${name.toLowerCase()} is not a valid change command; --change (docker commit, docker import) takes ${COMMIT_CHANGES.join(', ')}`);
}

function envMap(env: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    out[i < 0 ? e : e.slice(0, i)] = i < 0 ? '' : e.slice(i + 1);
  }
  return out;
}

/** WORKDIR relative to the current one, cleaned of `.`, `..` and doubled slashes. */
function resolveDir(cwd: string, p: string): string {
  const abs = p.startsWith('/') ? p : `${cwd || '/'}/${p}`;
  const parts: string[] = [];
  for (const seg of abs.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}
