/**
 * `POST /containers/create`: the Docker body (container config + HostConfig)
 * turned into the Engine's CreateOptions. Whatever skiff cannot honour and
 * that would change what runs (devices, say) is refused, never ignored.
 */
import { invalidArgument, unsupported } from '../errors/index.js';
import type { HealthConfig } from '../image/types.js';
import type { RestartPolicy } from '../runtime/restart.js';
import { parseNetworkMode, type CreateOptions, type MountOption } from '../runtime/options.js';
import type { ContainerExtras, PortBinding } from './container-extras.js';
import { REFUSED, set } from '../runtime/refused-options.js';

type StrList = string[] | string | null | undefined;

/** `80/tcp` + {HostIp, HostPort} as a `-p` spec: `[IP]:HOSTPORT:80/tcp`. */
function portSpec(key: string, b: PortBinding): string {
  const ip = b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp;
  const [port, proto] = key.split('/') as [string, string?];
  return `${ip}:${b.HostPort}:${port}/${proto ?? 'tcp'}`;
}

export interface DockerMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
}

/** --mount options skiff cannot honour (a bind's propagation, a volume's driver...), refused by name; Consistency is a no-op on Linux, as in dockerd. */
function refuseMountOptions(m: DockerMount): void {
  const no = (what: string, why: string) => invalidArgument(`${what} (Mounts[].${what.startsWith('bind') ? 'BindOptions' : 'VolumeOptions'}) is not supported by skiff: ${why}`);
  const b = m.BindOptions ?? {};
  if (b.Propagation && b.Propagation !== 'rprivate') throw no(`bind-propagation=${b.Propagation}`, 'bind mounts are rprivate');
  if (b.NonRecursive || b.ReadOnlyNonRecursive || b.ReadOnlyForceRecursive) throw no('bind-recursive', 'bind mounts are recursive');
  if (b.CreateMountpoint) throw no('bind-create-src', 'create the host directory first');
  const v = m.VolumeOptions ?? {};
  if (v.NoCopy) throw no('volume-nocopy', 'drop the option');
  if (v.Subpath) throw no('volume-subpath', 'mount the whole volume');
  if (v.Labels && Object.keys(v.Labels).length) throw no('volume-label', 'label the volume with skiff volume create --label');
  if (v.DriverConfig && ((v.DriverConfig.Name && v.DriverConfig.Name !== 'local') || Object.keys(v.DriverConfig.Options ?? {}).length)) throw no('volume-driver', 'volumes are local directories');
}

export interface DockerHostConfig {
  Binds?: string[] | null;
  Mounts?: DockerMount[] | null;
  AutoRemove?: boolean;
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpuShares?: number;
  CpusetCpus?: string;
  PidsLimit?: number | null;
  ReadonlyRootfs?: boolean;
  Init?: boolean | null;
  Privileged?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  SecurityOpt?: string[] | null;
  /** Empty (with ReadonlyPaths): docker's CLI saying --security-opt systempaths=unconfined. */
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  NetworkMode?: string;
  Tmpfs?: Record<string, string> | null;
  PortBindings?: Record<string, Array<Partial<PortBinding>> | null> | null;
  PublishAllPorts?: boolean;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number } | null;
  Runtime?: string;
  Devices?: unknown[] | null;
  ExtraHosts?: string[] | null;
  /** [rows, cols] of the client's terminal (API 1.42+), for a -t container's first window size. */
  ConsoleSize?: [number, number] | null;
  /** `--log-driver`, `--log-opt`; the docker CLI sends Type "" for the daemon's default. */
  LogConfig?: { Type?: string; Config?: Record<string, string> | null } | null;
  Ulimits?: Array<{ Name?: string; Soft?: number; Hard?: number }> | null;
  ShmSize?: number;
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  CgroupnsMode?: string;
  GroupAdd?: string[] | null;
  Dns?: string[] | null;
  DnsSearch?: string[] | null;
  DnsOptions?: string[] | null;
  Sysctls?: Record<string, string> | null;
  OomScoreAdj?: number;
  /** The fields skiff refuses when set (refused()); named here so they are not dropped unseen. */
  [refused: string]: unknown;
}

