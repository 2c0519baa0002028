/** System: `/_ping`, `/version`, `/info`, `/events`, `/system/df`. */
import { cpus, hostname, release, totalmem } from 'node:os';
import type { Router } from '../router.js';
import type { DaemonContext } from '../context.js';
import { API_VERSION, DAEMON_VERSION, MIN_API_VERSION, pingHeaders } from '../api-version.js';
import { eventMatches } from '../events.js';
import { parseFilters } from '../filters.js';
import { containerSizes } from '../container-files.js';
import { invalidArgument } from '../../errors/index.js';
import type { ImageStore, ImageSummary } from '../../image/store.js';
import type { Descriptor } from '../../image/types.js';

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
const UNAME_ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i686', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function systemRoutes(r: Router<DaemonContext>): void {
  r.add(['GET', 'HEAD'], '/_ping', async (x) => {
    x.send(200, 'OK', { ...pingHeaders(), 'Content-Type': 'text/plain; charset=utf-8' });
  });

  r.add('GET', '/version', async (x) => {
    const details = {
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      Os: 'linux',
      Arch: GO_ARCH[process.arch] ?? process.arch,
      KernelVersion: release(),
      GitCommit: '',
      GoVersion: `node ${process.version}`,
      BuildTime: '',
      Experimental: 'false',
    };
    x.sendJson(200, {
      Platform: { Name: 'skiff' },
      Components: [{ Name: 'Engine', Version: DAEMON_VERSION, Details: details }],
      Version: DAEMON_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: `node ${process.version}`,
      Os: 'linux',
      Arch: details.Arch,
      KernelVersion: details.KernelVersion,
      BuildTime: '',
    });
  });

  r.add('GET', '/info', async (x, ctx) => {
    const engine = ctx.engine;
    const all = await engine.list({ all: true });
    const images = await engine.images.list();
    const paused = all.filter((c) => c.state.status === 'running' && c.state.paused).length;
    const running = all.filter((c) => c.state.status === 'running').length - paused;
    const runtimes: Record<string, { path: string }> = {};
    for (const b of engine.backends) runtimes[b.name] = { path: `skiff-${b.name}` };
    const warnings: string[] = [];
    if (engine.backends.length === 0) warnings.push('WARNING: no backend can run containers here');
    x.sendJson(200, {
      ID: ctx.info.id,
      Containers: all.length,
      ContainersRunning: running,
      ContainersPaused: paused,
      ContainersStopped: all.length - running - paused,
      Images: images.length,
      Driver: 'skiff',
      DriverStatus: [['Backends', engine.backends.map((b) => `${b.name} (${b.platforms.map((p) => `${p.os}/${p.architecture}`).join(', ')})`).join('; ') || 'none']],
      Plugins: { Volume: ['local'], Network: ['host', 'null'], Authorization: null, Log: ['json-file', 'local'] },
      MemoryLimit: engine.backends.some((b) => b.capabilities.memoryLimit),
      SwapLimit: engine.backends.some((b) => b.capabilities.cgroupResources),
      CpuCfsPeriod: engine.backends.some((b) => b.capabilities.cpuLimit),
      CpuCfsQuota: engine.backends.some((b) => b.capabilities.cpuLimit),
      CPUShares: engine.backends.some((b) => b.capabilities.cgroupResources),
      CPUSet: engine.backends.some((b) => b.capabilities.cgroupResources),
      PidsLimit: engine.backends.some((b) => b.capabilities.pidsLimit),
      IPv4Forwarding: false,
      BridgeNfIptables: false,
      BridgeNfIp6tables: false,
      Debug: false,
      NFd: 0,
      OomKillDisable: false,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'none',
      CgroupVersion: '2',
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: 'skiff',
      OSVersion: DAEMON_VERSION,
      OSType: 'linux',
      Architecture: UNAME_ARCH[process.arch] ?? process.arch,
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128'], Mirrors: [] },
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      DockerRootDir: ctx.info.root,
      HttpProxy: process.env.HTTP_PROXY ?? '',
      HttpsProxy: process.env.HTTPS_PROXY ?? '',
      NoProxy: process.env.NO_PROXY ?? '',
      Name: ctx.info.name || hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: DAEMON_VERSION,
      Runtimes: runtimes,
      DefaultRuntime: engine.backends[0]?.name ?? '',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      // Linux containers run under skiff's built-in seccomp profile (dockerd's "name=seccomp,profile=builtin") unless told otherwise.
      SecurityOptions: engine.backends.some((b) => b.name === 'linux') ? ['name=seccomp,profile=builtin'] : [],
      Warnings: warnings,
    });
  });

  r.add('GET', '/events', async (x, ctx) => {
    const filters = parseFilters(x.query.get('filters'), ['type', 'event', 'container', 'image', 'volume', 'network', 'label', 'scope'], ['daemon', 'node', 'plugin', 'config', 'secret', 'service']);
    const toNano = (name: string) => {
      const v = x.str(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) throw invalidArgument(`invalid ${name} "${v}": expected a unix timestamp in seconds`);
      return Math.round(n * 1e9);
    };
    const since = toNano('since');
    const until = toNano('until');
    const out = x.stream(200, { 'Content-Type': 'application/json' });
    const send = (e: object) => void out.write(JSON.stringify(e) + '\n');
    const nowNano = Date.now() * 1_000_000;
    if (since !== undefined) for (const e of ctx.events.past(since)) if ((until === undefined || e.timeNano <= until) && eventMatches(e, filters)) send(e);
    if (until !== undefined && until <= nowNano) return out.end();
    const unsubscribe = ctx.events.subscribe((e) => {
      if (eventMatches(e, filters)) send(e);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (until !== undefined) timer = setTimeout(() => { unsubscribe(); out.end(); }, (until - nowNano) / 1e6);
    x.onClose(() => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    });
  });

  r.add('GET', '/system/df', async (x, ctx) => {
    const images = await ctx.engine.images.list();
    const containers = await ctx.engine.list({ all: true });
    const volumes = await ctx.engine.volumes.list();
    const usage = await blobUsage(ctx.engine.images, images);
    const sizes = containerSizes(ctx.engine, images);
    x.sendJson(200, {
      LayersSize: usage.total,
      Images: images.map((i, n) => ({ Id: i.id, ParentId: '', RepoTags: i.names, RepoDigests: [], Created: i.created ? Math.floor(Date.parse(i.created) / 1000) : 0, Size: i.size, VirtualSize: i.size, SharedSize: usage.shared[n]!, Labels: null, Containers: containers.filter((c) => c.manifestDigest === i.target.digest || c.imageId === i.id).length })),
      Containers: await Promise.all(containers.map(async (c) => ({ Id: c.id, Names: [`/${c.name}`], Image: c.image, ImageID: c.imageId, Command: [c.path, ...c.args].join(' '), Created: Math.floor(Date.parse(c.created) / 1000), State: c.state.status, Status: c.state.status, ...(await sizes(c)) }))),
      Volumes: volumes.map((v) => ({ Name: v.name, Driver: v.driver, Mountpoint: v.mountpoint, CreatedAt: v.createdAt, Labels: v.labels, Scope: 'local', Options: {}, UsageData: { Size: -1, RefCount: containers.filter((c) => c.mounts.some((m) => m.type === 'volume' && m.source === v.name)).length } })),
      BuildCache: [],
    });
  });
}

/**
 * The bytes of all distinct blobs, and per image the bytes of its blobs that
 * other images hold too: the CLI counts an in-use image's Size - SharedSize
 * as not reclaimable (with SharedSize -1 it counts nothing in use at all).
 */
async function blobUsage(store: ImageStore, images: ImageSummary[]): Promise<{ total: number; shared: number[] }> {
  const blobsOf = await Promise.all(images.map((i) => store.reachable(i.target).catch(() => new Map<string, Descriptor>())));
  const holders = new Map<string, { size: number; count: number }>();
  for (const blobs of blobsOf) {
    for (const d of blobs.values()) {
      const h = holders.get(d.digest);
      if (h) h.count++;
      else holders.set(d.digest, { size: d.size, count: 1 });
    }
  }
  let total = 0;
  for (const h of holders.values()) total += h.size;
  const shared = blobsOf.map((blobs) => [...blobs.values()].reduce((n, d) => n + (holders.get(d.digest)!.count > 1 ? d.size : 0), 0));
  return { total, shared };
}
