/**
 * What a user asks for when creating a container, and the pure rules that turn
 * it plus the image's defaults into the process to run (docker's semantics).
 */
import { invalidArgument } from '../errors/index.js';
import type { ContainerDefaults, HealthConfig } from '../image/types.js';
import type { RestartPolicy } from './restart.js';
import type { PortMapping, Resources, TtySize } from './backend.js';
import { checkResources, checkResourceUpdate, type ResourceUpdate } from './update.js';
import type { Ulimit } from './process-settings.js';

/** How a container's network is set up (what a record keeps; user networks are in its `networks`). */
export type NetworkMode = 'none' | 'host' | `container:${string}`;

/** Checks a `--network` value: none, host, container:NAME, or the name of a user-defined network. */
export function parseNetworkMode(mode: string): string {
  if (mode === 'default' || mode === 'bridge') return 'none';
  if (mode === 'none' || mode === 'host' || /^container:.+/.test(mode)) return mode;
  if (/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(mode)) return mode;
  throw invalidArgument(`network mode "${mode}" is not valid: use none (loopback only, the default), host, container:NAME, or the name of a network (skiff network create NAME)`);
}

/** Checks `--add-host name:ip` entries. */
export function checkExtraHosts(hosts: string[]): string[] {
  for (const h of hosts) {
    const i = h.search(/[:=]/);
    const name = h.slice(0, i);
    const ip = h.slice(i + 1);
    if (i <= 0 || !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name) || !/^(\d{1,3}(\.\d{1,3}){3}|\[?[0-9a-fA-F:]+\]?)$/.test(ip)) {
      throw invalidArgument(`invalid extra host "${h}": use NAME:IP, e.g. db:127.0.0.1${ip === 'host-gateway' ? ' (host-gateway is not supported: containers have no route to the host)' : ''}`);
    }
  }
  return hosts.map((h) => h.replace('=', ':').replace(/:\[(.*)\]$/, ':$1'));
}

export interface MountOption {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind), volume name (volume; omitted: anonymous). */
  source?: string;
  target: string;
  readOnly?: boolean;
  /** tmpfs only: mount options, docker's `--tmpfs /run:size=64m,noexec` (runtime/tmpfs.ts). */
  options?: string[];
}

