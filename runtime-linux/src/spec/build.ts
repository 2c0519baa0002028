/**
 * ContainerSpec -> OCI config.json: the whole isolation policy in one pure
 * function (no I/O), so it is unit-tested without root, and the bundle it
 * describes runs the same under skiff-runtime, runc and crun.
 */
import type { ContainerSpec } from '@skiff/sdk';
import { invalidArgument, unsupported } from '@skiff/sdk';
import type { OciConfig, OciDeviceRule, OciMount } from './oci.js';
import { DEFAULT_CAPABILITIES, resolveCapabilities } from './capabilities.js';
import { defaultSeccompProfile, seccompFromDocker, type SeccompProfile } from './seccomp.js';
import type { ResolvedUser } from './user.js';

/** Docker's masked paths (moby oci/defaults.go). */
export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** Docker's read-only paths. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The device cgroup rules of runc's and Docker's defaults, in OCI form. */
export const DEFAULT_DEVICE_RULES: OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [10, 200]].map(([major, minor]) => ({ allow: true, type: 'c' as const, major: major!, minor: minor!, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

export interface RootfsLayout {
  /** Directory the lower dirs are relative to (the helper chdirs there to keep the option string short). */
  layersDir: string;
  /** Lower dirs, bottom layer first, relative to layersDir. */
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
}

export interface BundleOptions {
  spec: ContainerSpec;
  user: ResolvedUser;
  rootfs: RootfsLayout;
  /** Files made by the backend and bound into the container: /etc/hostname, /etc/hosts, /etc/resolv.conf. */
  etcFiles?: { hostname?: string; hosts?: string; resolvConf?: string };
  /** Whether a device cgroup guards CAP_MKNOD (v1 devices files, or the helper's eBPF filter on cgroup2). Without one, MKNOD leaves the default set. */
  deviceCgroup: boolean;
  /** cgroupsPath is /<cgroupParent>/<id> (default parent "skiff"). */
  cgroupParent?: string;
  /** A network namespace made beforehand (user-defined networks), joined by path. */
  netnsPath?: string;
}

/**
 * Docker (20.10+) lets every group open ICMP echo sockets in a container's own
 * network namespace, so ping works without CAP_NET_RAW too.
 */
export const PING_GROUP_RANGE = '0 2147483647';

const depth = (p: string) => p.split('/').filter(Boolean).length;

function cleanTarget(t: string): string {
  if (!t.startsWith('/')) throw invalidArgument(`mount target "${t}" must be an absolute path in the container`);
  const parts: string[] = [];
  for (const seg of t.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') { parts.pop(); continue; }
    parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

function userMounts(spec: ContainerSpec): OciMount[] {
  const out: OciMount[] = [];
  for (const m of spec.mounts) {
    const destination = cleanTarget(m.target);
    if (destination === '/') throw invalidArgument('cannot mount over the container root "/"');
    if (m.type === 'bind') {
      if (!m.source.startsWith('/')) throw invalidArgument(`bind mount source "${m.source}" must be an absolute host path`);
      out.push({ destination, type: 'bind', source: m.source, options: ['rbind', 'rprivate', m.readOnly ? 'ro' : 'rw'] });
    } else if (m.type === 'volume') {
      if (!m.volume.hostPath) throw unsupported(`volume "${m.volume.name}" has no host directory; the linux backend mounts only volumes stored on the host`);
      out.push({ destination, type: 'bind', source: m.volume.hostPath, options: ['rbind', 'rprivate', m.readOnly ? 'ro' : 'rw'] });
    } else {
      const options = ['nosuid', 'nodev', 'mode=1777'];
      if (m.sizeBytes !== undefined) options.push(`size=${m.sizeBytes}`);
      // docker's --tmpfs options, after the defaults: the kernel takes the last mode=, and exec/suid/dev undo the defaults.
      if (m.options?.length) options.push(...m.options);
      out.push({ destination, type: 'tmpfs', source: 'tmpfs', options });
    }
  }
  // Parents before children, as docker sorts them.
  return out.sort((a, b) => depth(a.destination) - depth(b.destination));
}

/** PATH, HOSTNAME, TERM (with a terminal) and HOME (the user's from passwd, else /), where the image and the user set none: what a process gets under dockerd and runc. */
function withDefaults(env: string[], hostname: string, tty: boolean, home: string | undefined): string[] {
  const out = [...env];
  const has = (k: string) => out.some((e) => e.startsWith(`${k}=`));
  if (!has('PATH')) out.unshift(`PATH=${DEFAULT_PATH}`);
  if (!has('HOSTNAME')) out.splice(1, 0, `HOSTNAME=${hostname}`);
  if (tty && !has('TERM')) out.push('TERM=xterm');
  if (!has('HOME')) out.push(`HOME=${home || '/'}`);
  return out;
}

/** /dev/shm: a tmpfs of --shm-size (docker's 64 MiB by default), or the host's with --ipc host, as docker mounts it. */
function shmMount(spec: ContainerSpec): OciMount {
  if (spec.hostNamespaces?.includes('ipc')) return { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] };
  const size = spec.shmSizeBytes === undefined ? '65536k' : String(spec.shmSizeBytes);
  return { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${size}`] };
}

export function buildOciConfig(o: BundleOptions): OciConfig {
  const { spec, user } = o;
  const privileged = spec.privileged ?? false;
  const hostname = spec.hostname ?? spec.id.slice(0, 12);
  const defaults = o.deviceCgroup ? DEFAULT_CAPABILITIES : DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_MKNOD');
  const caps = resolveCapabilities({ capAdd: spec.capAdd ?? [], capDrop: spec.capDrop ?? [], privileged, defaults });
  if (!spec.process.args.length) throw invalidArgument('no command to run: the image has no Entrypoint or Cmd and none was given');
  if (!spec.process.cwd.startsWith('/')) throw invalidArgument(`the working directory "${spec.process.cwd}" must be an absolute path`);

  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    shmMount(spec),
  ];
  // The container's own cgroups, read-only unless privileged, as in docker's default spec (the helper mounts v1 or v2).
  mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [privileged ? 'rw' : 'ro', 'nosuid', 'noexec', 'nodev'] });
  const etc = o.etcFiles ?? {};
  const user_ = userMounts(spec);
  const taken = new Set(user_.map((m) => m.destination));
  for (const [dest, source] of [['/etc/hostname', etc.hostname], ['/etc/hosts', etc.hosts], ['/etc/resolv.conf', etc.resolvConf]] as const) {
    if (source && !taken.has(dest)) mounts.push({ destination: dest, type: 'bind', source, options: ['rbind', 'rprivate', spec.readOnlyRootfs ? 'ro' : 'rw'] });
  }
  mounts.push(...user_);

  // --pid/--ipc/--uts/--cgroupns host: no namespace of its own, so the process stays in the host's.
  const shared = new Set(spec.hostNamespaces ?? []);
  const namespaces: Array<{ type: string; path?: string }> = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }].filter((n) => !shared.has(n.type as 'pid'));
  const network = spec.network ?? 'none';
  if (network !== 'none' && network !== 'host') throw invalidArgument(`unknown network "${network as string}"; the linux backend supports none and host`);
  // Sharing another container's network: its namespace by path, as runc's config.json has it.
  if (spec.joinNetworkOf) namespaces.splice(1, 0, { type: 'network', path: `/proc/${spec.joinNetworkOf.pid}/ns/net` });
  else if (o.netnsPath) namespaces.splice(1, 0, { type: 'network', path: o.netnsPath });
  else if (network === 'none') namespaces.splice(1, 0, { type: 'network' });

  const r = spec.resources ?? {};
  if (r.memoryBytes !== undefined && (!Number.isInteger(r.memoryBytes) || r.memoryBytes < 6 * 1024 * 1024)) throw invalidArgument(`memory limit ${r.memoryBytes} is too small; the minimum is 6MB, as in docker`);
  if (r.cpus !== undefined && !(r.cpus > 0)) throw invalidArgument(`--cpus must be greater than 0, not ${r.cpus}`);
  if (r.pidsLimit !== undefined && !Number.isInteger(r.pidsLimit)) throw invalidArgument(`--pids-limit must be an integer, not ${r.pidsLimit}`);
  const resources: OciConfig['linux']['resources'] = { devices: privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES };
  if (r.memoryBytes !== undefined) resources.memory = { limit: r.memoryBytes, swap: r.memorySwapBytes ?? r.memoryBytes };
  if (r.memoryReservationBytes !== undefined) resources.memory = { ...resources.memory, reservation: r.memoryReservationBytes };
  const cpu: NonNullable<OciConfig['linux']['resources']>['cpu'] = {};
  if (r.cpus !== undefined) Object.assign(cpu, { quota: Math.max(1000, Math.round(r.cpus * 100_000)), period: 100_000 });
  else {
    if (r.cpuQuotaUs !== undefined) cpu.quota = r.cpuQuotaUs;
    if (r.cpuPeriodUs !== undefined) cpu.period = r.cpuPeriodUs;
  }
  if (r.cpuShares !== undefined) cpu.shares = r.cpuShares;
  if (r.cpusetCpus !== undefined) cpu.cpus = r.cpusetCpus;
  if (Object.keys(cpu).length) resources.cpu = cpu;
  if (r.pidsLimit !== undefined && r.pidsLimit > 0) resources.pids = { limit: r.pidsLimit };

  const { layersDir, lowerDirs, upperDir, workDir } = o.rootfs;
  const lower = [...lowerDirs].reverse().join(':'); // overlayfs lists the top layer first
  const config: OciConfig = {
    ociVersion: '1.0.2',
    process: {
      terminal: spec.process.tty ?? false,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
      args: spec.process.args,
      env: withDefaults(spec.process.env, hostname, spec.process.tty ?? false, user.home),
      cwd: spec.process.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      // Off unless asked, as in Docker: with it, setuid programs (su, sudo, a setuid ping) gain nothing.
      noNewPrivileges: spec.noNewPrivileges ?? false,
      // -1 (unlimited) stays -1: the helper reads it as RLIM_INFINITY, the uint64 a JS number cannot write exactly.
      ...(spec.ulimits?.length ? { rlimits: spec.ulimits.map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, hard: u.hard, soft: u.soft })) } : {}),
      ...(spec.oomScoreAdj !== undefined ? { oomScoreAdj: spec.oomScoreAdj } : {}),
    },
    root: { path: 'rootfs', readonly: spec.readOnlyRootfs ?? false },
    // runc refuses a hostname without a UTS namespace of the container's own.
    ...(shared.has('uts') ? {} : { hostname, ...(spec.domainname ? { domainname: spec.domainname } : {}) }),
    mounts,
    annotations: {
      // volatile: no sync of the upper file system at unmount (4-5 ms per run); the backend
      // refuses to reuse an upper dir across a host reboot, the case volatile warns about.
      'org.skiff.rootfs.overlay': `lowerdir=${lower},upperdir=${upperDir},workdir=${workDir},index=off,redirect_dir=off,metacopy=off,volatile`,
      'org.skiff.rootfs.overlay.dir': layersDir,
      ...(privileged ? {} : { 'org.skiff.rootfs.overlay.flags': 'nodev' }),
    },
    linux: {
      namespaces,
      cgroupsPath: `/${o.cgroupParent ?? 'skiff'}/${spec.id}`,
      resources,
      rootfsPropagation: 'rprivate',
    },
  };
  if (!privileged && !spec.unmaskSystemPaths) {
    config.linux.maskedPaths = MASKED_PATHS;
    config.linux.readonlyPaths = READONLY_PATHS;
  }
  const seccomp = seccompOf(spec, caps);
  if (seccomp) config.linux.seccomp = seccomp;
  // Only in a namespace of the container's own: a shared one (host, container:NAME) keeps its settings.
  if (!spec.joinNetworkOf && (o.netnsPath || network === 'none')) config.linux.sysctl = { 'net.ipv4.ping_group_range': PING_GROUP_RANGE };
  // The user's win over that default, as in dockerd.
  if (spec.sysctls) config.linux.sysctl = { ...config.linux.sysctl, ...spec.sysctls };
  return config;
}

/** --privileged and seccomp=unconfined: no filter; a Docker profile resolved for these capabilities; else skiff's default. */
function seccompOf(spec: ContainerSpec, caps: string[]): SeccompProfile | undefined {
  if (spec.privileged || spec.seccomp === 'unconfined') return undefined;
  return spec.seccomp ? seccompFromDocker(spec.seccomp, caps) : defaultSeccompProfile(caps);
}
