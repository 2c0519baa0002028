/**
 * Containers in the Docker API's shapes: `GET /containers/{id}/json` (inspect)
 * and the rows of `GET /containers/json`. Built from the Engine's record, the
 * image's config and the Docker-only extras.
 */
import { runningSuffix, type ContainerRecord, type MountRecord } from '../runtime/records.js';
import type { ImageConfig } from '../image/types.js';
import type { VolumeStore } from '../volumes/types.js';
import type { ContainerExtras } from './container-extras.js';
import { portKey } from '../runtime/ports.js';
import type { NetworkAttachment } from '../runtime/networks.js';
import { networkId } from './routes/networks.js';
import { DEFAULT_SHM_SIZE } from '../runtime/process-settings.js';

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** docker's units.HumanDuration: "Less than a second", "5 minutes", "About an hour". */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(ms / 3_600_000);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

/** The STATUS column of `docker ps`. */
export function statusText(r: ContainerRecord, now = Date.now()): string {
  const s = r.state;
  if (s.status === 'running') return `Up ${humanDuration(now - Date.parse(s.startedAt ?? r.created))}${runningSuffix(s)}`;
  if (s.status === 'exited') return `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt ?? r.created))} ago`;
  if (s.status === 'removing') return 'Removal In Progress';
  return 'Created';
}

/** State.Health as dockerd shows it: the status and the last results. */
function healthJson(r: ContainerRecord) {
  const h = r.state.status === 'running' ? r.state.health : undefined;
  return {
    Status: h?.status ?? (r.state.status === 'running' ? 'starting' : 'unhealthy'),
    FailingStreak: h?.failingStreak ?? 0,
    Log: (h?.log ?? []).map((l) => ({ Start: l.start, End: l.end, ExitCode: l.exitCode, Output: l.output })),
  };
}

/** Which network a container is on, as the API names it. */
function networkName(r: ContainerRecord): string {
  return r.network === 'host' ? 'host' : r.network.startsWith('container:') ? r.network : 'none';
}

/** Networks: the user-defined ones the container is on, else its mode as a predefined network. */
function networksJson(r: ContainerRecord): Record<string, ReturnType<typeof endpoint>> {
  if (r.networks?.length) return Object.fromEntries(r.networks.map((a) => [a.name, endpoint(a.name, a)]));
  const net = networkName(r);
  return { [net]: endpoint(net) };
}

function endpoint(name: string, a?: NetworkAttachment) {
  const gateway = a ? a.ip.split('.').slice(0, 3).join('.') + '.1' : '';
  return {
    IPAMConfig: null, Links: null, Aliases: a?.aliases.length ? a.aliases : null, MacAddress: '', DriverOpts: null,
    NetworkID: a ? a.id : networkId(name), EndpointID: '', Gateway: gateway, IPAddress: a?.ip ?? '', IPPrefixLen: a ? 24 : 0,
    IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}

/**
 * Published ports as docker shows them: on the host network a container's
 * port is the host's own, so each exposed port maps to itself; elsewhere a
 * running container's published ports carry the host port actually bound,
 * and other ports are unpublished (null).
 */
export function portMap(r: ContainerRecord, x: ContainerExtras): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  const keys = new Set([...Object.keys(x.exposedPorts), ...Object.keys(x.portBindings), ...(r.ports ?? []).map(portKey)]);
  const running = r.state.status === 'running';
  for (const k of keys) {
    const port = k.split('/')[0]!;
    if (r.network === 'host') out[k] = [{ HostIp: '0.0.0.0', HostPort: port }];
    else {
      const bound = running ? (r.state.ports ?? []).filter((p) => portKey(p) === k) : [];
      out[k] = bound.length ? bound.map((p) => ({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) })) : null;
    }
  }
  return out;
}

async function mountJson(m: MountRecord, volumes: VolumeStore) {
  if (m.type === 'bind') return { Type: 'bind', Source: m.source, Destination: m.target, Mode: m.readOnly ? 'ro' : '', RW: !m.readOnly, Propagation: 'rprivate' };
  if (m.type === 'tmpfs') return { Type: 'tmpfs', Source: '', Destination: m.target, Mode: '', RW: true, Propagation: '' };
  const mountpoint = await volumes.inspect(m.source).then((v) => v.mountpoint, () => '');
  return { Type: 'volume', Name: m.source, Source: mountpoint, Destination: m.target, Driver: 'local', Mode: m.readOnly ? 'ro' : 'z', RW: !m.readOnly, Propagation: '' };
}