export interface CreateOptions {
  image: string;
  /** Replaces the image's Cmd. */
  cmd?: string[];
  /** Replaces the image's Entrypoint (and then the image's Cmd is dropped, as docker does). */
  entrypoint?: string[] | string;
  /** `KEY=VALUE` strings, or a record. Added to the image's Env, overriding same keys. */
  env?: string[] | Record<string, string>;
  workingDir?: string;
  user?: string;
  name?: string;
  /** docker `-v` specs: `NAME:/dst[:ro]`, `/host:/dst[:ro]`, `/dst` (anonymous volume). */
  volumes?: string[];
  mounts?: MountOption[];
  /** docker `--tmpfs /path`. */
  tmpfs?: string[];
  hostname?: string;
  /** The NIS domain name in the container's UTS namespace (docker's --domainname). */
  domainname?: string;
  readOnly?: boolean;
  /**
   * PID 1 is an init that reaps zombies and forwards signals (`docker run
   * --init`); false runs the command itself as PID 1, as dockerd does by
   * default. Unset: the backend's default (Linux: an init).
   */
  init?: boolean;
  /** Bytes, or a docker size string like `256m`. */
  memory?: number | string;
  /** Memory plus swap (`--memory-swap`), bytes or a size; -1 unlimited swap. Default: no swap on top of memory. */
  memorySwap?: number | string;
  /** The soft limit (`--memory-reservation`), bytes or a size. */
  memoryReservation?: number | string;
  cpus?: number;
  /** Relative CPU weight (`--cpu-shares`). */
  cpuShares?: number;
  /** CFS quota and period in microseconds (`--cpu-quota`, `--cpu-period`); not with cpus. */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** CPUs to run on (`--cpuset-cpus`), e.g. `0-2,4`. */
  cpusetCpus?: string;
  pidsLimit?: number;
  /** `none` (loopback only, the default), `host`, `container:NAME` to share another running container's network, or a user-defined network's name. */
  network?: string;
  /** Extra names for the container on its user-defined network (docker's `--network-alias`). */
  networkAliases?: string[];
  /** Extra /etc/hosts entries, `name:ip` (docker's `--add-host`). */
  extraHosts?: string[];
  /** docker `--restart`: `no`, `always`, `unless-stopped`, `on-failure[:N]`, or the policy. */
  restartPolicy?: string | RestartPolicy;
  /** Overrides the image's HEALTHCHECK field by field (durations in ns, as docker); `Test: ['NONE']` disables it. */
  healthcheck?: HealthConfig;
  /** Published ports: docker `-p` specs (`8080:80`, `127.0.0.1::80/tcp`) or mappings. */
  ports?: Array<string | PortMapping>;
  /** docker `-P`: publish every port the image exposes on a port the kernel picks. */
  publishAll?: boolean;
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /**
   * docker `--security-opt` values: `no-new-privileges[=true|false]`,
   * `seccomp=unconfined`, `seccomp=<profile JSON>` (callers read a profile
   * file themselves, see inlineSeccompFiles), `systempaths=unconfined`;
   * `apparmor=` and `label=` have no effect (runtime/security-opt.ts).
   */
  securityOpt?: string[];
  autoRemove?: boolean;
  tty?: boolean;
  /** With tty: the terminal's first window size (docker's ConsoleSize). */
  consoleSize?: TtySize;
  /** Keep stdin open for attachers (docker -i); see Engine.attach. */
  openStdin?: boolean;
  /** With openStdin: the first attacher's end of input closes stdin (docker's StdinOnce, as `run -i` sets). */
  stdinOnce?: boolean;
  labels?: Record<string, string>;
  /** `linux` or `wasm`; by default the image's platform picks. */
  backend?: string;
  /** `os/arch`: which variant of a multi-platform image. */
  platform?: string;
  /**
   * docker's `--log-driver` / `--log-opt` (HostConfig.LogConfig): `json-file`
   * (the default), `local` or `none`, with `max-size` (e.g. `10m`) and
   * `max-file`. An empty type takes the Engine's default (EngineOptions.defaultLogConfig).
   */
  logConfig?: { type?: string; config?: Record<string, string> };
  /** docker's --stop-signal: what `stop` sends when the caller names no signal (default: the image's STOPSIGNAL, else SIGTERM). */
  stopSignal?: string;
  /** docker's --stop-timeout: seconds `stop` waits before SIGKILL when the caller gives none (default 10; -1 for ever). */
  stopTimeout?: number;
  /** docker's --ulimit: `nofile=1024:2048` specs or Ulimits (runtime/process-settings.ts). */
  ulimits?: Array<string | Ulimit>;
  /** Size of /dev/shm (docker's --shm-size), bytes or a size like `8m`; default 64m. */
  shmSize?: number | string;
  /** `host` shares the host's PID namespace (docker's --pid). */
  pidMode?: string;
  /** `private` (the default), `shareable` or `host` (docker's --ipc). */
  ipcMode?: string;
  /** `host` shares the host's UTS namespace: its hostname (docker's --uts). */
  utsMode?: string;
  /** `private` (skiff's default) or `host` (docker's --cgroupns). */
  cgroupnsMode?: string;
  /** Supplementary groups of the process: names from the image's /etc/group or numbers (docker's --group-add). */
  groupAdd?: string[];
  /** /etc/resolv.conf's name servers, search domains and options (docker's --dns, --dns-search, --dns-option). */
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** The process's OOM score adjustment, -1000 to 1000 (docker's --oom-score-adj). */
  oomScoreAdj?: number;
  /** Namespaced kernel parameters (docker's --sysctl): `KEY=VALUE` strings or a record; net.*, fs.mqueue.* and the IPC ones. */
  sysctls?: Record<string, string> | string[];
  /** Kill the container's process when one run takes longer than this. */
  timeoutMs?: number;
  /** WASI: fixed clock and seeded random. */
  deterministic?: { seed?: number; timeNs?: bigint };
}

export interface ResolvedProcess {
  args: string[];
  env: string[];
  workingDir: string;
  user: string;
}

export function envList(env: CreateOptions['env']): string[] {
  if (!env) return [];
  const list = Array.isArray(env) ? env : Object.entries(env).map(([k, v]) => `${k}=${v}`);
  for (const e of list) {
    const eq = e.indexOf('=');
    const key = eq < 0 ? e : e.slice(0, eq);
    if (key === '' || /\s/.test(key)) throw invalidArgument(`invalid environment variable "${e}": expected KEY=VALUE with a non-empty key without spaces`);
  }
  return list;
}

/** Image Env, then user env; a later KEY replaces an earlier one in place. */
export function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...extra]) {
    const eq = e.indexOf('=');
    out.set(eq < 0 ? e : e.slice(0, eq), e);
  }
  return [...out.values()];
}