export interface DockerCreateBody {
  Image?: string;
  Cmd?: StrList;
  Entrypoint?: StrList;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Hostname?: string;
  Domainname?: string;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  HostConfig?: DockerHostConfig | null;
  Healthcheck?: HealthConfig | null;
  NetworkingConfig?: { EndpointsConfig?: Record<string, { Aliases?: string[] | null; IPAMConfig?: Record<string, unknown> | null; MacAddress?: string; Links?: string[] | null; DriverOpts?: Record<string, string> | null } | null> | null } | null;
  StopSignal?: string;
  /** Seconds; absent (or null) means the default. */
  StopTimeout?: number | null;
  MacAddress?: string;
  NetworkDisabled?: boolean;
}

/** The first field of the body skiff cannot honour, as a 400 saying so. */
function refuseUnsupported(body: DockerCreateBody, h: DockerHostConfig): void {
  const no = (flag: string, field: string, why: string) => invalidArgument(`${flag} (${field}) is not supported by skiff: ${why}`);
  for (const [field, flag, check, why] of REFUSED) if (check(h[field])) throw no(flag, `HostConfig.${field}`, why);
  if (body.MacAddress) throw no('--mac-address', 'MacAddress', 'addresses follow from each network\'s IP');
  for (const [net, e] of Object.entries(body.NetworkingConfig?.EndpointsConfig ?? {})) {
    const ipam = e?.IPAMConfig ?? {};
    if (Object.values(ipam).some(set)) throw no('--ip, --ip6', `NetworkingConfig.EndpointsConfig.${net}.IPAMConfig`, 'each network hands out its addresses itself');
    if (e?.MacAddress) throw no('--mac-address', `NetworkingConfig.EndpointsConfig.${net}.MacAddress`, 'addresses follow from each network\'s IP');
    if (e?.Links?.length) throw no('--link', `NetworkingConfig.EndpointsConfig.${net}.Links`, 'put both containers on the network and use the name');
    if (e?.DriverOpts && Object.keys(e.DriverOpts).length) throw no('--network driver-opt', `NetworkingConfig.EndpointsConfig.${net}.DriverOpts`, 'the bridge driver takes no options');
  }
}

function list(v: StrList): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'string' ? [v] : v;
}

/** Backends are chosen with `--runtime NAME`; docker's own runtime names mean "the default". */
const DOCKER_RUNTIMES = new Set(['', 'runc', 'io.containerd.runc.v2', 'crun']);