/** Entrypoint and Cmd as docker shows them: split the way they were given. */
function entrypointAndCmd(r: ContainerRecord, image: ImageConfig | undefined): { Entrypoint: string[] | null; Cmd: string[] | null } {
  const nonEmpty = (a: string[] | null | undefined) => (a && a.length ? a : null);
  if (r.entrypoint !== undefined) return { Entrypoint: nonEmpty(r.entrypoint), Cmd: nonEmpty(r.cmd) };
  if (!image) return { Entrypoint: null, Cmd: [r.path, ...r.args] };
  return { Entrypoint: nonEmpty(image.config?.Entrypoint), Cmd: nonEmpty(r.cmd) ?? nonEmpty(image.config?.Cmd) };
}

function binds(r: ContainerRecord): string[] | null {
  const out = r.mounts
    .filter((m) => m.type === 'bind' || (m.type === 'volume' && !r.anonymousVolumes.includes(m.source)))
    .map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
  return out.length ? out : null;
}

/** HostConfig's rlimits, /dev/shm, namespace modes, groups and DNS, with dockerd's defaults where unset. */
function processSettingsJson(r: ContainerRecord, os: string) {
  return {
    Ulimits: (r.ulimits ?? []).map((u) => ({ Name: u.name, Hard: u.hard, Soft: u.soft })),
    ShmSize: r.shmSizeBytes ?? (os === 'linux' ? DEFAULT_SHM_SIZE : 0),
    PidMode: r.pidMode ?? '',
    IpcMode: r.ipcMode ?? (os === 'linux' ? 'private' : ''),
    UTSMode: r.utsMode ?? '',
    CgroupnsMode: r.cgroupnsMode ?? (os === 'linux' ? 'private' : ''),
    GroupAdd: r.groupAdd ?? null,
    Dns: r.dns ?? [],
    DnsSearch: r.dnsSearch ?? [],
    DnsOptions: r.dnsOptions ?? [],
    ...(r.sysctls ? { Sysctls: r.sysctls } : {}),
    OomScoreAdj: r.oomScoreAdj ?? 0,
    OomKillDisable: false,
    MemorySwappiness: null,
  };
}

export interface InspectInput {
  record: ContainerRecord;
  extras: ContainerExtras;
  image?: ImageConfig;
  volumes: VolumeStore;
  /** OS of the container's platform (`linux`, `wasip1`). */
  os: string;
  execIds: string[];
  /** The json-file log on disk, or '' (Engine.logPath). */
  logPath: string;
}

