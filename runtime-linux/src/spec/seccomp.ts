/**
 * The default seccomp profile in OCI form (linux.seccomp), the same object
 * runc and crun load through libseccomp. Docker's default profile is an allow
 * list of ~350 calls; this is its deny side, comparable in effect: everything
 * is allowed except what lets a container reach past its namespaces (mounts,
 * kernel modules, kexec, reboot, keyrings, bpf, perf, other processes' memory,
 * new namespaces, vsock sockets, clock and swap changes, open_by_handle_at...).
 * ptrace is allowed from kernel 4.8 on (strace and gdb work), as in Docker:
 * older kernels ran the filter before a tracer could change the call.
 * As in Docker's profile, a capability the container holds (--cap-add) opens
 * the calls that need it (CAP_SYS_ADMIN: mount, unshare, setns...;
 * CAP_SYS_PTRACE: process_vm_readv...; see CAP_SYSCALLS); --privileged turns
 * the filter off. Raw and packet sockets are left to the
 * kernel's CAP_NET_RAW check, as in Docker's profile: `ping` works with the
 * default capabilities and fails with EPERM after `--cap-drop NET_RAW`.
 */
import { release } from 'node:os';
import type { DockerSeccompProfile } from '@skiff/sdk';
import { invalidArgument } from '@skiff/sdk';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: 'SCMP_CMP_EQ' | 'SCMP_CMP_NE' | 'SCMP_CMP_MASKED_EQ' | 'SCMP_CMP_GT' | 'SCMP_CMP_GE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE';
}

/** The actions the helper compiles (native/src/seccomp.c). */
export const SECCOMP_ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'] as const;
export type SeccompAction = (typeof SECCOMP_ACTIONS)[number];
const OPS = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_LT', 'SCMP_CMP_LE'] as const;

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures: string[];
  flags?: string[];
  syscalls: SeccompRule[];
}

const EPERM = 1;
const ENOSYS = 38;
const AF_VSOCK = 40;

/** The CLONE_NEW* flags; a process may not make new namespaces of these kinds. */
const NAMESPACE_FLAGS = [
  0x00020000, // CLONE_NEWNS
  0x02000000, // CLONE_NEWCGROUP
  0x04000000, // CLONE_NEWUTS
  0x08000000, // CLONE_NEWIPC
  0x10000000, // CLONE_NEWUSER
  0x20000000, // CLONE_NEWPID
  0x40000000, // CLONE_NEWNET
  0x00000080, // CLONE_NEWTIME
];

export const DENIED_SYSCALLS = [
  // file systems and mounts
  'mount', 'umount', 'umount2', 'mount_setattr', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'pivot_root',
  'swapon', 'swapoff', 'quotactl', 'quotactl_fd', 'nfsservctl', 'name_to_handle_at', 'open_by_handle_at', 'lookup_dcookie', 'ustat', 'sysfs', '_sysctl',
  // the kernel itself
  'init_module', 'finit_module', 'delete_module', 'create_module', 'query_module', 'get_kernel_syms',
  'kexec_load', 'kexec_file_load', 'reboot', 'acct', 'syslog', 'iopl', 'ioperm', 'uselib', 'vhangup',
  // keys, bpf, perf, other processes' memory and files (Docker: CAP_SYS_PTRACE only)
  'add_key', 'request_key', 'keyctl', 'bpf', 'perf_event_open', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd', 'process_madvise', 'userfaultfd',
  'fanotify_init', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
  // clocks (clock_adjtime stays: reading is common, and the kernel wants CAP_SYS_TIME to change) and NUMA policy
  'settimeofday', 'clock_settime', 'stime', 'set_mempolicy', 'mbind', 'move_pages', 'migrate_pages',
  // namespaces
  'setns',
];

