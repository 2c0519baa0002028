/** Capabilities: Docker's default set, --cap-add/--cap-drop (with ALL), --privileged. */
import { invalidArgument } from '@skiff/sdk';

/** Every capability Linux 5.9+ knows, in kernel order. */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Docker's default set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "all" -> "ALL". */
export function normalizeCapability(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const full = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!(ALL_CAPABILITIES as readonly string[]).includes(full)) throw invalidArgument(`unknown capability "${name}"; expected a name like NET_ADMIN or CAP_NET_ADMIN, or ALL`);
  return full;
}

export interface CapabilityOptions {
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  /** Starting set instead of Docker's (e.g. without MKNOD where no device cgroup guards it). */
  defaults?: string[];
}

/** The container's capability set, in kernel order: defaults, minus drops, plus adds (adds win, as in docker). */
export function resolveCapabilities(o: CapabilityOptions): string[] {
  if (o.privileged) return [...ALL_CAPABILITIES];
  const add = (o.capAdd ?? []).map(normalizeCapability);
  const drop = (o.capDrop ?? []).map(normalizeCapability);
  let set = new Set<string>(o.defaults ?? DEFAULT_CAPABILITIES);
  if (drop.includes('ALL')) set = new Set();
  else for (const c of drop) set.delete(c);
  if (add.includes('ALL')) set = new Set(ALL_CAPABILITIES);
  else for (const c of add) set.add(c);
  return ALL_CAPABILITIES.filter((c) => set.has(c));
}