export async function containerInspect(i: InspectInput): Promise<Record<string, unknown>> {
  const { record: r, extras: x } = i;
  const s = r.state;
  const net = networkName(r);
  const { Entrypoint, Cmd } = entrypointAndCmd(r, i.image);
  const tmpfs: Record<string, string> = {};
  for (const m of r.mounts) if (m.type === 'tmpfs') tmpfs[m.target] = (m.options ?? []).join(',');
  return {
    Id: r.id,
    Created: r.created,
    Path: r.path,
    Args: r.args,
    State: {
      Status: s.paused && s.status === 'running' ? 'paused' : s.status,
      Running: s.status === 'running',
      Paused: s.status === 'running' && !!s.paused,
      Restarting: false,
      OOMKilled: s.oomKilled,
      Dead: false,
      Pid: s.status === 'running' ? (s.pid ?? 0) : 0,
      ExitCode: s.exitCode,
      Error: s.error ?? '',
      StartedAt: s.startedAt ?? ZERO_TIME,
      FinishedAt: s.finishedAt ?? ZERO_TIME,
      ...(r.healthcheck ? { Health: healthJson(r) } : {}),
    },
    Image: r.imageId,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: i.logPath,
    Name: `/${r.name}`,
    RestartCount: r.restartCount ?? 0,
    Driver: r.backend,
    Platform: i.os,
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: i.execIds.length ? i.execIds : null,
    HostConfig: {
      Binds: binds(r),
      ContainerIDFile: '',
      LogConfig: { Type: r.logConfig?.type ?? 'json-file', Config: r.logConfig?.config ?? {} },
      NetworkMode: x.networkMode,
      PortBindings: x.portBindings,
      RestartPolicy: { Name: r.restartPolicy?.name ?? 'no', MaximumRetryCount: r.restartPolicy?.maximumRetryCount ?? 0 },
      AutoRemove: r.autoRemove,
      VolumeDriver: '',
      VolumesFrom: null,
      CapAdd: r.capAdd.length ? r.capAdd : null,
      CapDrop: r.capDrop.length ? r.capDrop : null,
      Privileged: r.privileged,
      // systempaths=unconfined shows as docker's CLI sent it: empty MaskedPaths and ReadonlyPaths.
      SecurityOpt: r.securityOpt?.length ? r.securityOpt.filter((v) => v !== 'systempaths=unconfined') : null,
      ...(r.securityOpt?.includes('systempaths=unconfined') ? { MaskedPaths: [], ReadonlyPaths: [] } : {}),
      ReadonlyRootfs: r.readOnlyRootfs,
      Memory: r.resources.memoryBytes ?? 0,
      // Memory plus swap: without a limit of its own, swap follows memory (none on top).
      MemorySwap: r.resources.memorySwapBytes ?? r.resources.memoryBytes ?? 0,
      MemoryReservation: r.resources.memoryReservationBytes ?? 0,
      NanoCpus: r.resources.cpus !== undefined ? Math.round(r.resources.cpus * 1e9) : 0,
      CpuShares: r.resources.cpuShares ?? 0,
      CpuPeriod: r.resources.cpuPeriodUs ?? 0,
      CpuQuota: r.resources.cpuQuotaUs ?? 0,
      CpusetCpus: r.resources.cpusetCpus ?? '',
      BlkioWeight: 0,
      PidsLimit: r.resources.pidsLimit ?? null,
      Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
      Runtime: r.backend,
      Init: r.init ?? null,
      ...processSettingsJson(r, i.os),
    },
    GraphDriver: { Name: r.backend, Data: null },
    Mounts: await Promise.all(r.mounts.map((m) => mountJson(m, i.volumes))),
    Config: {
      Hostname: r.hostname ?? r.id.slice(0, 12),
      Domainname: r.domainname ?? x.domainname,
      User: r.user,
      AttachStdin: x.attachStdin,
      AttachStdout: x.attachStdout,
      AttachStderr: x.attachStderr,
      ...(Object.keys(x.exposedPorts).length ? { ExposedPorts: x.exposedPorts } : {}),
      Tty: r.tty,
      OpenStdin: r.openStdin,
      StdinOnce: x.stdinOnce,
      Env: r.env,
      Cmd,
      Image: r.image,
      Volumes: i.image?.config?.Volumes ?? null,
      // The record resolves no working directory to `/`; dockerd shows it empty (as runtime/commit.ts keeps it).
      WorkingDir: r.workingDir === '/' && !i.image?.config?.WorkingDir ? '' : r.workingDir,
      Entrypoint,
      OnBuild: null,
      Labels: r.labels,
      ...(r.healthcheck ? { Healthcheck: r.healthcheck } : {}),
      ...(r.stopSignal ?? i.image?.config?.StopSignal ? { StopSignal: r.stopSignal ?? i.image?.config?.StopSignal } : {}),
      ...(r.stopTimeout !== undefined ? { StopTimeout: r.stopTimeout } : {}),
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: portMap(r, x),
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: '',
      Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      MacAddress: '',
      Networks: networksJson(r),
    },
  };
}

/** One row of `GET /containers/json`. */
export async function containerSummary(r: ContainerRecord, x: ContainerExtras, volumes: VolumeStore): Promise<Record<string, unknown>> {
  const net = networkName(r);
  const ports: Array<Record<string, unknown>> = [];
  for (const [k, v] of Object.entries(portMap(r, x))) {
    const [port, type] = k.split('/') as [string, string?];
    if (!v) ports.push({ PrivatePort: Number(port), Type: type ?? 'tcp' });
    else for (const b of v) ports.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type ?? 'tcp' });
  }
  return {
    Id: r.id,
    Names: [`/${r.name}`],
    Image: r.image,
    ImageID: r.imageId,
    // As dockerd writes it: arguments with a space in single quotes.
    Command: [r.path, ...r.args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' '),
    Created: Math.floor(Date.parse(r.created) / 1000),
    Ports: ports,
    Labels: r.labels,
    State: r.state.status === 'running' && r.state.paused ? 'paused' : r.state.status,
    Status: statusText(r),
    HostConfig: { NetworkMode: x.networkMode },
    NetworkSettings: { Networks: networksJson(r) },
    Mounts: await Promise.all(r.mounts.map((m) => mountJson(m, volumes))),
  };
}