/** The denied calls a capability opens, as Docker's profile has them (its `includes: {caps}` rules). */
export const CAP_SYSCALLS: Record<string, string[]> = {
  CAP_SYS_ADMIN: ['bpf', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie', 'mount', 'mount_setattr', 'move_mount', 'name_to_handle_at', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd', 'setns', 'syslog', 'umount', 'umount2'],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_MODULE: ['delete_module', 'init_module', 'finit_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['mbind', 'set_mempolicy'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
};

/**
 * The filter for a container holding `capabilities` (CAP_ names, as the
 * bounding set): DENIED_SYSCALLS less what those capabilities open; with
 * CAP_SYS_ADMIN also new namespaces and clone3.
 */
export function defaultSeccompProfile(capabilities: readonly string[] = [], kernel: string = release()): SeccompProfile {
  const held = new Set(capabilities);
  const opened = new Set(Object.entries(CAP_SYSCALLS).flatMap(([cap, calls]) => (held.has(cap) ? calls : [])));
  const denied = [...DENIED_SYSCALLS, ...(kernelAtLeast(kernel, '4.8') ? [] : ['ptrace'])].filter((s) => !opened.has(s));
  const rules: SeccompRule[] = [{ names: denied, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM }];
  if (held.has('CAP_SYS_ADMIN')) return finish(rules);
  // clone3 passes its flags in memory, where a filter cannot look: refuse it so libc falls back to clone.
  rules.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  for (const flag of NAMESPACE_FLAGS) {
    rules.push({ names: ['unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }] });
    rules.push({ names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }] });
  }
  return finish(rules);
}

function finish(rules: SeccompRule[]): SeccompProfile {
  // vsock reaches the hypervisor's host, outside any network namespace (Docker's profile allows every family but this one).
  rules.push({ names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_EQ' }] });
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: rules };
}

/** Docker's name for this machine in a rule's includes/excludes.arches (Go's GOARCH). */
const NATIVE_ARCH = 'amd64';

function kernelAtLeast(kernel: string, min: string): boolean {
  const have = kernel.split(/[.-]/).map((x) => parseInt(x, 10));
  const want = min.split('.').map((x) => parseInt(x, 10));
  for (let i = 0; i < want.length; i++) {
    const h = have[i] ?? 0;
    const w = want[i] ?? 0;
    if (Number.isNaN(w)) throw invalidArgument(`seccomp profile: minKernel "${min}" is not a version like 5.8`);
    if (h !== w) return (Number.isNaN(h) ? 0 : h) > w;
  }
  return true;
}

function action(name: string, where: string): SeccompAction {
  if ((SECCOMP_ACTIONS as readonly string[]).includes(name)) return name as SeccompAction;
  throw invalidArgument(`${where}: unknown or unsupported seccomp action "${name}" (supported: ${SECCOMP_ACTIONS.join(', ')})`);
}

/**
 * A Docker-format profile (`--security-opt seccomp=FILE`) in the OCI form the
 * helper compiles, resolved for this container as dockerd does (moby's
 * profiles/seccomp): rules whose includes (all listed capabilities, this
 * architecture, minKernel) do not hold or whose excludes (any listed
 * capability or architecture) do are left out; archMap gives this machine's
 * architectures. Conditions on one argument index repeated in a rule are
 * alternatives, so such a rule becomes one rule per condition, as runc makes it.
 */
export function seccompFromDocker(profile: DockerSeccompProfile, capabilities: readonly string[], kernel: string = release()): SeccompProfile {
  // Docker's profiles name capabilities either way (CAP_SYS_ADMIN, sys_admin).
  const canonical = (c: string) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`);
  const caps = new Set(capabilities.map(canonical));
  const has = (c: string) => caps.has(canonical(c));
  const arches = profile.architectures?.length
    ? profile.architectures
    : (profile.archMap ?? []).filter((a) => a.architecture === 'SCMP_ARCH_X86_64').flatMap((a) => [a.architecture, ...(a.subArchitectures ?? [])]);
  const out: SeccompProfile = { defaultAction: action(profile.defaultAction, 'seccomp profile: defaultAction'), architectures: arches, syscalls: [] };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.flags?.length) out.flags = profile.flags;
  (profile.syscalls ?? []).forEach((r, i) => {
    const where = `seccomp profile: syscalls[${i}]`;
    const inc = r.includes ?? {};
    const exc = r.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(NATIVE_ARCH)) return;
    if (exc.arches?.length && exc.arches.includes(NATIVE_ARCH)) return;
    if (inc.caps?.length && !inc.caps.every(has)) return;
    if (exc.caps?.length && exc.caps.some(has)) return;
    if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return;
    const names = r.names ?? (r.name ? [r.name] : []);
    const act = action(r.action, where);
    // libseccomp's default for an ERRNO rule without errnoRet is EPERM (the helper would use defaultErrnoRet).
    const base: SeccompRule = { names, action: act, ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : act === 'SCMP_ACT_ERRNO' ? { errnoRet: EPERM } : {}) };
    const args: SeccompArg[] = (r.args ?? []).map((a) => {
      if (!(OPS as readonly string[]).includes(a.op)) throw invalidArgument(`${where}: unknown comparison "${a.op}" (supported: ${OPS.join(', ')})`);
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw invalidArgument(`${where}: argument index ${a.index} is not 0..5`);
      return { index: a.index, value: a.value ?? 0, ...(a.valueTwo ? { valueTwo: a.valueTwo } : {}), op: a.op as SeccompArg['op'] };
    });
    const repeated = args.some((a, j) => args.findIndex((b) => b.index === a.index) !== j);
    if (!args.length) out.syscalls.push(base);
    else if (repeated) for (const a of args) out.syscalls.push({ ...base, args: [a] });
    else out.syscalls.push({ ...base, args });
  });
  return out;
}