export function createOptionsFrom(body: DockerCreateBody, query: { name?: string; platform?: string }): { options: CreateOptions; extras: ContainerExtras } {
  if (!body || typeof body !== 'object') throw invalidArgument('the create request needs a JSON body with at least "Image"');
  if (!body.Image) throw invalidArgument('no image given: the create body needs "Image"');
  const h = body.HostConfig ?? {};
  refuseUnsupported(body, h);
  const o: CreateOptions = { image: body.Image };
  const cmd = list(body.Cmd);
  if (cmd !== undefined) o.cmd = cmd;
  const entrypoint = list(body.Entrypoint);
  // `--entrypoint ""` arrives as [] or [""]: clear the image's entrypoint.
  if (entrypoint !== undefined) o.entrypoint = entrypoint.length === 1 && entrypoint[0] === '' ? [] : entrypoint;
  if (body.Env?.length) o.env = body.Env;
  if (body.WorkingDir) o.workingDir = body.WorkingDir;
  if (body.User) o.user = body.User;
  if (query.name) o.name = query.name;
  if (query.platform) o.platform = query.platform;
  if (body.Labels && Object.keys(body.Labels).length) o.labels = body.Labels;
  if (body.Tty) o.tty = true;
  const cs = h.ConsoleSize;
  if (body.Tty && cs && cs[0]! > 0 && cs[1]! > 0) o.consoleSize = { rows: cs[0]!, cols: cs[1]! };
  if (body.OpenStdin) o.openStdin = true;
  if (body.OpenStdin && body.StdinOnce) o.stdinOnce = true;
  if (body.Hostname) o.hostname = body.Hostname;
  if (body.Domainname) o.domainname = body.Domainname;
  if (body.Healthcheck) o.healthcheck = body.Healthcheck;

  // Mounts: -v specs, --mount, and `-v /path` (which the CLI sends as Config.Volumes).
  const binds = h.Binds ?? [];
  if (binds.length) o.volumes = [...binds];
  const mounts: MountOption[] = [];
  for (const m of h.Mounts ?? []) {
    if (!m.Target) throw invalidArgument('a mount needs a Target');
    refuseMountOptions(m);
    const type = (m.Type ?? 'volume').toLowerCase();
    if (type === 'bind' || type === 'volume') mounts.push({ type, target: m.Target, readOnly: m.ReadOnly ?? false, ...(m.Source ? { source: m.Source } : {}) });
    else if (type === 'tmpfs') {
      const t = m.TmpfsOptions ?? {};
      if (t.Options?.length) throw invalidArgument(`tmpfs-options (Mounts[].TmpfsOptions.Options) is not supported by skiff: give them as --tmpfs ${m.Target}:OPTIONS`);
      const options = [...(t.SizeBytes ? [`size=${t.SizeBytes}`] : []), ...(t.Mode ? [`mode=${t.Mode.toString(8)}`] : [])];
      mounts.push({ type: 'tmpfs', target: m.Target, ...(options.length ? { options } : {}) });
    }
    else throw unsupported(`mounts of type "${m.Type}" are not supported; use bind, volume or tmpfs`);
  }
  const taken = new Set([...binds.map((b) => b.split(':')[1] ?? b), ...mounts.map((m) => m.target)]);
  for (const target of Object.keys(body.Volumes ?? {})) {
    if (!taken.has(target)) mounts.push({ type: 'volume', target });
  }
  if (mounts.length) o.mounts = mounts;
  // `--tmpfs /run:size=64m` arrives as {"/run": "size=64m"}.
  const tmpfs = Object.entries(h.Tmpfs ?? {}).map(([path, opts]) => (opts ? `${path}:${opts}` : path));
  if (tmpfs.length) o.tmpfs = tmpfs;

  if (h.ReadonlyRootfs) o.readOnly = true;
  // null (the CLI without --init): the daemon's default.
  if (typeof h.Init === 'boolean') o.init = h.Init;
  if (h.Memory && h.Memory > 0) o.memory = h.Memory;
  if (h.MemorySwap) o.memorySwap = h.MemorySwap;
  if (h.MemoryReservation) o.memoryReservation = h.MemoryReservation;
  if (h.NanoCpus && h.NanoCpus > 0) o.cpus = h.NanoCpus / 1e9;
  // Kept as given (not as --cpus), so inspect shows them and docker update may change them.
  if (h.CpuQuota) o.cpuQuota = h.CpuQuota;
  if (h.CpuPeriod) o.cpuPeriod = h.CpuPeriod;
  if (h.CpuShares) o.cpuShares = h.CpuShares;
  if (h.CpusetCpus) o.cpusetCpus = h.CpusetCpus;
  if (h.PidsLimit && h.PidsLimit > 0) o.pidsLimit = h.PidsLimit;
  if (h.Privileged) o.privileged = true;
  if (h.CapAdd?.length) o.capAdd = h.CapAdd;
  if (h.CapDrop?.length) o.capDrop = h.CapDrop;
  if (h.SecurityOpt?.length) o.securityOpt = h.SecurityOpt;
  if (h.MaskedPaths?.length === 0 && h.ReadonlyPaths?.length === 0) o.securityOpt = [...(o.securityOpt ?? []), 'systempaths=unconfined'];
  if (h.AutoRemove) o.autoRemove = true;
  if (h.Runtime && !DOCKER_RUNTIMES.has(h.Runtime)) o.backend = h.Runtime;

  const networkMode = h.NetworkMode || 'default';
  o.network = parseNetworkMode(networkMode);
  // docker run --network-alias, docker compose's service names.
  const endpoints = body.NetworkingConfig?.EndpointsConfig ?? {};
  const extraNetworks = Object.keys(endpoints).filter((n) => n !== networkMode);
  if (extraNetworks.length) throw unsupported(`a container is created on one network; connect it to ${extraNetworks.join(', ')} with docker network connect before it starts`);
  const aliases = endpoints[networkMode]?.Aliases ?? [];
  if (aliases.length) o.networkAliases = aliases;
  if (h.ExtraHosts?.length) o.extraHosts = h.ExtraHosts;

  const portBindings: Record<string, PortBinding[]> = {};
  for (const [port, list] of Object.entries(h.PortBindings ?? {})) {
    if (!list?.length) continue;
    portBindings[port] = list.map((b) => ({ HostIp: b.HostIp ?? '', HostPort: b.HostPort ?? '' }));
  }
  if (o.network !== 'host') {
    // On the host network a port is the host's own; elsewhere the backend publishes it.
    const ports = Object.entries(portBindings).flatMap(([key, list]) => list.map((b) => portSpec(key, b)));
    if (h.PublishAllPorts) {
      for (const key of Object.keys(body.ExposedPorts ?? {})) if (!portBindings[key]) ports.push(portSpec(key, { HostIp: '', HostPort: '' }));
      o.publishAll = true;
    }
    if (ports.length) o.ports = ports;
  }
  const restart = h.RestartPolicy?.Name ?? '';
  if (restart !== '' && restart !== 'no') o.restartPolicy = { name: restart as RestartPolicy['name'], ...(h.RestartPolicy?.MaximumRetryCount ? { maximumRetryCount: h.RestartPolicy.MaximumRetryCount } : {}) };
  if (h.Devices?.length) throw unsupported('devices (--device) are not supported');
  if (body.StopSignal) o.stopSignal = body.StopSignal;
  if (typeof body.StopTimeout === 'number') o.stopTimeout = body.StopTimeout;
  const ulimits = (h.Ulimits ?? []).map((u) => ({ name: u.Name ?? '', soft: u.Soft ?? 0, hard: u.Hard ?? 0 }));
  if (ulimits.length) o.ulimits = ulimits;
  if (h.ShmSize) o.shmSize = h.ShmSize;
  if (h.PidMode) o.pidMode = h.PidMode;
  if (h.IpcMode) o.ipcMode = h.IpcMode;
  if (h.UTSMode) o.utsMode = h.UTSMode;
  if (h.CgroupnsMode) o.cgroupnsMode = h.CgroupnsMode;
  if (h.GroupAdd?.length) o.groupAdd = h.GroupAdd;
  if (h.Dns?.length) o.dns = h.Dns;
  if (h.DnsSearch?.length) o.dnsSearch = h.DnsSearch;
  if (h.DnsOptions?.length) o.dnsOptions = h.DnsOptions;
  if (h.Sysctls && Object.keys(h.Sysctls).length) o.sysctls = h.Sysctls;
  if (h.OomScoreAdj) o.oomScoreAdj = h.OomScoreAdj;
  if (body.NetworkDisabled && o.network !== 'none') throw invalidArgument('NetworkDisabled is not supported by skiff with a network mode: use --network none');
  const log = h.LogConfig;
  if (log && (log.Type || Object.keys(log.Config ?? {}).length)) o.logConfig = { type: log.Type ?? '', config: log.Config ?? {} };

  const extras: ContainerExtras = {
    networkMode,
    exposedPorts: body.ExposedPorts ?? {},
    portBindings,
    attachStdin: body.AttachStdin ?? false,
    attachStdout: body.AttachStdout ?? true,
    attachStderr: body.AttachStderr ?? true,
    stdinOnce: body.StdinOnce ?? false,
    domainname: body.Domainname ?? '',
  };
  return { options: o, extras };
}
