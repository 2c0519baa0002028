/**
 * The default seccomp profile in OCI form (linux.seccomp), the same object
 * runc and crun load through libseccomp. Docker's default profile is an allow
 * list of ~350 calls; this is its deny side, comparable in effect: everything
 * is allowed except what lets a container reach past its namespaces (mounts,
 * kernel modules, kexec, reboot, keyrings, bpf, perf, ptrace, new namespaces,
 * raw and packet sockets, clock and swap changes, open_by_handle_at...).
 * CAP_SYS_ADMIN-only calls are denied here even when caps would allow them;
 * --privileged turns the filter off.
 */
export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: 'SCMP_CMP_EQ' | 'SCMP_CMP_NE' | 'SCMP_CMP_MASKED_EQ' | 'SCMP_CMP_GT' | 'SCMP_CMP_GE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE';
}

export interface SeccompRule {
  names: string[];
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_KILL' | 'SCMP_ACT_KILL_PROCESS';
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  architectures: string[];
  syscalls: SeccompRule[];
}

const EPERM = 1;
const ENOSYS = 38;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_TYPE_MASK = 0xf;

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
  // keys, bpf, perf, tracing, other processes' memory
  'add_key', 'request_key', 'keyctl', 'bpf', 'perf_event_open', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'userfaultfd',
  'fanotify_init', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
  // clocks and NUMA policy
  'settimeofday', 'clock_settime', 'clock_adjtime', 'stime', 'set_mempolicy', 'mbind', 'move_pages', 'migrate_pages',
  // namespaces
  'setns',
];

export function defaultSeccompProfile(): SeccompProfile {
  const rules: SeccompRule[] = [{ names: DENIED_SYSCALLS, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM }];
  // clone3 passes its flags in memory, where a filter cannot look: refuse it so libc falls back to clone.
  rules.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  for (const flag of NAMESPACE_FLAGS) {
    rules.push({ names: ['unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }] });
    rules.push({ names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }] });
  }
  // Packet sockets (any type) and raw IP sockets; netlink's SOCK_RAW (ip, ss) stays allowed.
  rules.push({ names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: AF_PACKET, op: 'SCMP_CMP_EQ' }] });
  for (const family of [AF_INET, AF_INET6]) {
    rules.push({ names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: family, op: 'SCMP_CMP_EQ' }, { index: 1, value: SOCK_TYPE_MASK, valueTwo: SOCK_RAW, op: 'SCMP_CMP_MASKED_EQ' }] });
  }
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: rules };
}
