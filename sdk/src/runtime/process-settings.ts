/**
 * The settings docker keeps beside a container's process and resources:
 * stop signal and timeout, rlimits (--ulimit), /dev/shm's size, namespaces
 * shared with the host (--pid/--ipc/--uts/--cgroupns host), supplementary
 * groups (--group-add), resolv.conf (--dns*), --oom-score-adj, namespaced
 * sysctls (--sysctl). Checked once
 * here (docker's rules and messages), kept in the record, handed to the
 * backend in its spec.
 */
import { invalidArgument } from '../errors/index.js';
import type { CreateOptions } from './options.js';
import { parseSize } from './options.js';

/** A process resource limit (docker's Ulimit): `name` is the rlimit without RLIMIT_, lower case; -1 is unlimited. */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** The rlimits docker's --ulimit knows (go-units' ulimitNameMapping). */
export const ULIMIT_NAMES = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'] as const;

/** Linux signal names a stop signal may use (with or without SIG, or by number). */
const SIGNALS = ['HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE', 'ALRM', 'TERM', 'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR', 'SYS'];

/** docker's default /dev/shm size. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** A namespace a container may share with the host instead of having its own. */
export type HostNamespace = 'pid' | 'ipc' | 'uts' | 'cgroup';

/** What the record keeps (absent: docker's default). */
export interface ProcessSettings {
  /** As given (or the image's STOPSIGNAL): the signal `stop` sends when the caller names none. */
  stopSignal?: string;
  /** Seconds `stop` waits before SIGKILL when the caller gives none; -1 waits for ever. */
  stopTimeout?: number;
  ulimits?: Ulimit[];
  shmSizeBytes?: number;
  pidMode?: string;
  ipcMode?: string;
  utsMode?: string;
  cgroupnsMode?: string;
  groupAdd?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  oomScoreAdj?: number;
  domainname?: string;
  /** Namespaced kernel parameters set in the container's own namespaces (docker's --sysctl). */
  sysctls?: Record<string, string>;
}

/** `nofile=100:200`, `nofile=100` (soft = hard), or a Ulimit, checked as go-units' ParseUlimit does. */
export function parseUlimit(u: string | Ulimit): Ulimit {
  let name: string;
  let soft: number;
  let hard: number;
  if (typeof u === 'string') {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(u.trim());
    if (!m) throw invalidArgument(`invalid ulimit "${u}": use NAME=SOFT[:HARD], e.g. nofile=1024:2048`);
    name = m[1]!;
    soft = Number(m[2]);
    hard = m[3] === undefined ? soft : Number(m[3]);
  } else {
    ({ name, soft, hard } = u);
  }
  if (!(ULIMIT_NAMES as readonly string[]).includes(name)) throw invalidArgument(`invalid ulimit type: ${name} (known: ${ULIMIT_NAMES.join(', ')})`);
  if (!Number.isSafeInteger(soft) || !Number.isSafeInteger(hard) || soft < -1 || hard < -1) throw invalidArgument(`invalid ulimit ${name}=${soft}:${hard}: the limits must be whole numbers, -1 for unlimited`);
  const limit = (n: number) => (n === -1 ? Infinity : n);
  if (limit(soft) > limit(hard)) throw invalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { name, soft, hard };
}

/** SIGINT, INT, 2 -> SIGINT; anything else is refused. */
export function checkStopSignal(s: string): string {
  const up = s.trim().toUpperCase();
  if (/^\d+$/.test(up)) {
    // The numbers the Engine's normalizeSignal names; others by name.
    if (![1, 2, 3, 9, 10, 12, 15].includes(Number(up))) throw invalidArgument(`invalid stop signal ${s}: give this signal by name (e.g. SIGWINCH)`);
    return s;
  }
  const name = up.startsWith('SIG') ? up.slice(3) : up;
  if (!SIGNALS.includes(name) && !/^RTM(IN|AX)([+-]\d+)?$/.test(name)) throw invalidArgument(`invalid stop signal "${s}": use a signal name like SIGTERM or SIGINT, or its number`);
  return s;
}

/** The IPC namespace's sysctls docker takes (opts.ValidateSysctl); `fs.mqueue.*` and `net.*` go by prefix. */
const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

