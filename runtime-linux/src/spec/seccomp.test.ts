import { describe, it, expect } from 'vitest';
import type { DockerSeccompProfile } from '@skiff/sdk';
import { defaultSeccompProfile, seccompFromDocker } from './seccomp.js';
import { DEFAULT_CAPABILITIES } from './capabilities.js';

describe('defaultSeccompProfile', () => {
  it("leaves raw and packet sockets to CAP_NET_RAW and refuses only vsock, as Docker's profile", () => {
    const sock = defaultSeccompProfile(DEFAULT_CAPABILITIES).syscalls.filter((r) => r.names.includes('socket'));
    expect(sock).toEqual([{ names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 40, op: 'SCMP_CMP_EQ' }] }]);
  });

  it('allows ptrace from kernel 4.8 (strace, gdb), as Docker, and reading clocks with clock_adjtime', () => {
    const denied = (kernel: string) => defaultSeccompProfile(DEFAULT_CAPABILITIES, kernel).syscalls.flatMap((r) => (r.args ? [] : r.names));
    expect(denied('6.1.0-13-amd64')).not.toContain('ptrace');
    expect(denied('4.4.0-210-generic')).toContain('ptrace');
    expect(denied('6.1.0')).not.toContain('clock_adjtime');
    expect(denied('6.1.0')).toEqual(expect.arrayContaining(['process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd', 'process_madvise', 'clock_settime']));
  });

  it('opens what an added capability allows, as Docker\'s profile does', () => {
    const denied = (caps: string[]) => defaultSeccompProfile([...DEFAULT_CAPABILITIES, ...caps], '6.1.0').syscalls.filter((r) => r.action === 'SCMP_ACT_ERRNO').flatMap((r) => r.names);
    const base = denied([]);
    expect(base).toEqual(expect.arrayContaining(['mount', 'umount2', 'setns', 'unshare', 'clone', 'clone3', 'process_vm_readv', 'kcmp', 'clock_settime', 'reboot']));
    const admin = denied(['CAP_SYS_ADMIN']);
    for (const s of ['mount', 'umount2', 'setns', 'unshare', 'clone', 'clone3', 'fsopen']) expect(admin).not.toContain(s);
    for (const s of ['kexec_load', 'swapon', 'keyctl', 'process_vm_readv', 'pivot_root']) expect(admin).toContain(s);
    const ptrace = denied(['CAP_SYS_PTRACE']);
    for (const s of ['process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd']) expect(ptrace).not.toContain(s);
    expect(ptrace).toContain('mount');
    expect(denied(['CAP_SYS_TIME'])).not.toContain('clock_settime');
    expect(denied(['CAP_SYS_BOOT'])).not.toContain('reboot');
  });
});

describe('seccompFromDocker', () => {
  // The shape of moby's profiles/seccomp/default.json, cut down to one rule of each kind.
  const docker: DockerSeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    ],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
      { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
      { names: ['mount', 'unshare'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] } },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { name: 'personality', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    ],
  };

  it("keeps the rules that hold for this container's capabilities, architecture and kernel", () => {
    const p = seccompFromDocker(docker, DEFAULT_CAPABILITIES, '6.1.0-13-amd64');
    expect(p.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(p.defaultErrnoRet).toBe(1);
    expect(p.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(p.syscalls).toEqual([
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW' },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW' },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      // Two conditions on one argument are alternatives (runc adds them as separate rules).
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    ]);
  });

  it('turns the CAP_SYS_ADMIN rules around when the container has it, and drops minKernel rules on older kernels', () => {
    const names = seccompFromDocker(docker, [...DEFAULT_CAPABILITIES, 'SYS_ADMIN'], '4.4.0').syscalls.map((r) => r.names.join(','));
    expect(names).toContain('mount,unshare');
    expect(names).not.toContain('clone');
    expect(names).not.toContain('clone3');
    expect(names).not.toContain('ptrace');
  });

  it('gives ERRNO rules without errnoRet EPERM, as libseccomp, and refuses what the helper cannot compile', () => {
    expect(seccompFromDocker({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }, []).syscalls).toEqual([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
    expect(() => seccompFromDocker({ defaultAction: 'SCMP_ACT_NOTIFY' }, [])).toThrow(/defaultAction: unknown or unsupported seccomp action "SCMP_ACT_NOTIFY"/);
    expect(() => seccompFromDocker({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ODD' }] }] }, [])).toThrow(/syscalls\[0\]: unknown comparison "SCMP_CMP_ODD"/);
  });
});
