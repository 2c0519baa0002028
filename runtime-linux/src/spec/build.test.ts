import { describe, it, expect } from 'vitest';
import type { ContainerSpec } from '@skiff/sdk';
import { buildOciConfig, MASKED_PATHS, READONLY_PATHS, type BundleOptions } from './build.js';
import { DEFAULT_CAPABILITIES, ALL_CAPABILITIES } from './capabilities.js';

const spec = (extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  id: 'abcdef0123456789',
  image: { id: 'sha256:x', config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, layers: [] },
  process: { args: ['sh', '-c', 'true'], env: ['FOO=1'], cwd: '/work' },
  mounts: [],
  ...extra,
});

const opts = (s: ContainerSpec, extra: Partial<BundleOptions> = {}): BundleOptions => ({
  spec: s,
  user: { uid: 0, gid: 0, additionalGids: [] },
  rootfs: { layersDir: '/state/layers', lowerDirs: ['aaa', 'bbb', 'ccc'], upperDir: '/state/c/upper', workDir: '/state/c/work' },
  deviceCgroup: true,
  ...extra,
});

describe('buildOciConfig', () => {
  it('isolates by default as Docker: namespaces, Docker caps, seccomp, masked and read-only paths, no_new_privs off', () => {
    const c = buildOciConfig(opts(spec()));
    expect(c.linux.namespaces.map((n) => n.type).sort()).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
    expect(c.process.capabilities.bounding).toEqual(ALL_CAPABILITIES.filter((x) => DEFAULT_CAPABILITIES.includes(x)));
    expect(c.process.capabilities.inheritable).toEqual([]);
    expect(c.process.capabilities.ambient).toEqual([]);
    expect(c.process.noNewPrivileges).toBe(false);
    expect(c.linux.maskedPaths).toEqual(MASKED_PATHS);
    expect(c.linux.readonlyPaths).toEqual(READONLY_PATHS);
    expect(c.linux.seccomp?.defaultAction).toBe('SCMP_ACT_ALLOW');
    const denied = c.linux.seccomp!.syscalls.flatMap((r) => (r.args ? [] : r.names));
    for (const s of ['mount', 'umount2', 'reboot', 'kexec_load', 'init_module', 'finit_module', 'delete_module', 'process_vm_readv', 'pidfd_getfd', 'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'swapon', 'swapoff', 'setns', 'open_by_handle_at']) expect(denied).toContain(s);
    const sock = c.linux.seccomp!.syscalls.filter((r) => r.names.includes('socket'));
    // Only vsock is refused; raw and packet sockets are the kernel's CAP_NET_RAW check, as in Docker's profile.
    expect(sock).toEqual([{ names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 40, op: 'SCMP_CMP_EQ' }] }]);
    expect(c.linux.sysctl).toEqual({ 'net.ipv4.ping_group_range': '0 2147483647' });
    expect(denied).not.toContain('ptrace'); // from kernel 4.8 on, as Docker: strace and gdb work
    expect(c.linux.seccomp!.syscalls.filter((r) => r.names.includes('unshare')).length).toBeGreaterThanOrEqual(7);
    const sys = c.mounts.find((m) => m.destination === '/sys')!;
    expect(sys.options).toContain('ro');
    expect(c.mounts.map((m) => m.destination)).toEqual(expect.arrayContaining(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys']));
  });

  it('stacks the overlay top layer first and keeps lower dirs relative', () => {
    const c = buildOciConfig(opts(spec()));
    expect(c.annotations!['org.skiff.rootfs.overlay']).toBe('lowerdir=ccc:bbb:aaa,upperdir=/state/c/upper,workdir=/state/c/work,index=off,redirect_dir=off,metacopy=off,volatile');
    expect(c.annotations!['org.skiff.rootfs.overlay.dir']).toBe('/state/layers');
    expect(c.annotations!['org.skiff.rootfs.overlay.flags']).toBe('nodev');
    expect(c.root).toEqual({ path: 'rootfs', readonly: false });
  });

  it('sets hostname, user, env defaults and the working directory', () => {
    const c = buildOciConfig(opts(spec({ hostname: 'box' }), { user: { uid: 1000, gid: 50, additionalGids: [29] } }));
    expect(c.hostname).toBe('box');
    expect(c.process.user).toEqual({ uid: 1000, gid: 50, additionalGids: [29] });
    // HOME: the user's from passwd, else / (as runc sets it); one the image or the user gives stays.
    expect(c.process.env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=box', 'FOO=1', 'HOME=/']);
    expect(buildOciConfig(opts(spec(), { user: { uid: 1000, gid: 50, additionalGids: [50], home: '/home/alice' } })).process.env).toContain('HOME=/home/alice');
    expect(buildOciConfig(opts(spec({ process: { args: ['sh'], env: ['HOME=/x'], cwd: '/' } }), { user: { uid: 0, gid: 0, additionalGids: [0], home: '/root' } })).process.env.filter((e) => e.startsWith('HOME='))).toEqual(['HOME=/x']);
    expect(c.process.cwd).toBe('/work');
    expect(buildOciConfig(opts(spec())).hostname).toBe('abcdef012345');
  });

  it('--network host keeps the host network namespace, and its sysctls', () => {
    const c = buildOciConfig(opts(spec({ network: 'host' })));
    expect(c.linux.namespaces.some((n) => n.type === 'network')).toBe(false);
    expect(c.linux.sysctl).toBeUndefined();
  });

  it('sets ping_group_range only in a network namespace of its own', () => {
    expect(buildOciConfig(opts(spec(), { netnsPath: '/run/netns/x' })).linux.sysctl).toEqual({ 'net.ipv4.ping_group_range': '0 2147483647' });
    expect(buildOciConfig(opts(spec({ joinNetworkOf: { id: 'other', pid: 42 } }))).linux.sysctl).toBeUndefined();
  });

  it('--sysctl: the given ones beside ping_group_range, and over it', () => {
    expect(buildOciConfig(opts(spec({ sysctls: { 'net.core.somaxconn': '1024', 'net.ipv4.ping_group_range': '1 1' } }))).linux.sysctl).toEqual({ 'net.ipv4.ping_group_range': '1 1', 'net.core.somaxconn': '1024' });
    expect(buildOciConfig(opts(spec({ network: 'host', sysctls: { 'kernel.shmmax': '1000' } }))).linux.sysctl).toEqual({ 'kernel.shmmax': '1000' });
  });

  it('--security-opt: no-new-privileges, seccomp=unconfined, a Docker profile, systempaths=unconfined', () => {
    expect(buildOciConfig(opts(spec({ noNewPrivileges: true }))).process.noNewPrivileges).toBe(true);
    expect(buildOciConfig(opts(spec({ privileged: true, noNewPrivileges: true }))).process.noNewPrivileges).toBe(true);
    const unconfined = buildOciConfig(opts(spec({ seccomp: 'unconfined' })));
    expect(unconfined.linux.seccomp).toBeUndefined();
    expect(unconfined.linux.maskedPaths).toEqual(MASKED_PATHS);
    const profile = buildOciConfig(opts(spec({ seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] } })));
    expect(profile.linux.seccomp).toEqual({ defaultAction: 'SCMP_ACT_ALLOW', architectures: [], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] });
    // --privileged wins over a profile, as in Docker.
    expect(buildOciConfig(opts(spec({ privileged: true, seccomp: { defaultAction: 'SCMP_ACT_ERRNO' } }))).linux.seccomp).toBeUndefined();
    const unmasked = buildOciConfig(opts(spec({ unmaskSystemPaths: true })));
    expect([unmasked.linux.maskedPaths, unmasked.linux.readonlyPaths]).toEqual([undefined, undefined]);
    expect(unmasked.linux.seccomp?.defaultAction).toBe('SCMP_ACT_ALLOW');
  });

  it('--privileged opts out: all capabilities, no seccomp, no masks, writable /sys, every device', () => {
    const c = buildOciConfig(opts(spec({ privileged: true })));
    expect(c.process.capabilities.bounding).toEqual([...ALL_CAPABILITIES]);
    expect(c.linux.seccomp).toBeUndefined();
    expect(c.linux.maskedPaths).toBeUndefined();
    expect(c.linux.readonlyPaths).toBeUndefined();
    expect(c.process.noNewPrivileges).toBe(false);
    expect(c.mounts.find((m) => m.destination === '/sys')!.options).toContain('rw');
    expect(c.linux.resources?.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(c.annotations!['org.skiff.rootfs.overlay.flags']).toBeUndefined();
  });

  it('applies --cap-add and --cap-drop, and leaves MKNOD out where no device cgroup guards it', () => {
    const c = buildOciConfig(opts(spec({ capAdd: ['net_admin', 'SYS_TIME'], capDrop: ['CAP_CHOWN', 'kill'] })));
    const caps = c.process.capabilities.effective;
    expect(caps).toContain('CAP_NET_ADMIN');
    expect(caps).toContain('CAP_SYS_TIME');
    expect(caps).not.toContain('CAP_CHOWN');
    expect(caps).not.toContain('CAP_KILL');
    expect(buildOciConfig(opts(spec({ capDrop: ['ALL'], capAdd: ['KILL'] }))).process.capabilities.bounding).toEqual(['CAP_KILL']);
    expect(buildOciConfig(opts(spec(), { deviceCgroup: false })).process.capabilities.bounding).not.toContain('CAP_MKNOD');
    expect(() => buildOciConfig(opts(spec({ capAdd: ['FLY'] })))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('mounts binds, volumes and tmpfs parents first, with ro/rw', () => {
    const c = buildOciConfig(opts(spec({
      mounts: [
        { type: 'bind', source: '/host/a', target: '/data/sub', readOnly: true },
        { type: 'volume', volume: { name: 'v', hostPath: '/vols/v' }, target: '/data/', readOnly: false },
        { type: 'tmpfs', target: '/scratch', readOnly: false, sizeBytes: 1048576 },
      ],
    })));
    const user = c.mounts.filter((m) => ['/data', '/data/sub', '/scratch'].includes(m.destination));
    expect(user.map((m) => m.destination)).toEqual(['/data', '/scratch', '/data/sub']);
    expect(user[0]).toEqual({ destination: '/data', type: 'bind', source: '/vols/v', options: ['rbind', 'rprivate', 'rw'] });
    expect(user[2]!.options).toContain('ro');
    expect(user[1]!.options).toContain('size=1048576');
    expect(() => buildOciConfig(opts(spec({ mounts: [{ type: 'volume', volume: { name: 'mem' }, target: '/x', readOnly: false }] })))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(() => buildOciConfig(opts(spec({ mounts: [{ type: 'bind', source: 'rel', target: '/x', readOnly: false }] })))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('binds /etc/hostname and /etc/hosts, read-only with a read-only root', () => {
    const c = buildOciConfig(opts(spec({ readOnlyRootfs: true }), { etcFiles: { hostname: '/s/hostname', hosts: '/s/hosts' } }));
    expect(c.root.readonly).toBe(true);
    expect(c.mounts.find((m) => m.destination === '/etc/hosts')).toEqual({ destination: '/etc/hosts', type: 'bind', source: '/s/hosts', options: ['rbind', 'rprivate', 'ro'] });
  });

  it('turns resources into OCI resources and refuses bad ones', () => {
    const c = buildOciConfig(opts(spec({ resources: { memoryBytes: 64 << 20, cpus: 0.5, pidsLimit: 20 } })));
    expect(c.linux.resources).toMatchObject({ memory: { limit: 64 << 20 }, cpu: { quota: 50000, period: 100000 }, pids: { limit: 20 } });
    expect(c.linux.cgroupsPath).toBe('/skiff/abcdef0123456789');
    expect(buildOciConfig(opts(spec(), { cgroupParent: 'skiff/k1' })).linux.cgroupsPath).toBe('/skiff/k1/abcdef0123456789');
    expect(() => buildOciConfig(opts(spec({ resources: { memoryBytes: 1000 } })))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => buildOciConfig(opts(spec({ resources: { cpus: 0 } })))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('mounts the container\'s cgroups at /sys/fs/cgroup after /sys, read-only unless privileged, as docker\'s default spec does', () => {
    const mounts = buildOciConfig(opts(spec())).mounts;
    const cg = mounts.findIndex((m) => m.type === 'cgroup');
    expect(mounts[cg]).toEqual({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] });
    expect(cg).toBeGreaterThan(mounts.findIndex((m) => m.destination === '/sys'));
    expect(buildOciConfig(opts(spec({ privileged: true }))).mounts.find((m) => m.type === 'cgroup')?.options).toEqual(['rw', 'nosuid', 'noexec', 'nodev']);
    // With the host's cgroup namespace too: the helper then binds the container's own cgroup directories.
    const host = buildOciConfig(opts(spec({ hostNamespaces: ['cgroup'] })));
    expect(host.mounts.some((m) => m.type === 'cgroup')).toBe(true);
    expect(host.linux.namespaces.some((n) => n.type === 'cgroup')).toBe(false);
  });
});