/**
 * `KEY=VALUE` strings or a record, checked as docker does: only sysctls of a
 * namespace the container has of its own (IPC ones and fs.mqueue.* need its
 * IPC namespace, net.* its network namespace), never the host's.
 */
export function parseSysctls(given: Record<string, string> | string[], o: { network?: string; ipcMode?: string }): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Array.isArray(given)
    ? given.map((kv) => {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw invalidArgument(`invalid sysctl "${kv}": use KEY=VALUE, e.g. net.core.somaxconn=1024`);
        return [kv.slice(0, eq).trim(), kv.slice(eq + 1)] as const;
      })
    : Object.entries(given);
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw invalidArgument(`invalid sysctl ${key}: its value must be a string`);
    const ipc = IPC_SYSCTLS.includes(key) || key.startsWith('fs.mqueue.');
    const net = key.startsWith('net.');
    if (!ipc && !net) throw invalidArgument(`sysctl '${key}' is not allowed: only namespaced ones are (${IPC_SYSCTLS.join(', ')}, fs.mqueue.*, net.*)`);
    if (ipc && o.ipcMode === 'host') throw invalidArgument(`sysctl '${key}' is not allowed with --ipc host: it would change the host's IPC namespace`);
    if (net && o.network === 'host') throw invalidArgument(`sysctl '${key}' is not allowed with --network host: it would change the host's network namespace`);
    out[key] = value;
  }
  return out;
}

function mode(value: string | undefined, flag: string, allowed: string[], why: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (allowed.includes(value)) return value;
  if (value.startsWith('container:') || value === 'none' || value === 'shareable' || value === 'private') throw invalidArgument(`${flag}=${value} is not supported by skiff: ${why}`);
  throw invalidArgument(`invalid ${flag} "${value}": use ${allowed.join(' or ')}`);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:]+(%[\w.-]+)?$/;

/** Checks and normalizes what CreateOptions says about the process's settings (no backend involved). */
export function resolveProcessSettings(o: CreateOptions): ProcessSettings {
  const s: ProcessSettings = {};
  if (o.stopSignal !== undefined && o.stopSignal !== '') s.stopSignal = checkStopSignal(o.stopSignal);
  if (o.stopTimeout !== undefined) {
    if (!Number.isInteger(o.stopTimeout) || o.stopTimeout < -1) throw invalidArgument(`invalid stop timeout ${o.stopTimeout}: use a whole number of seconds (-1 waits for ever)`);
    s.stopTimeout = o.stopTimeout;
  }
  if (o.ulimits?.length) {
    const byName = new Map<string, Ulimit>();
    for (const u of o.ulimits) {
      const parsed = parseUlimit(u);
      byName.set(parsed.name, parsed); // a later one of the same name wins, as in docker's ulimit option
    }
    s.ulimits = [...byName.values()];
  }
  if (o.shmSize !== undefined && o.shmSize !== 0) s.shmSizeBytes = parseSize(o.shmSize, 'shm size');
  const pid = mode(o.pidMode, '--pid', ['host'], 'a container has its own PID namespace or the host\'s (--pid host)');
  if (pid) s.pidMode = pid;
  const ipc = mode(o.ipcMode, '--ipc', ['private', 'shareable', 'host'], 'a container has its own IPC namespace (private) or the host\'s (--ipc host)');
  if (ipc) s.ipcMode = ipc;
  const uts = mode(o.utsMode, '--uts', ['host'], 'a container has its own UTS namespace or the host\'s (--uts host)');
  if (uts) s.utsMode = uts;
  const cgroupns = mode(o.cgroupnsMode, '--cgroupns', ['private', 'host'], 'use private or host');
  if (cgroupns) s.cgroupnsMode = cgroupns;
  if (s.ipcMode === 'host' && s.shmSizeBytes !== undefined) throw invalidArgument('conflicting options: --shm-size sizes a container\'s own /dev/shm; with --ipc host it is the host\'s');
  if (s.utsMode === 'host' && o.hostname !== undefined && o.hostname !== '') throw invalidArgument('conflicting options: hostname and the UTS mode');
  if (o.domainname) {
    if (s.utsMode === 'host') throw invalidArgument('conflicting options: domainname and the UTS mode');
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,253})$/.test(o.domainname)) throw invalidArgument(`invalid domainname "${o.domainname}": use letters, digits, dots and dashes`);
    s.domainname = o.domainname;
  }
  if (o.groupAdd?.length) {
    for (const g of o.groupAdd) if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(g)) throw invalidArgument(`invalid group "${g}" for --group-add: use a group name from the image's /etc/group or a number`);
    s.groupAdd = [...o.groupAdd];
  }
  if (o.dns?.length) {
    for (const d of o.dns) if (!IPV4.test(d) && !(d.includes(':') && IPV6.test(d))) throw invalidArgument(`${d} is not an ip address (--dns takes name server addresses)`);
    s.dns = [...o.dns];
  }
  if (o.dnsSearch?.length) {
    for (const d of o.dnsSearch) if (d !== '.' && !/^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,253})$/.test(d.replace(/\.$/, ''))) throw invalidArgument(`${d} is not a valid domain (--dns-search)`);
    s.dnsSearch = [...o.dnsSearch];
  }
  if (o.dnsOptions?.length) {
    for (const d of o.dnsOptions) if (!/^\S+$/.test(d)) throw invalidArgument(`invalid DNS option "${d}": one resolv.conf option without spaces, e.g. ndots:2`);
    s.dnsOptions = [...o.dnsOptions];
  }
  if ((s.dns || s.dnsSearch || s.dnsOptions) && o.network?.startsWith('container:')) throw invalidArgument('conflicting options: dns and the network mode');
  if (o.sysctls && Object.keys(o.sysctls).length) s.sysctls = parseSysctls(o.sysctls, { ...(o.network !== undefined ? { network: o.network } : {}), ...(s.ipcMode !== undefined ? { ipcMode: s.ipcMode } : {}) });
  if (o.oomScoreAdj !== undefined && o.oomScoreAdj !== 0) {
    if (!Number.isInteger(o.oomScoreAdj) || o.oomScoreAdj < -1000 || o.oomScoreAdj > 1000) throw invalidArgument(`invalid value ${o.oomScoreAdj}, range for oom score adj is [-1000, 1000]`);
    s.oomScoreAdj = o.oomScoreAdj;
  }
  return s;
}