export function resolveProcess(defaults: ContainerDefaults | undefined, o: CreateOptions): ResolvedProcess {
  const d = defaults ?? {};
  let entrypoint: string[];
  let cmd: string[];
  if (o.entrypoint !== undefined) {
    entrypoint = typeof o.entrypoint === 'string' ? (o.entrypoint === '' ? [] : [o.entrypoint]) : o.entrypoint;
    cmd = o.cmd ?? [];
  } else {
    entrypoint = d.Entrypoint ?? [];
    cmd = o.cmd && o.cmd.length > 0 ? o.cmd : (d.Cmd ?? []);
  }
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw invalidArgument(`no command specified: the image has no Entrypoint or Cmd; give a command after the image name`);
  const workingDir = o.workingDir || d.WorkingDir || '/';
  if (!workingDir.startsWith('/')) throw invalidArgument(`the working directory "${workingDir}" is invalid: it must be an absolute path`);
  const env = mergeEnv(d.Env ?? [], envList(o.env));
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  return { args, env, workingDir, user: o.user ?? d.User ?? '' };
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$/i;

/** `512m`, `1g`, `1048576` -> bytes. */
export function parseSize(v: number | string, what = 'size'): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v <= 0) throw invalidArgument(`invalid ${what} ${v}: it must be a positive number of bytes`);
    return Math.floor(v);
  }
  const m = SIZE.exec(v.trim());
  if (!m) throw invalidArgument(`invalid ${what} "${v}": use a number with an optional unit b, k, m, g (e.g. 256m)`);
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'b' | 'k' | 'm' | 'g' | 't'];
  const n = Math.floor(Number(m[1]) * mult);
  if (n <= 0) throw invalidArgument(`invalid ${what} "${v}": it must be positive`);
  return n;
}

export function resolveResources(o: CreateOptions): Resources {
  const r: Resources = {};
  if (o.memory !== undefined) {
    r.memoryBytes = parseSize(o.memory, 'memory limit');
    if (r.memoryBytes < 6 * 1024 * 1024) throw invalidArgument(`minimum memory limit allowed is 6MB; got ${r.memoryBytes} bytes`);
  }
  if (o.cpus !== undefined) {
    if (!Number.isFinite(o.cpus) || o.cpus <= 0) throw invalidArgument(`invalid --cpus ${o.cpus}: it must be a positive number like 0.5`);
    r.cpus = o.cpus;
  }
  if (o.pidsLimit !== undefined) {
    if (!Number.isInteger(o.pidsLimit) || o.pidsLimit === 0 || o.pidsLimit < -1) throw invalidArgument(`invalid --pids-limit ${o.pidsLimit}: use a positive integer (or -1 for unlimited)`);
    if (o.pidsLimit > 0) r.pidsLimit = o.pidsLimit;
  }
  // The finer limits, with docker update's rules (runtime/update.ts).
  const more: ResourceUpdate = {};
  if (o.memorySwap !== undefined) more.memorySwapBytes = o.memorySwap === -1 || o.memorySwap === '-1' ? -1 : parseSize(o.memorySwap, 'memory+swap limit');
  if (o.memoryReservation !== undefined) more.memoryReservationBytes = parseSize(o.memoryReservation, 'memory reservation');
  if (o.cpuShares !== undefined) more.cpuShares = o.cpuShares;
  if (o.cpuQuota !== undefined) more.cpuQuotaUs = o.cpuQuota;
  if (o.cpuPeriod !== undefined) more.cpuPeriodUs = o.cpuPeriod;
  if (o.cpusetCpus !== undefined) more.cpusetCpus = o.cpusetCpus;
  if (Object.keys(more).length) {
    checkResourceUpdate({ ...more, ...(r.cpus !== undefined ? { cpus: r.cpus } : {}) });
    Object.assign(r, more);
  }
  checkResources(r);
  return r;
}

/** Parses docker `-v` specs into mount options. */
export function parseVolumeSpec(spec: string): MountOption {
  const parts = spec.split(':');
  let mode: string | undefined;
  if (parts.length === 3 || (parts.length === 2 && ['ro', 'rw'].includes(parts[1]!))) mode = parts.pop();
  if (parts.length > 2 || parts.some((p) => p === '')) throw invalidArgument(`invalid volume spec "${spec}": expected NAME:/path, /host/path:/path or /path, optionally with :ro or :rw`);
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw invalidArgument(`invalid mode "${mode}" in volume spec "${spec}": use ro or rw`);
  const readOnly = mode === 'ro';
  if (parts.length === 1) {
    const target = parts[0]!;
    if (!target.startsWith('/')) throw invalidArgument(`invalid volume spec "${spec}": the container path must be absolute`);
    return { type: 'volume', target, readOnly };
  }
  const [source, target] = parts as [string, string];
  if (!target.startsWith('/')) throw invalidArgument(`invalid volume spec "${spec}": the container path "${target}" must be absolute`);
  if (source.startsWith('/') || source.startsWith('.')) {
    if (!source.startsWith('/')) throw invalidArgument(`invalid volume spec "${spec}": a bind mount source must be an absolute host path`);
    return { type: 'bind', source, target, readOnly };
  }
  return { type: 'volume', source, target, readOnly };
}

/** Normalizes an absolute container path: no `.`/`..` segments, no trailing slash. */
export function cleanContainerPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}
