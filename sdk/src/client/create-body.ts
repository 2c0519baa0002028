/**
 * The Engine's CreateOptions as a Docker `POST /containers/create` body, the
 * way the docker CLI writes it (`-v /path` becomes Config.Volumes, limits go
 * into HostConfig). Options the API has no field for are refused.
 */
import { unsupported } from '../errors/index.js';
import { envList, parseSize, parseVolumeSpec, type CreateOptions } from '../runtime/options.js';
import { portKey, resolvePorts } from '../runtime/ports.js';
import { parseRestartPolicy } from '../runtime/restart.js';
import { parseSysctls, parseUlimit } from '../runtime/process-settings.js';

export interface CreateRequest {
  query: { name?: string; platform?: string };
  body: Record<string, unknown>;
}

export function toCreateBody(o: CreateOptions): CreateRequest {
  if (o.timeoutMs !== undefined) throw unsupported('timeoutMs has no Docker API field: stop the container yourself (stop with a timeout) when it runs too long');
  if (o.deterministic) throw unsupported('deterministic runs (a fixed clock and seeded random) are not part of the Docker API');
  const hostConfig: Record<string, unknown> = {};
  const body: Record<string, unknown> = { Image: o.image, AttachStdout: true, AttachStderr: true };
  if (o.cmd !== undefined) body.Cmd = o.cmd;
  if (o.entrypoint !== undefined) body.Entrypoint = typeof o.entrypoint === 'string' ? (o.entrypoint === '' ? [] : [o.entrypoint]) : o.entrypoint;
  const env = envList(o.env);
  if (env.length) body.Env = env;
  if (o.workingDir) body.WorkingDir = o.workingDir;
  if (o.user) body.User = o.user;
  if (o.hostname) body.Hostname = o.hostname;
  if (o.domainname) body.Domainname = o.domainname;
  if (o.labels) body.Labels = o.labels;
  if (o.tty) body.Tty = true;
  if (o.healthcheck) body.Healthcheck = o.healthcheck;
  if (o.openStdin) Object.assign(body, { OpenStdin: true, StdinOnce: true, AttachStdin: true });
  const binds: string[] = [];
  const anonymous: Record<string, object> = {};
  for (const spec of o.volumes ?? []) {
    const m = parseVolumeSpec(spec);
    if (m.source === undefined) anonymous[m.target] = {};
    else binds.push(spec);
  }
  if (binds.length) hostConfig.Binds = binds;
  if (Object.keys(anonymous).length) body.Volumes = anonymous;
  // A tmpfs with options travels as --tmpfs PATH:OPTIONS does: the Mounts field has no place for them.
  const withOptions = (o.mounts ?? []).filter((m) => m.type === 'tmpfs' && m.options?.length);
  const mounts = (o.mounts ?? []).filter((m) => !withOptions.includes(m));
  const tmpfsSpecs = [...(o.tmpfs ?? []), ...withOptions.map((m) => `${m.target}:${m.options!.join(',')}`)];
  if (mounts.length) hostConfig.Mounts = mounts.map((m) => ({ Type: m.type, Target: m.target, ...(m.source ? { Source: m.source } : {}), ...(m.readOnly ? { ReadOnly: true } : {}) }));
  if (tmpfsSpecs.length) {
    const t: Record<string, string> = {};
    for (const spec of tmpfsSpecs) {
      const i = spec.indexOf(':');
      t[i < 0 ? spec : spec.slice(0, i)] = i < 0 ? '' : spec.slice(i + 1);
    }
    hostConfig.Tmpfs = t;
  }
  if (o.readOnly) hostConfig.ReadonlyRootfs = true;
  if (o.memory !== undefined) hostConfig.Memory = parseSize(o.memory, 'memory limit');
  if (o.memorySwap !== undefined) hostConfig.MemorySwap = o.memorySwap === -1 || o.memorySwap === '-1' ? -1 : parseSize(o.memorySwap, 'memory+swap limit');
  if (o.memoryReservation !== undefined) hostConfig.MemoryReservation = parseSize(o.memoryReservation, 'memory reservation');
  if (o.cpus !== undefined) hostConfig.NanoCpus = Math.round(o.cpus * 1e9);
  if (o.cpuShares !== undefined) hostConfig.CpuShares = o.cpuShares;
  if (o.cpuQuota !== undefined) hostConfig.CpuQuota = o.cpuQuota;
  if (o.cpuPeriod !== undefined) hostConfig.CpuPeriod = o.cpuPeriod;
  if (o.cpusetCpus !== undefined) hostConfig.CpusetCpus = o.cpusetCpus;
  if (o.pidsLimit !== undefined) hostConfig.PidsLimit = o.pidsLimit;
  if (o.network) hostConfig.NetworkMode = o.network;
  if (o.extraHosts?.length) hostConfig.ExtraHosts = o.extraHosts;
  if (o.networkAliases?.length && o.network) body.NetworkingConfig = { EndpointsConfig: { [o.network]: { Aliases: o.networkAliases } } };
  const ports = resolvePorts(o);
  if (ports.length) {
    const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
    for (const p of ports) (bindings[portKey(p)] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort ? String(p.hostPort) : '' });
    hostConfig.PortBindings = bindings;
    body.ExposedPorts = Object.fromEntries(Object.keys(bindings).map((k) => [k, {}]));
  }
  if (o.publishAll) hostConfig.PublishAllPorts = true;
  if (o.privileged) hostConfig.Privileged = true;
  if (o.capAdd?.length) hostConfig.CapAdd = o.capAdd;
  if (o.capDrop?.length) hostConfig.CapDrop = o.capDrop;
  if (o.securityOpt?.length) {
    // As docker's CLI: systempaths=unconfined travels as empty MaskedPaths and ReadonlyPaths.
    const rest = o.securityOpt.filter((v) => v !== 'systempaths=unconfined');
    hostConfig.SecurityOpt = rest;
    if (rest.length < o.securityOpt.length) Object.assign(hostConfig, { MaskedPaths: [], ReadonlyPaths: [] });
  }
  if (o.autoRemove) hostConfig.AutoRemove = true;
  if (o.restartPolicy !== undefined) {
    const p = typeof o.restartPolicy === 'string' ? parseRestartPolicy(o.restartPolicy) : o.restartPolicy;
    hostConfig.RestartPolicy = { Name: p.name, MaximumRetryCount: p.maximumRetryCount ?? 0 };
  }
  if (o.logConfig) hostConfig.LogConfig = { Type: o.logConfig.type ?? '', Config: o.logConfig.config ?? {} };
  if (o.stopSignal !== undefined) body.StopSignal = o.stopSignal;
  if (o.stopTimeout !== undefined) body.StopTimeout = o.stopTimeout;
  if (o.ulimits?.length) hostConfig.Ulimits = o.ulimits.map(parseUlimit).map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }));
  if (o.shmSize !== undefined) hostConfig.ShmSize = parseSize(o.shmSize, 'shm size');
  if (o.pidMode) hostConfig.PidMode = o.pidMode;
  if (o.ipcMode) hostConfig.IpcMode = o.ipcMode;
  if (o.utsMode) hostConfig.UTSMode = o.utsMode;
  if (o.cgroupnsMode) hostConfig.CgroupnsMode = o.cgroupnsMode;
  if (o.groupAdd?.length) hostConfig.GroupAdd = o.groupAdd;
  if (o.dns?.length) hostConfig.Dns = o.dns;
  if (o.dnsSearch?.length) hostConfig.DnsSearch = o.dnsSearch;
  if (o.dnsOptions?.length) hostConfig.DnsOptions = o.dnsOptions;
  if (o.sysctls && Object.keys(o.sysctls).length) hostConfig.Sysctls = parseSysctls(o.sysctls, { ...(o.network !== undefined ? { network: o.network } : {}), ...(o.ipcMode !== undefined ? { ipcMode: o.ipcMode } : {}) });
  if (o.oomScoreAdj !== undefined) hostConfig.OomScoreAdj = o.oomScoreAdj;
  // skiff's daemon picks a backend by runtime name (docker run --runtime).
  if (o.backend) hostConfig.Runtime = o.backend;
  body.HostConfig = hostConfig;
  const query: CreateRequest['query'] = {};
  if (o.name) query.name = o.name;
  if (o.platform) query.platform = o.platform;
  return { query, body };
}