/** The namespaces shared with the host, from the record's modes. */
export function hostNamespaces(s: ProcessSettings): HostNamespace[] {
  const out: HostNamespace[] = [];
  if (s.pidMode === 'host') out.push('pid');
  if (s.ipcMode === 'host') out.push('ipc');
  if (s.utsMode === 'host') out.push('uts');
  if (s.cgroupnsMode === 'host') out.push('cgroup');
  return out;
}

/**
 * /etc/resolv.conf as dockerd writes it when --dns, --dns-search or
 * --dns-option is given: the host's file with those parts replaced, in
 * docker's order (search, nameservers, options). Off the host network,
 * loopback name servers of the host's file are dropped (they would be the
 * container's own loopback), and docker's public defaults stand in when none
 * is left.
 */
export function resolvConf(hostFile: string, s: ProcessSettings, hostNetwork: boolean): string {
  const lines = hostFile.split('\n').map((l) => l.trim());
  const field = (key: string) => lines.filter((l) => l.startsWith(`${key} `) || l.startsWith(`${key}\t`)).map((l) => l.slice(key.length).trim());
  let servers = s.dns ?? field('nameserver');
  if (!s.dns && !hostNetwork) {
    servers = servers.filter((n) => !/^127\./.test(n) && n !== '::1');
    if (!servers.length) servers = ['8.8.8.8', '8.8.4.4'];
  }
  const search = s.dnsSearch ? (s.dnsSearch.length === 1 && s.dnsSearch[0] === '.' ? [] : s.dnsSearch) : field('search').flatMap((l) => l.split(/\s+/));
  const options = s.dnsOptions ?? field('options').flatMap((l) => l.split(/\s+/));
  let out = '';
  if (search.length) out += `search ${search.join(' ')}\n`;
  for (const n of servers) out += `nameserver ${n}\n`;
  if (options.length) out += `options ${options.join(' ')}\n`;
  return out;
}
