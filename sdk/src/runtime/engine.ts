/**
 * The Engine: everything that is the same on every backend. It resolves images,
 * keeps container records and their state machine, volumes and logs, and drives
 * a Backend (runtime/backend.ts) for the few things that differ.
 */
import { conflict, failedPrecondition, invalidArgument, notFound, permissionDenied, unavailable, unsupported, isSkiffError, SkiffError } from '../errors/index.js';
import type { ImageLayout } from '../content/types.js';
import { concat } from '../content/util.js';
import { ImageStore, danglingName, type ResolvedImage } from '../image/store.js';
import { formatPlatform, parsePlatform, platformMatches } from '../image/platform.js';
import type { ImageConfig, ImageManifest, Platform } from '../image/types.js';
import { PARENT_ANNOTATION } from '../image/types.js';
import { NoVolumeStore, type VolumeStore } from '../volumes/types.js';
import type { Backend, BackendContainer, BackendProcess, ContainerSpec, CopyInOptions, ExitStatus, Mount, ProcessSpec, ProcessStats, Resources, TtySize } from './backend.js';
import { MemoryLogStore, filterLog, type LogEntry, type LogReadOptions, type LogStore } from './logs.js';
import { checkLogConfig, logLimits, resolveLogConfig, type LogConfig } from './log-config.js';
import { isValidContainerName, randomId, randomName } from './names.js';
import { checkExtraHosts, parseNetworkMode, type NetworkMode } from './options.js';
import { cleanContainerPath, envList, mergeEnv, parseVolumeSpec, resolveProcess, resolveResources, type CreateOptions, type MountOption } from './options.js';
import { parseSecurityOpts } from './security-opt.js';
import { OutputHub } from './output.js';
import { resolvePorts } from './ports.js';
import { MemoryNetworkStore, allocateAddress, networkNotFound, newNetwork, type NetworkAttachment, type NetworkInfo, type NetworkStore } from './networks.js';
import { monitorHealth, resolveHealthcheck } from './health.js';
import { checkRestartPolicy, nextRestartDelay, parseRestartPolicy, restartsOnEngineStart, shouldRestart } from './restart.js';
import { MemoryRecordStore, type ContainerRecord, type ContainerRecordStore, type MountRecord } from './records.js';
import { changedResources, mergeResources, updatedRestartPolicy, type UpdateOptions } from './update.js';
import { assertCan } from './state.js';
import { hostNamespaces, resolveProcessSettings, type ProcessSettings } from './process-settings.js';
import { checkTmpfsOptions, parseTmpfsSpec } from './tmpfs.js';
import { childImageConfig, commitConfig, commitReference, containerConfig, storeChanges, type CommitOptions, type CommitResult } from './commit.js';
import { importRootfs, type ImportRootfsOptions, type ImportRootfsResult } from './import-rootfs.js';

/** Somewhere to get an image that is not in the store yet (bundled samples, a registry). */
export interface ImageSource {
  readonly name: string;
  /** Puts `reference` into `layout` and returns true, or returns false when it doesn't have it. */
  provide(reference: string, platforms: Platform[], layout: ImageLayout, options?: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void }): Promise<boolean>;
}

export interface ProgressEvent {
  id?: string;
  status: string;
  current?: number;
  total?: number;
}

export interface EngineOptions {
  layout: ImageLayout;
  backends: Backend[];
  /** Backends that exist but cannot run here, with the reason (e.g. no native helper). */
  unavailableBackends?: Record<string, string>;
  volumes?: VolumeStore;
  records?: ContainerRecordStore;
  logs?: LogStore;
  imageSources?: ImageSource[];
  /** Per-backend state directories (Node). */
  stateDirFor?: (backend: string) => string;
  /** User-defined networks (`docker network create`); in memory by default. */
  networks?: NetworkStore;
  /** The host's own IPv4 addresses, which a new network's subnet must not overlap. */
  hostAddresses?: () => string[];
  /** The logging driver and options of containers created without one (`skiff daemon --log-driver/--log-opt`); default json-file, unrotated. */
  defaultLogConfig?: LogConfig;
}

export interface RunResult {
  id: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  oomKilled?: boolean;
  error?: string;
}

export interface StartOptions {
  stdin?: ReadableStream<Uint8Array> | Uint8Array | string;
}

export interface ExecOptions {
  cmd: string[];
  env?: string[] | Record<string, string>;
  workingDir?: string;
  user?: string;
  stdin?: ReadableStream<Uint8Array> | Uint8Array | string;
  /** A pseudo-terminal (docker exec -t): output comes as one stream (stdout), resize with the process's resize. */
  tty?: boolean;
  /** With tty: its first window size. */
  consoleSize?: TtySize;
}

export interface AttachOptions {
  /**
   * Input for the container's stdin (it needs openStdin; ignored otherwise, as
   * docker does). Before start it is the start's stdin; while running it is
   * one more attacher, and its end detaches it (or closes stdin with stdinOnce).
   */
  stdin?: ReadableStream<Uint8Array>;
}

export interface LogsOptions extends LogReadOptions {
  follow?: boolean;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

interface Live {
  backend: Backend;
  container?: BackendContainer;
  hub?: OutputHub;
  /** Made by an attach before start; the next start uses it. */
  pendingHub?: OutputHub;
  /** stdin from an attach before start; the next start uses it. */
  pendingStdin?: ReadableStream<Uint8Array>;
  /** The hub gets the output (this process started the run); a restored run's hub gets none. */
  hubFed?: boolean;
  /** Settles when the current run's exit is recorded and its waiters are told; unset until the run starts. */
  settled?: Promise<ExitStatus>;
  removed: Promise<void>;
  markRemoved: () => void;
  nextExit: Array<(s: ExitStatus) => void>;
  /** The restart policy's last back-off, and the restart it has scheduled. */
  restartDelayMs?: number;
  restartTimer?: ReturnType<typeof setTimeout>;
  /** Set at once by a stop or kill from the user (the record follows): no restart by policy after it. */
  userStopped?: boolean;
  /** The backend's start of the current run, until it returns: a signal waits for it (a process not yet started cannot take one). */
  starting?: Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Engine {
  readonly images: ImageStore;
  readonly volumes: VolumeStore;
  readonly backends: Backend[];
  private readonly records: ContainerRecordStore;
  private readonly logStore: LogStore;
  private readonly sources: ImageSource[];
  private readonly unavailable: Record<string, string>;
  private readonly live = new Map<string, Live>();
  private readonly recordUpdates = new Map<string, Promise<void>>();
  private readonly networkStore: NetworkStore;
  /** Network connects and disconnects, one at a time: each reads a container's networks and writes them back. */
  private networkChanges: Promise<unknown> = Promise.resolve();
  /**
   * Addresses handed out that no saved record showed yet (a create or a
   * connect in flight), as `network/ip`, with when the claim lapses.
   */
  private readonly claimedAddresses = new Map<string, number>();
  /** docker update, one at a time: each reads a container's limits and writes them back. */
  private resourceUpdates: Promise<unknown> = Promise.resolve();
  /** No restarts once the engine is closing. */
  private closing = false;
  private initialized?: Promise<void>;

  constructor(private readonly options: EngineOptions) {
    this.images = new ImageStore(options.layout);
    this.volumes = options.volumes ?? new NoVolumeStore();
    this.backends = options.backends;
    this.records = options.records ?? new MemoryRecordStore();
    this.logStore = options.logs ?? new MemoryLogStore();
    this.sources = options.imageSources ?? [];
    this.unavailable = options.unavailableBackends ?? {};
    this.networkStore = options.networks ?? new MemoryNetworkStore();
    if (options.defaultLogConfig) checkLogConfig(options.defaultLogConfig);
  }

  get layout(): ImageLayout {
    return this.options.layout;
  }

  /** Initializes the backends and finds containers left by an earlier Engine. */
  init(): Promise<void> {
    this.initialized ??= (async () => {
      for (const b of this.backends) {
        const ctx: { content: ImageLayout; stateDir?: string } = { content: this.options.layout };
        const dir = this.options.stateDirFor?.(b.name);
        if (dir) ctx.stateDir = dir;
        await b.init(ctx);
      }
      await this.recover();
    })();
    return this.initialized;
  }

  private async recover(): Promise<void> {
    for (const r of await this.records.list()) {
      if (r.state.status !== 'running') continue;
      const backend = this.backends.find((b) => b.name === r.backend);
      let restored: BackendContainer | undefined;
      if (backend?.restore) {
        try {
          restored = await backend.restore(r.id, await this.specOf(r));
        } catch {
          restored = undefined;
        }
      }
      if (restored && backend) {
        const live = this.liveOf(r.id, backend);
        live.container = restored;
        live.hub = this.hubFor(r, backend);
        this.watchExit(r.id, live);
        this.watchHealth(r, live);
      } else {
        r.state = { ...r.state, status: 'exited', exitCode: r.state.exitCode || 255, finishedAt: new Date().toISOString(), error: 'the engine that ran this container stopped; its process is gone' };
        delete r.state.pid;
        await this.records.save(r);
      }
    }
  }

  // ---- images ------------------------------------------------------------

  /** The platforms the engine can run, in order of preference. */
  get platforms(): Platform[] {
    return this.backends.flatMap((b) => b.platforms);
  }

  /** Makes sure an image is in the store, asking the image sources when it isn't. */
  async ensureImage(name: string, platforms: Platform[], options: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void } = {}): Promise<void> {
    try {
      await this.images.lookup(name);
      return;
    } catch (err) {
      if (!isSkiffError(err, 'NOT_FOUND')) throw err;
    }
    for (const s of this.sources) {
      try {
        if (await s.provide(name, platforms, this.options.layout, options)) return;
      } catch (err) {
        if (err instanceof SkiffError) throw new SkiffError(err.code, `Unable to find image '${name}' locally, and getting it from the ${s.name} failed: ${err.message}`, { cause: err });
        throw err;
      }
    }
    throw notFound(`No such image: ${name}; pull it or load it first (skiff pull / skiff load)`);
  }

  private backendByName(name: string): Backend {
    const b = this.backends.find((x) => x.name === name);
    if (b) return b;
    if (this.unavailable[name]) throw unavailable(`the ${name} backend is not available here: ${this.unavailable[name]}`);
    const names = [...this.backends.map((x) => x.name), ...Object.keys(this.unavailable)];
    throw invalidArgument(`unknown backend "${name}"; available: ${names.join(', ') || 'none'}`);
  }

  /** Picks the backend for an image: the one asked for, else the first whose platform the image has. */
  async chooseBackend(image: string, o: { backend?: string; platform?: string } = {}): Promise<{ backend: Backend; resolved: ResolvedImage }> {
    const wanted = o.platform ? [parsePlatform(o.platform)] : undefined;
    if (o.backend) {
      const backend = this.backendByName(o.backend);
      const platforms = wanted ?? backend.platforms;
      if (wanted && !wanted.some((w) => backend.platforms.some((p) => platformMatches(p, w)))) {
        throw unsupported(`the ${backend.name} backend runs ${backend.platforms.map(formatPlatform).join(', ')}, not ${o.platform}`);
      }
      await this.ensureImage(image, platforms);
      return { backend, resolved: await this.images.resolve(image, platforms) };
    }
    await this.ensureImage(image, wanted ?? this.platforms);
    const have = await this.images.platformsOf(image);
    for (const backend of this.backends) {
      const usable = backend.platforms.filter((p) => have.some((h) => platformMatches(p, h)) && (!wanted || wanted.some((w) => platformMatches(w, p))));
      if (usable.length) return { backend, resolved: await this.images.resolve(image, usable) };
    }
    const offered = have.map(formatPlatform).join(', ') || 'unknown';
    const why = Object.entries(this.unavailable).map(([n, r]) => `; the ${n} backend is unavailable: ${r}`).join('');
    throw unsupported(`no backend here runs image ${image} (platform ${offered}); backends: ${this.backends.map((b) => `${b.name} (${b.platforms.map(formatPlatform).join(', ')})`).join(', ') || 'none'}${why}`);
  }

  // ---- containers --------------------------------------------------------

  async create(o: CreateOptions): Promise<Container> {
    await this.init();
    if (!o.image) throw invalidArgument('an image is required');
    const logConfig = resolveLogConfig(o.logConfig, this.options.defaultLogConfig);
    const { backend, resolved } = await this.chooseBackend(o.image, o);
    const proc = resolveProcess(resolved.config.config, o);
    const resources = resolveResources(o);
    const settings = resolveProcessSettings(o);
    this.checkCapabilities(backend, o, resources);
    this.checkSettingCapabilities(backend, settings);
    // As dockerd: the image's STOPSIGNAL becomes the container's unless one is given.
    const imageStopSignal = resolved.config.config?.StopSignal;
    if (settings.stopSignal === undefined && imageStopSignal) settings.stopSignal = imageStopSignal;
    const all = await this.records.list();
    let name = o.name;
    if (name !== undefined) {
      if (name.startsWith('/')) name = name.slice(1);
      if (!isValidContainerName(name)) throw invalidArgument(`invalid container name "${o.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      const clash = all.find((r) => r.name === name);
      if (clash) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${clash.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    } else {
      const taken = new Set(all.map((r) => r.name));
      name = randomName((n) => taken.has(n));
    }
    const id = randomId();
    const tmpfsOptions = [...(o.tmpfs ?? []).map(parseTmpfsSpec), ...(o.mounts ?? [])].some((m) => m.type === 'tmpfs' && m.options?.length);
    if (tmpfsOptions && !backend.capabilities.tmpfsOptions) throw unsupported(`the ${backend.name} backend does not support tmpfs options (--tmpfs PATH:OPTIONS, tmpfs-size, tmpfs-mode)`);
    const { mounts, anonymous } = await this.resolveMounts(o, resolved);
    const ports = resolvePorts(o, resolved.config.config?.ExposedPorts);
    const record: ContainerRecord = {
      id,
      name,
      image: o.image,
      imageId: resolved.id,
      manifestDigest: resolved.manifestDescriptor.digest,
      backend: backend.name,
      created: new Date().toISOString(),
      path: proc.args[0]!,
      args: proc.args.slice(1),
      env: proc.env,
      workingDir: proc.workingDir,
      user: proc.user,
      tty: o.tty ?? false,
      openStdin: o.openStdin ?? false,
      ...(o.openStdin && o.stdinOnce ? { stdinOnce: true } : {}),
      ...(o.tty && o.consoleSize ? { consoleSize: o.consoleSize } : {}),
      labels: { ...(resolved.config.config?.Labels ?? {}), ...(o.labels ?? {}) },
      mounts,
      resources,
      readOnlyRootfs: o.readOnly ?? false,
      network: 'none',
      privileged: o.privileged ?? false,
      capAdd: o.capAdd ?? [],
      capDrop: o.capDrop ?? [],
      autoRemove: o.autoRemove ?? false,
      state: { status: 'created', exitCode: 0, oomKilled: false },
      anonymousVolumes: anonymous,
      ...settings,
    };
    if (o.entrypoint !== undefined) record.entrypoint = typeof o.entrypoint === 'string' ? [o.entrypoint] : o.entrypoint;
    if (o.cmd !== undefined) record.cmd = o.cmd;
    if (o.hostname !== undefined) record.hostname = o.hostname;
    if (o.init !== undefined) record.init = o.init;
    if (o.securityOpt?.length) parseSecurityOpts(o.securityOpt); // refuses bad values at create, as dockerd does
    // dockerd adds label=disable for a privileged container, and inspect shows it.
    const securityOpt = [...(o.securityOpt ?? []), ...(o.privileged ? ['label=disable'] : [])];
    if (securityOpt.length) record.securityOpt = securityOpt;
    if (o.timeoutMs !== undefined) record.timeoutMs = o.timeoutMs;
    record.logConfig = logConfig;
    if (ports.length) record.ports = ports;
    const mode = o.network ? parseNetworkMode(o.network) : 'none';
    if (mode === 'none' || mode === 'host' || mode.startsWith('container:')) record.network = await this.resolveNetworkMode(mode as NetworkMode, backend);
    else record.networks = [await this.attachment(mode, backend, name, o.networkAliases ?? [])];
    if (o.networkAliases?.length && !record.networks) throw invalidArgument('network aliases (--network-alias) need a user-defined network (--network NAME)');
    if (o.restartPolicy !== undefined) {
      const policy = typeof o.restartPolicy === 'string' ? parseRestartPolicy(o.restartPolicy) : checkRestartPolicy(o.restartPolicy);
      if (policy.name !== 'no') {
        if (o.autoRemove) throw invalidArgument('conflicting options: a restart policy and removal on exit (--restart and --rm)');
        record.restartPolicy = policy;
      }
    }
    const healthcheck = resolveHealthcheck(resolved.config.config?.Healthcheck, o.healthcheck);
    if (healthcheck) record.healthcheck = healthcheck;
    if (o.extraHosts?.length) record.extraHosts = checkExtraHosts(o.extraHosts);
    const spec = await this.specOf(record, resolved, o.deterministic);
    const live = this.liveOf(id, backend);
    live.container = await backend.create(spec);
    await this.records.save(record);
    if (record.networks) await this.refreshPeers(record);
    return new Container(this, id);
  }

  private checkCapabilities(b: Backend, o: CreateOptions, r: ContainerSpec['resources'] & object): void {
    const c = b.capabilities;
    const no = (what: string) => unsupported(`the ${b.name} backend does not support ${what}`);
    this.checkResourceCapabilities(b, Object.keys(r) as Array<keyof Resources>);
    if (o.tty && !c.tty) throw no('a terminal (-t)');
    if (o.hostname !== undefined && !c.hostname) throw no('setting the hostname');
    if (o.network && o.network !== 'none' && !c.network) throw no(`--network ${o.network}`);
    if ((o.ports?.length || o.publishAll) && o.network !== 'host' && !c.publishPorts) throw no(`published ports (-p, -P)${c.network ? '; on --network host a container\'s ports are the host\'s own' : ''}`);
    if (o.user && !c.users) throw no('running as another user (--user)');
  }

  /** Settings a backend cannot carry out are UNSUPPORTED, named by their docker flags. */
  private checkSettingCapabilities(b: Backend, s: ProcessSettings): void {
    const c = b.capabilities;
    const no = (what: string) => unsupported(`the ${b.name} backend does not support ${what}`);
    if (s.stopSignal !== undefined && !c.signals && normalizeSignal(s.stopSignal) !== 'SIGKILL') throw no(`stop signals (--stop-signal ${s.stopSignal}): it can only end a container at once (SIGKILL)`);
    if (s.stopTimeout !== undefined && !c.signals) throw no('a stop timeout (--stop-timeout): it has no signal to wait after and ends a container at once');
    if (s.ulimits && !c.rlimits) throw no('process rlimits (--ulimit)');
    if (s.shmSizeBytes !== undefined && !c.shmSize) throw no('a /dev/shm size (--shm-size)');
    if (hostNamespaces(s).length && !c.hostNamespaces) throw no(`sharing the host's namespaces (--${hostNamespaces(s).map((n) => (n === 'cgroup' ? 'cgroupns' : n)).join(', --')} host)`);
    if (s.groupAdd && !c.users) throw no('supplementary groups (--group-add)');
    if ((s.dns || s.dnsSearch || s.dnsOptions) && !c.dns) throw no('DNS settings (--dns, --dns-search, --dns-option)');
    if (s.oomScoreAdj !== undefined && !c.oomScoreAdj) throw no('an OOM score adjustment (--oom-score-adj)');
    if (s.domainname !== undefined && !c.hostname) throw no('setting the domain name (--domainname)');
    if (s.sysctls && !c.sysctls) throw no('kernel parameters (--sysctl)');
  }

  private async resolveMounts(o: CreateOptions, image: ResolvedImage): Promise<{ mounts: MountRecord[]; anonymous: string[] }> {
    const opts: MountOption[] = [...(o.volumes ?? []).map(parseVolumeSpec), ...(o.mounts ?? []), ...(o.tmpfs ?? []).map(parseTmpfsSpec)];
    // Volumes the image declares get anonymous volumes unless something else is mounted there.
    for (const target of Object.keys(image.config.config?.Volumes ?? {})) {
      if (!opts.some((m) => cleanContainerPath(m.target) === cleanContainerPath(target))) opts.push({ type: 'volume', target });
    }
    const mounts: MountRecord[] = [];
    const anonymous: string[] = [];
    const seen = new Set<string>();
    for (const m of opts) {
      if (!m.target.startsWith('/')) throw invalidArgument(`invalid mount target "${m.target}": it must be an absolute path in the container`);
      const target = cleanContainerPath(m.target);
      if (target === '/') throw invalidArgument('invalid mount target "/": cannot mount over the container root');
      if (seen.has(target)) throw invalidArgument(`duplicate mount point: ${target}`);
      seen.add(target);
      if (m.type === 'bind') {
        if (!m.source?.startsWith('/')) throw invalidArgument(`invalid bind mount source "${m.source ?? ''}": it must be an absolute host path`);
        mounts.push({ type: 'bind', source: m.source, target, readOnly: m.readOnly ?? false });
      } else if (m.type === 'volume') {
        let name = m.source;
        if (name === undefined) {
          name = (await this.volumes.create(undefined, { anonymous: true })).name;
          anonymous.push(name);
        } else {
          await this.volumes.create(name);
        }
        mounts.push({ type: 'volume', source: name, target, readOnly: m.readOnly ?? false });
      } else {
        mounts.push({ type: 'tmpfs', source: 'tmpfs', target, readOnly: false, ...(m.options?.length ? { options: checkTmpfsOptions(m.options, `the tmpfs at ${target}`) } : {}) });
      }
    }
    return { mounts, anonymous };
  }

  /** docker pause: every process of a running container stops where it is, until unpause. */
  async pause(idOrName: string): Promise<void> {
    await this.setPaused(idOrName, true);
  }

  async unpause(idOrName: string): Promise<void> {
    await this.setPaused(idOrName, false);
  }

  private async setPaused(idOrName: string, paused: boolean): Promise<void> {
    const r = await this.record(idOrName);
    if (r.state.status !== 'running') throw conflict(`container ${r.name} is not running`);
    if (Boolean(r.state.paused) === paused) throw conflict(`container ${r.name} is ${paused ? 'already paused' : 'not paused'}`);
    const { live, container } = await this.backendContainer(r);
    const verb = paused ? container.pause : container.unpause;
    if (!verb) throw unsupported(`the ${live.backend.name} backend cannot pause containers`);
    await verb.call(container);
    await this.updateRecord(r.id, (cur) => {
      if (cur.state.status !== 'running') return false;
      if (paused) cur.state.paused = true;
      else delete cur.state.paused;
      return true;
    });
  }

  /** Stop and kill act on a paused container as docker does: it is let go first, so it can take the signal. */
  private async unpauseForSignal(r: ContainerRecord): Promise<void> {
    if (r.state.status === 'running' && r.state.paused) await this.setPaused(r.id, false).catch(() => {});
  }

  /**
   * docker update: new resource limits and/or restart policy (see update.ts
   * for dockerd's rules). The backend gets the limits first: a running
   * container has them at once, a stopped one at its next start; a change the
   * backend refuses leaves the record as it was. A new restart policy applies
   * from the next exit. Resolves with the record as saved.
   */
  update(idOrName: string, o: UpdateOptions): Promise<ContainerRecord> {
    const run = this.resourceUpdates.then(async () => {
      await this.init();
      const r = await this.record(idOrName);
      const resources = o.resources ? mergeResources(r.id, r.resources, o.resources) : r.resources;
      const policy = o.restartPolicy !== undefined ? updatedRestartPolicy(r.id, r.autoRemove, o.restartPolicy) : r.restartPolicy;
      const changed = changedResources(r.resources, resources);
      if (changed.length) {
        const backend = this.backendByName(r.backend);
        this.checkResourceCapabilities(backend, changed);
        const { container } = await this.backendContainer(r);
        if (!container.updateResources) throw unsupported(`the ${backend.name} backend cannot change the resources of an existing container; create a new one`);
        await container.updateResources(resources);
      }
      const saved = await this.updateRecord(r.id, (cur) => {
        cur.resources = resources;
        if (policy) cur.restartPolicy = policy;
        else delete cur.restartPolicy;
        return true;
      });
      if (!saved) throw notFound(`No such container: ${idOrName}`);
      return saved;
    });
    this.resourceUpdates = run.catch(() => {});
    return run;
  }

  /** A limit the backend cannot set at all is UNSUPPORTED, named by its docker flag. */
  private checkResourceCapabilities(b: Backend, changed: Array<keyof Resources>): void {
    const c = b.capabilities;
    const flags: Record<string, [boolean | undefined, string]> = {
      memoryBytes: [c.memoryLimit, 'memory limits (--memory)'],
      memorySwapBytes: [c.cgroupResources, 'swap limits (--memory-swap)'],
      memoryReservationBytes: [c.cgroupResources, 'memory reservations (--memory-reservation)'],
      cpus: [c.cpuLimit, 'CPU limits (--cpus)'],
      cpuQuotaUs: [c.cgroupResources, 'CPU quotas (--cpu-quota)'],
      cpuPeriodUs: [c.cgroupResources, 'CPU periods (--cpu-period)'],
      cpuShares: [c.cgroupResources, 'CPU shares (--cpu-shares)'],
      cpusetCpus: [c.cgroupResources, 'CPU sets (--cpuset-cpus)'],
      pidsLimit: [c.pidsLimit, 'process limits (--pids-limit)'],
    };
    for (const key of changed) {
      const [can, what] = flags[key] ?? [false, key];
      if (!can) throw unsupported(`the ${b.name} backend does not support ${what}`);
    }
  }

  /** docker rename: a new name, unique among containers; peers on its networks learn it. */
  async rename(idOrName: string, newName: string): Promise<void> {
    const name = newName.startsWith('/') ? newName.slice(1) : newName;
    if (!isValidContainerName(name)) throw invalidArgument(`invalid container name "${newName}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const r = await this.record(idOrName);
    if (r.name === name) throw invalidArgument(`renaming a container with the same name as its current name: ${name}`);
    const clash = (await this.records.list()).find((c) => c.name === name);
    if (clash) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${clash.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    const renamed = await this.updateRecord(r.id, (cur) => {
      cur.name = name;
      return true;
    });
    if (renamed?.networks) await this.refreshPeers(renamed);
  }

  // ---- user-defined networks ---------------------------------------------

  async createNetwork(name: string, o: { labels?: Record<string, string>; internal?: boolean } = {}): Promise<NetworkInfo> {
    const n = newNetwork(name, await this.networkStore.list(), this.options.hostAddresses?.() ?? [], o);
    await this.networkStore.save(n);
    return n;
  }

  listNetworks(): Promise<NetworkInfo[]> {
    return this.networkStore.list();
  }

  /** A network by name or ID prefix, with the containers on it. */
  async network(nameOrId: string): Promise<{ info: NetworkInfo; containers: Array<{ record: ContainerRecord; attachment: NetworkAttachment }> }> {
    const all = await this.networkStore.list();
    const info = all.find((n) => n.name === nameOrId) ?? (nameOrId.length >= 3 ? all.find((n) => n.id.startsWith(nameOrId)) : undefined);
    if (!info) throw networkNotFound(nameOrId);
    const containers = (await this.records.list()).flatMap((record) => (record.networks ?? []).filter((a) => a.name === info.name).map((attachment) => ({ record, attachment })));
    return { info, containers };
  }

  /** Removes a network that no container is on (docker refuses while it has endpoints too). */
  async removeNetwork(nameOrId: string): Promise<void> {
    const { info, containers } = await this.network(nameOrId);
    if (containers.length) throw conflict(`error while removing network: network ${info.name} id ${info.id} has active endpoints (${containers.map((c) => c.record.name).join(', ')}); remove those containers first`);
    for (const b of this.backends) await b.removeNetwork?.(info);
    await this.networkStore.delete(info.name);
  }

  /**
   * docker network connect: a stopped container gets the network at its next
   * start; a running one gets an interface on it now, and it and its new peers
   * learn each other's names.
   */
  async connectNetwork(idOrName: string, network: string, aliases: string[] = []): Promise<void> {
    await this.changeNetworks(idOrName, async (r, backend) => {
      // As dockerd answers (libnetwork's CreateEndpoint): 403, the endpoint being named after the container.
      if ((r.networks ?? []).some((a) => a.name === network)) throw permissionDenied(`endpoint with name ${r.name} already exists in network ${network}`);
      if (r.network !== 'none') throw invalidArgument(`container sharing network namespace with another container or host cannot be connected to any other network (container ${r.name} uses network mode ${r.network.startsWith('container:') ? 'container' : r.network}); recreate it with --network ${network}`);
      return [...(r.networks ?? []), await this.attachment(network, backend, r.name, aliases)];
    });
  }

  /** docker network disconnect: a running container loses its interface on the network now, and the peers there forget it. */
  async disconnectNetwork(idOrName: string, network: string): Promise<void> {
    await this.changeNetworks(idOrName, async (r) => {
      if (!(r.networks ?? []).some((a) => a.name === network)) throw notFound(`container ${r.name} is not connected to network ${network}`);
      return (r.networks ?? []).filter((a) => a.name !== network);
    });
  }

  /**
   * The backend first, the record after (through the record queue, which the
   * exit watcher shares): a change the backend refuses leaves the record as
   * it was. Whether the container runs is the backend's to see, at the moment
   * it applies the change.
   */
  private changeNetworks(idOrName: string, change: (r: ContainerRecord, backend: Backend) => Promise<NetworkAttachment[]>): Promise<void> {
    const run = this.networkChanges.then(async () => {
      await this.init();
      const r = await this.record(idOrName);
      const { live, container } = await this.backendContainer(r);
      if (!container.setNetworks) throw unsupported(`the ${live.backend.name} backend does not support user-defined networks: container ${r.name} cannot be connected to or disconnected from one`);
      const networks = await change(r, live.backend);
      await container.setNetworks(await this.networkSpecs(networks));
      const saved = await this.updateRecord(r.id, (cur) => {
        if (networks.length) cur.networks = networks;
        else delete cur.networks;
        return true;
      });
      if (!saved) return;
      if (saved.state.status === 'running' && container.updateHosts) await container.updateHosts(await this.hostsFor(saved));
      // The peers of the networks it left, and those of the ones it joined.
      await this.refreshPeers(r);
      await this.refreshPeers(saved);
    });
    this.networkChanges = run.catch(() => {});
    return run;
  }

  /** A fresh address on a network, for a container being created or connected. */
  private async attachment(network: string, backend: Backend, name: string, aliases: string[]): Promise<NetworkAttachment> {
    if (!backend.capabilities.networks) throw unsupported(`the ${backend.name} backend does not support user-defined networks (--network ${network})`);
    const n = await this.networkStore.get(network);
    // Not NOT_FOUND: clients read a 404 from create as a missing image and try to pull it.
    if (!n) throw invalidArgument(`network ${network} not found; create it first (docker network create ${network})`);
    const inUse = new Set((await this.records.list()).flatMap((r) => (r.networks ?? []).filter((a) => a.name === network).map((a) => a.ip)));
    // Two creates (compose starts services side by side) must not get one address:
    // a claim holds it until a record shows it, or lapses if that create failed.
    const now = Date.now();
    for (const [key, until] of this.claimedAddresses) {
      const [net, ip] = key.split('/') as [string, string];
      if (until < now || (net === network && inUse.has(ip))) this.claimedAddresses.delete(key);
      else if (net === network) inUse.add(ip);
    }
    const ip = allocateAddress(n, [...inUse]);
    this.claimedAddresses.set(`${network}/${ip}`, now + 10 * 60_000);
    return { name: network, id: n.id, ip, aliases: [...new Set(aliases)] };
  }

  /** What the backend needs of a container's networks: the bridge and the address on each. */
  private async networkSpecs(attachments: NetworkAttachment[]): Promise<NonNullable<ContainerSpec['networks']>> {
    const out: NonNullable<ContainerSpec['networks']> = [];
    for (const a of attachments) {
      const n = await this.networkStore.get(a.name);
      if (n) out.push({ name: n.name, bridge: n.bridge, ip: a.ip, prefixLength: 24, gateway: n.gateway });
    }
    return out;
  }

  /** The /etc/hosts entries a container on user networks gets: every other container there, by name, short ID and aliases. */
  private async hostsFor(r: ContainerRecord, all?: ContainerRecord[]): Promise<string[]> {
    const mine = new Set((r.networks ?? []).map((a) => a.name));
    const out: string[] = [];
    for (const other of all ?? (await this.records.list())) {
      if (other.id === r.id) continue;
      for (const a of other.networks ?? []) {
        if (!mine.has(a.name)) continue;
        for (const alias of [other.name, other.id.slice(0, 12), ...a.aliases]) out.push(`${alias}:${a.ip}`);
      }
    }
    return out;
  }

  /** Tells running containers that share a network with `r` about the current set of peers. */
  private async refreshPeers(r: ContainerRecord): Promise<void> {
    const nets = new Set((r.networks ?? []).map((a) => a.name));
    const all = await this.records.list();
    for (const peer of all) {
      if (peer.id === r.id || peer.state.status !== 'running' || !(peer.networks ?? []).some((a) => nets.has(a.name))) continue;
      // A CLI's Engine did not start the peer: it restores it to reach its files.
      const container = this.live.get(peer.id)?.container ?? (await this.backendContainer(peer).catch(() => undefined))?.container;
      await container?.updateHosts?.(await this.hostsFor(peer, all)).catch(() => {});
    }
  }

  /** `container:NAME` becomes `container:<id>` of a running container on the same backend. */
  private async resolveNetworkMode(mode: NetworkMode, backend: Backend): Promise<NetworkMode> {
    if (!mode.startsWith('container:')) return mode;
    const name = mode.slice('container:'.length);
    const target = await this.record(name).catch((err) => {
      throw isSkiffError(err, 'NOT_FOUND') ? notFound(`cannot share the network of container ${name}: no such container`, err) : err;
    });
    if (target.state.status !== 'running' || !target.state.pid) throw conflict(`cannot join the network of container ${name}: it is not running; start it first`);
    if (target.backend !== backend.name) throw invalidArgument(`cannot join the network of container ${name}: it runs on the ${target.backend} backend, this one on ${backend.name}`);
    return `container:${target.id}`;
  }

  /** Rebuilds the backend's spec from a record. */
  private async specOf(r: ContainerRecord, resolved?: ResolvedImage, deterministic?: CreateOptions['deterministic']): Promise<ContainerSpec> {
    const image = resolved ?? (await this.images.resolveDescriptor({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: r.manifestDigest, size: (await this.options.layout.info(r.manifestDigest))?.size ?? 0 }, [], undefined, r.image));
    const mounts: Mount[] = [];
    for (const m of r.mounts) {
      if (m.type === 'bind') mounts.push({ type: 'bind', source: m.source, target: m.target, readOnly: m.readOnly });
      else if (m.type === 'volume') mounts.push({ type: 'volume', volume: await this.volumes.handle(m.source), target: m.target, readOnly: m.readOnly });
      else mounts.push({ type: 'tmpfs', target: m.target, readOnly: false, ...(m.options?.length ? { options: m.options } : {}) });
    }
    const spec: ContainerSpec = {
      id: r.id,
      image: {
        id: image.id,
        config: image.config,
        layers: image.manifest.layers.map((descriptor, i) => ({ descriptor, diffId: image.config.rootfs.diff_ids[i]! })),
      },
      process: { args: [r.path, ...r.args], env: r.env, cwd: r.workingDir, tty: r.tty, ...(r.user ? { user: r.user } : {}), ...(r.tty && r.consoleSize ? { consoleSize: r.consoleSize } : {}) },
      mounts,
      resources: r.resources,
      readOnlyRootfs: r.readOnlyRootfs,
      network: r.network === 'host' ? 'host' : 'none',
      privileged: r.privileged,
      capAdd: r.capAdd,
      capDrop: r.capDrop,
    };
    if (r.network.startsWith('container:')) {
      // The PID is looked up now; the backend checks at start that it is still that container's.
      const id = r.network.slice('container:'.length);
      const target = await this.records.load(id);
      spec.joinNetworkOf = { id, pid: target?.state.status === 'running' ? (target.state.pid ?? 0) : 0 };
    }
    if (r.extraHosts?.length) spec.extraHosts = r.extraHosts;
    if (r.networks?.length) spec.networks = await this.networkSpecs(r.networks);
    if (r.hostname !== undefined) spec.hostname = r.hostname;
    if (r.init !== undefined) spec.init = r.init;
    if (r.securityOpt?.length) {
      const sec = parseSecurityOpts(r.securityOpt);
      if (sec.noNewPrivileges !== undefined) spec.noNewPrivileges = sec.noNewPrivileges;
      if (sec.seccomp !== undefined) spec.seccomp = sec.seccomp;
      if (sec.unmaskSystemPaths) spec.unmaskSystemPaths = true;
    }
    if (r.timeoutMs !== undefined) spec.timeoutMs = r.timeoutMs;
    const shared = hostNamespaces(r);
    if (shared.length) spec.hostNamespaces = shared;
    if (r.ulimits?.length) spec.ulimits = r.ulimits;
    if (r.shmSizeBytes !== undefined) spec.shmSizeBytes = r.shmSizeBytes;
    if (r.groupAdd?.length) spec.groupAdd = r.groupAdd;
    if (r.dns || r.dnsSearch || r.dnsOptions) spec.dns = { ...(r.dns ? { servers: r.dns } : {}), ...(r.dnsSearch ? { search: r.dnsSearch } : {}), ...(r.dnsOptions ? { options: r.dnsOptions } : {}) };
    if (r.oomScoreAdj !== undefined) spec.oomScoreAdj = r.oomScoreAdj;
    if (r.domainname !== undefined) spec.domainname = r.domainname;
    if (r.sysctls) spec.sysctls = r.sysctls;
    if (r.openStdin) spec.openStdin = true;
    if (r.openStdin && r.stdinOnce) spec.stdinOnce = true;
    const backend = this.backends.find((b) => b.name === r.backend);
    if (backend && this.writesLogs(backend) && r.logConfig?.type !== 'none') {
      spec.logPath = this.logStore.pathOf!(r.id);
      const limits = logLimits(r.logConfig);
      if (limits) spec.logLimits = limits;
    }
    if (r.ports?.length && r.network !== 'host') spec.ports = r.ports;
    if (deterministic) spec.deterministic = deterministic;
    return spec;
  }

  /**
   * docker's LogPath: the file holding the container's log as docker's
   * json-file lines, when the driver is json-file and the log store keeps
   * files; '' otherwise (the local and none drivers, a store in memory).
   */
  logPath(r: ContainerRecord): string {
    const driver = r.logConfig?.type || 'json-file';
    return driver === 'json-file' && this.logStore.pathOf ? this.logStore.pathOf(r.id) : '';
  }

  /** The backend appends the output to the log store's file itself; the Engine then only fans it out. */
  private writesLogs(backend: Backend): boolean {
    return !!backend.capabilities.writesLogs && !!this.logStore.pathOf && !!this.logStore.follow;
  }

  /** A run's output hub: it stores the output (rotated as the log config says) unless the backend writes the log or the driver is none. */
  private hubFor(r: ContainerRecord, backend: Backend): OutputHub {
    return new OutputHub(r.id, this.logStore, !this.writesLogs(backend) && r.logConfig?.type !== 'none', logLimits(r.logConfig));
  }

  /** Settles when the current run has ended and its exit is recorded. */
  private runEnded(live: Live): Promise<ExitStatus> {
    return live.settled ?? new Promise<ExitStatus>((res) => live.nextExit.push(res));
  }

  private liveOf(id: string, backend: Backend): Live {
    let live = this.live.get(id);
    if (!live) {
      let markRemoved = () => {};
      const removed = new Promise<void>((r) => (markRemoved = r));
      live = { backend, removed, markRemoved, nextExit: [] };
      this.live.set(id, live);
    }
    return live;
  }

  /** Finds a container by full ID, unique ID prefix or name. */
  async record(idOrName: string): Promise<ContainerRecord> {
    const key = idOrName.startsWith('/') ? idOrName.slice(1) : idOrName;
    const direct = await this.records.load(key);
    if (direct) return direct;
    const all = await this.records.list();
    const byName = all.find((r) => r.name === key);
    if (byName) return byName;
    const byPrefix = key.length > 0 && /^[a-f0-9]+$/.test(key) ? all.filter((r) => r.id.startsWith(key)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw invalidArgument(`container ID prefix "${idOrName}" is ambiguous; give more characters`);
    throw notFound(`No such container: ${idOrName}`);
  }

  container(idOrName: string): Container {
    return new Container(this, idOrName);
  }

  async list(options: { all?: boolean } = {}): Promise<ContainerRecord[]> {
    await this.init();
    const all = await this.records.list();
    const out = options.all ? all : all.filter((r) => r.state.status === 'running');
    return out.sort((a, b) => b.created.localeCompare(a.created));
  }

  private async backendContainer(r: ContainerRecord): Promise<{ live: Live; container: BackendContainer }> {
    await this.init(); // a backend restores nothing before its init (a CLI's fresh Engine)
    const backend = this.backendByName(r.backend);
    const live = this.liveOf(r.id, backend);
    if (!live.container) {
      const spec = await this.specOf(r);
      live.container = (backend.restore && (await backend.restore(r.id, spec))) || (await backend.create(spec));
    }
    return { live, container: live.container };
  }

  async start(idOrName: string, options: StartOptions = {}): Promise<void> {
    return this.startRun(idOrName, options, false);
  }

  /** A start by the user, or by the restart policy (which counts it). */
  private async startRun(idOrName: string, options: StartOptions, byPolicy: boolean): Promise<void> {
    await this.init();
    const r = await this.record(idOrName);
    assertCan(r.state.status, 'start', idOrName);
    const { live, container } = await this.backendContainer(r);
    // The peers on its networks as they are now (a peer made later is added when it is created).
    if (r.networks?.length && container.updateHosts) await container.updateHosts(await this.hostsFor(r));
    const hub = live.pendingHub ?? this.hubFor(r, live.backend);
    const stdin = options.stdin ?? live.pendingStdin;
    delete live.pendingHub;
    delete live.pendingStdin;
    delete live.settled; // a waiter from now on waits for this run, not the last one
    live.hub = hub;
    live.hubFed = true;
    const stdio = { stdout: hub.writable('stdout'), stderr: hub.writable('stderr'), ...(stdin !== undefined ? { stdin: toStream(stdin) } : {}) };
    r.state = { status: 'running', exitCode: 0, oomKilled: false, startedAt: new Date().toISOString() };
    if (byPolicy && (live.userStopped || r.stoppedByUser)) return void (await hub.close()); // the user stopped it meanwhile
    if (r.restartPolicy) {
      if (byPolicy) r.restartCount = (r.restartCount ?? 0) + 1;
      else {
        delete r.stoppedByUser;
        delete r.restartCount;
        delete live.restartDelayMs;
        live.userStopped = false;
      }
    }
    await this.records.save(r);
    try {
      const starting = container.start(stdio);
      live.starting = starting.then(() => {}, () => {});
      await starting;
    } catch (err) {
      // Like docker: a start that fails leaves an exited container (exit 127 for
      // a missing command), settles waiters, and honours --rm.
      r.state = { ...r.state, status: 'exited', exitCode: 127, error: (err as Error).message, finishedAt: new Date().toISOString() };
      await this.records.save(r);
      await hub.close();
      const status: ExitStatus = { exitCode: 127, error: (err as Error).message };
      for (const w of live.nextExit.splice(0)) w(status);
      if (r.autoRemove) await this.remove(r.id, { volumes: true }).catch(() => {});
      throw err;
    }
    if (container.pid !== undefined || container.publishedPorts?.length) {
      if (container.pid !== undefined) r.state.pid = container.pid;
      if (container.publishedPorts?.length) r.state.ports = container.publishedPorts;
      await this.records.save(r);
    }
    this.watchExit(r.id, live);
    this.watchHealth(r, live);
  }

  /**
   * Load, change, save, one at a time per container: the exit watcher and the
   * health monitor both update a running container's record. `change`
   * returns false to leave it unsaved. Resolves with the record as saved.
   */
  private updateRecord(id: string, change: (r: ContainerRecord) => boolean): Promise<ContainerRecord | undefined> {
    const run = (this.recordUpdates.get(id) ?? Promise.resolve()).then(async () => {
      const r = await this.records.load(id);
      if (r && change(r)) await this.records.save(r);
      return r;
    });
    const tail = run.then(() => {}, () => {});
    this.recordUpdates.set(id, tail);
    void tail.then(() => { if (this.recordUpdates.get(id) === tail) this.recordUpdates.delete(id); });
    return run;
  }

  /** Runs the container's health check while this run lasts (see health.ts). */
  private watchHealth(r: ContainerRecord, live: Live): void {
    const h = r.healthcheck;
    if (!h || !live.backend.capabilities.exec || !live.settled) return;
    const startedAt = r.state.startedAt;
    monitorHealth(h, {
      exec: async (argv, timeoutMs) => {
        const out = collector();
        const err = collector();
        const p = await this.execStreams(r.id, { cmd: argv }, { stdout: out.stream, stderr: err.stream });
        let timedOut = false;
        const timer = setTimeout(() => { timedOut = true; void p.kill('SIGKILL').catch(() => {}); }, timeoutMs);
        const status = await p.wait().finally(() => clearTimeout(timer));
        return timedOut ? { exitCode: -1, output: `Health check exceeded timeout (${timeoutMs / 1000}s)` } : { exitCode: status.exitCode, output: out.text() + err.text() };
      },
      save: async (health) => {
        let alive = false;
        await this.updateRecord(r.id, (cur) => {
          alive = cur.state.status === 'running' && cur.state.startedAt === startedAt;
          if (alive) cur.state.health = health;
          return alive;
        });
        return alive;
      },
    }, live.settled);
  }

  private watchExit(id: string, live: Live): void {
    const container = live.container!;
    const exited = container.wait().catch((err): ExitStatus => ({ exitCode: 255, error: (err as Error).message }));
    live.settled = exited.then(async (status) => {
      // Record the exit before readers see the end of the output, so a client
      // that removes the container right after its attach stream ends can.
      await live.hub?.flushed();
      const r = await this.updateRecord(id, (r) => {
        if (live.userStopped && r.restartPolicy) r.stoppedByUser = true;
        r.state = { status: 'exited', exitCode: status.exitCode, oomKilled: status.oomKilled ?? false, finishedAt: new Date().toISOString(), ...(r.state.startedAt ? { startedAt: r.state.startedAt } : {}), ...(status.error ? { error: status.error } : {}), ...(status.signal ? { signal: status.signal } : {}) };
        return true;
      });
      await live.hub?.close();
      const waiters = live.nextExit.splice(0);
      for (const w of waiters) w(status);
      if (r?.autoRemove) await this.remove(id, { volumes: true }).catch(() => {});
      else if (r) this.scheduleRestart(r, live, status);
      return status;
    });
  }

  /** Starts the container again after an exit when its restart policy says so (see restart.ts). */
  private scheduleRestart(r: ContainerRecord, live: Live, status: ExitStatus): void {
    if (this.closing || !shouldRestart(r.restartPolicy, { exitCode: status.exitCode, restartCount: r.restartCount ?? 0, stoppedByUser: r.stoppedByUser ?? false })) return;
    const ranMs = Date.parse(r.state.finishedAt ?? '') - Date.parse(r.state.startedAt ?? '');
    live.restartDelayMs = nextRestartDelay(live.restartDelayMs ?? 0, Number.isFinite(ranMs) ? ranMs : 0);
    live.restartTimer = setTimeout(() => {
      live.restartTimer = undefined;
      void (async () => {
        const now = await this.records.load(r.id);
        // Stopped, removed or started by someone else meanwhile: nothing to do.
        if (this.closing || !now || now.state.status !== 'exited' || now.stoppedByUser) return;
        await this.startRun(r.id, {}, true);
      })().catch(() => {});
    }, live.restartDelayMs);
    live.restartTimer.unref?.();
  }

  /** A stop or kill from the user: the restart policy leaves the container alone from now on. */
  private async markStoppedByUser(id: string): Promise<void> {
    const live = this.live.get(id);
    if (live?.restartTimer) clearTimeout(live.restartTimer);
    if (live) {
      live.restartTimer = undefined;
      live.userStopped = true;
    }
    await this.updateRecord(id, (r) => {
      if (!r.restartPolicy || r.stoppedByUser) return false;
      r.stoppedByUser = true;
      return true;
    });
  }

  /** What a daemon does when it starts: containers with `always` (or `unless-stopped`, unless the user stopped them) run again. */
  async applyRestartPolicies(): Promise<string[]> {
    await this.init();
    const started: string[] = [];
    for (const r of await this.records.list()) {
      if (r.state.status !== 'exited' || !restartsOnEngineStart(r.restartPolicy, r.stoppedByUser ?? false)) continue;
      await this.startRun(r.id, {}, true).then(() => started.push(r.id), () => {});
    }
    return started;
  }

  /** Waits like `docker wait`: for the container to stop running (default), exit next, or be removed. */
  async wait(idOrName: string, condition: WaitCondition = 'not-running'): Promise<ExitStatus> {
    await this.init(); // a run started by another process is watched from here too
    const r = await this.record(idOrName);
    const live = this.live.get(r.id);
    const fromRecord = (): ExitStatus => ({ exitCode: r.state.exitCode, ...(r.state.oomKilled ? { oomKilled: true } : {}), ...(r.state.error ? { error: r.state.error } : {}) });
    const nextExit = () => new Promise<ExitStatus>((res) => { if (live) live.nextExit.push(res); else res(fromRecord()); });
    if (condition === 'removed') {
      const status = r.state.status === 'running' || (r.state.status === 'created' && live) ? await nextExit() : fromRecord();
      await live?.removed;
      return status;
    }
    if (condition === 'next-exit' || r.state.status === 'running') {
      if (r.state.status !== 'running' && !live) return fromRecord();
      // The run may have ended (and told its waiters) between reading the
      // record and now: its settled promise still answers, after the record.
      if (r.state.status === 'running' && live?.settled) return live.settled;
      return nextExit();
    }
    return fromRecord();
  }

  async kill(idOrName: string, signal = 'SIGKILL'): Promise<void> {
    const r = await this.record(idOrName);
    assertCan(r.state.status, 'kill', idOrName);
    const { live, container } = await this.backendContainer(r);
    await this.markStoppedByUser(r.id);
    await this.unpauseForSignal(r);
    if (!live.backend.capabilities.signals && normalizeSignal(signal) !== 'SIGKILL') {
      throw unsupported(`the ${live.backend.name} backend cannot deliver ${signal}; only SIGKILL`);
    }
    await live.starting;
    await container.kill(normalizeSignal(signal));
  }

  /**
   * The container's stop signal (--stop-signal, else the image's STOPSIGNAL,
   * else SIGTERM), then SIGKILL after `timeoutSec` (default: its
   * --stop-timeout, else 10; -1 waits for ever), as dockerd does.
   */
  async stop(idOrName: string, options: { timeoutSec?: number; signal?: string } = {}): Promise<void> {
    const r = await this.record(idOrName);
    await this.markStoppedByUser(r.id);
    await this.unpauseForSignal(r);
    if (r.state.status !== 'running') return;
    const { live, container } = await this.backendContainer(r);
    const timeoutSec = options.timeoutSec ?? r.stopTimeout ?? 10;
    const grace = timeoutSec < 0 ? Infinity : timeoutSec * 1000;
    // Settles once the exit is recorded, so the caller sees the container stopped.
    const exited = live.settled ?? new Promise<ExitStatus>((res) => live.nextExit.push(res));
    if (live.backend.capabilities.signals && grace > 0) {
      await live.starting;
      await container.kill(normalizeSignal(options.signal ?? r.stopSignal ?? 'SIGTERM')).catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((res) => { if (grace !== Infinity) timer = setTimeout(() => res(false), grace); })]);
      clearTimeout(timer);
      if (done) return;
    }
    await live.starting;
    await container.kill('SIGKILL').catch(() => {});
    await exited;
  }

  async restart(idOrName: string, options: { timeoutSec?: number } = {}): Promise<void> {
    await this.stop(idOrName, options);
    await this.start(idOrName);
  }

  async remove(idOrName: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.init(); // else the backend cannot restore the container to tear it down
    const r = await this.record(idOrName);
    if (r.state.status === 'running') {
      if (!options.force) throw conflict(`You cannot remove a running container ${r.id}. Stop the container before attempting removal or force remove`);
      await this.stop(r.id, { timeoutSec: 0 });
    }
    const live = this.live.get(r.id);
    const backend = this.backends.find((b) => b.name === r.backend);
    let container = live?.container;
    if (!container && backend?.restore) container = await backend.restore(r.id, await this.specOf(r).catch(() => undefined as never)).catch(() => undefined);
    await container?.remove();
    await this.records.delete(r.id);
    if (r.networks) await this.refreshPeers(r);
    await this.logStore.delete(r.id);
    if (options.volumes) for (const v of r.anonymousVolumes) await this.volumes.remove(v).catch(() => {});
    this.live.delete(r.id);
    live?.markRemoved();
  }

  async logs(idOrName: string, options: LogsOptions = {}): Promise<ReadableStream<LogEntry>> {
    if (options.follow) await this.init(); // a run started by another process is followed too
    const r = await this.record(idOrName);
    if (r.logConfig?.type === 'none') throw unsupported(`configured logging driver does not support reading: container ${r.name} was created with the none log driver, which keeps no logs (use json-file or local)`);
    const live = this.live.get(r.id);
    const hub = live?.hub;
    if (options.follow && r.state.status === 'running' && live && this.writesLogs(live.backend)) {
      // The backend writes the log: follow the file, whichever process started the run.
      return this.logStore.follow!(r.id, options, this.runEnded(live));
    }
    if (options.follow && r.state.status === 'running' && hub) {
      // Subscribe first so nothing falls between the stored part and the live part.
      const buffered: LogEntry[] = [];
      let sink: ((e: LogEntry | null) => void) | undefined;
      let ended = false;
      const unsubscribe = hub.subscribe((e) => (sink ? sink(e) : e ? buffered.push(e) : (ended = true)));
      // An unfinished line is not in the log yet: its start, as of the subscription, comes after what is.
      const held = hub.held();
      await hub.flushed();
      const stored = await this.logStore.read(r.id, options);
      const lastStored = stored.length ? stored[stored.length - 1]!.time : -1;
      return new ReadableStream<LogEntry>({
        start(ctl) {
          for (const e of stored) ctl.enqueue(e);
          for (const e of held) ctl.enqueue(e);
          for (const e of buffered) if (e.time > lastStored || !stored.some((s) => s.data === e.data)) ctl.enqueue(e);
          if (ended) return ctl.close();
          sink = (e) => (e ? ctl.enqueue(e) : ctl.close());
        },
        cancel: () => unsubscribe(),
      });
    }
    await hub?.flushed();
    const entries = await this.logStore.read(r.id, options);
    return new ReadableStream<LogEntry>({ start(ctl) { for (const e of entries) ctl.enqueue(e); ctl.close(); } });
  }

  /**
   * Output from now until the current run ends (attach before start to see
   * all of it), and with `stdin` input for the container (see AttachOptions).
   */
  async attach(idOrName: string, options: AttachOptions = {}): Promise<ReadableStream<LogEntry>> {
    await this.init();
    const r = await this.record(idOrName);
    const backend = this.backendByName(r.backend);
    const live = this.liveOf(r.id, backend);
    const stdin = r.openStdin ? options.stdin : undefined;
    if (r.state.status !== 'running' || !live.hub) {
      // Not started yet: make the next run's hub now; start() uses it.
      live.pendingHub ??= this.hubFor(r, backend);
      if (stdin) live.pendingStdin = stdin;
      return live.pendingHub.stream();
    }
    // The end of the output tells the attacher how it went; a failed stdin attach needs no other report.
    if (stdin) void this.attachStdin(r.id, stdin).catch(() => {});
    if (!live.hubFed && this.writesLogs(backend)) return this.logStore.follow!(r.id, { tail: 0 }, this.runEnded(live));
    return live.hub.stream();
  }

  /** Copies input to the running container's stdin until it ends (needs openStdin); see AttachOptions. */
  async attachStdin(idOrName: string, input: ReadableStream<Uint8Array>): Promise<void> {
    const r = await this.record(idOrName);
    if (r.state.status !== 'running') throw conflict(`container ${r.id} is not running`);
    if (!r.openStdin) throw failedPrecondition(`container ${r.name} was not created with its stdin open (-i / openStdin), so it has no stdin to attach to`);
    const { live, container } = await this.backendContainer(r);
    if (!container.attachStdin) throw unsupported(`the ${live.backend.name} backend cannot attach to the stdin of a running container`);
    await container.attachStdin(input);
  }

  /** Sets the window size of a running container's terminal (docker resize). */
  async resize(idOrName: string, size: TtySize): Promise<void> {
    const r = await this.record(idOrName);
    if (r.state.status !== 'running') throw conflict(`container ${r.id} is not running`);
    if (!r.tty) throw failedPrecondition(`container ${r.name} has no terminal (it was not created with -t)`);
    const { live, container } = await this.backendContainer(r);
    if (!container.resize) throw unsupported(`the ${live.backend.name} backend cannot resize terminals`);
    await container.resize(size);
  }

  async exec(idOrName: string, o: ExecOptions): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const r = await this.record(idOrName);
    assertCan(r.state.status, 'exec', idOrName);
    if (r.state.paused) throw conflict(`container ${r.name} is paused, unpause the container before exec`);
    const { live, container } = await this.backendContainer(r);
    if (!live.backend.capabilities.exec) throw unsupported(`the ${live.backend.name} backend cannot exec into containers`);
    if (!o.cmd?.length) throw invalidArgument('exec needs a command');
    const out = collector();
    const err = collector();
    const proc = this.execProcess(r, live.backend, o);
    const p = await container.exec(proc, { stdout: out.stream, stderr: err.stream, ...(o.stdin !== undefined ? { stdin: toStream(o.stdin) } : {}) });
    const status = await p.wait();
    return { exitCode: status.exitCode, stdout: out.text(), stderr: err.text() };
  }

  private execProcess(r: ContainerRecord, backend: Backend, o: ExecOptions): ProcessSpec {
    if (o.tty && !backend.capabilities.tty) throw unsupported(`the ${backend.name} backend does not support a terminal (-t)`);
    return { args: o.cmd, env: mergeEnv(r.env, envList(o.env)), cwd: o.workingDir ?? r.workingDir, ...((o.user ?? r.user) ? { user: o.user ?? r.user } : {}), ...(o.tty ? { tty: true, ...(o.consoleSize ? { consoleSize: o.consoleSize } : {}) } : {}) };
  }

  /** Like exec, but gives the backend process (wait, kill, resize with a tty) and lets the caller wire the streams. */
  async execStreams(idOrName: string, o: ExecOptions, stdio: { stdout: WritableStream<Uint8Array>; stderr: WritableStream<Uint8Array>; stdin?: ReadableStream<Uint8Array> }): Promise<BackendProcess> {
    const r = await this.record(idOrName);
    assertCan(r.state.status, 'exec', idOrName);
    if (r.state.paused) throw conflict(`container ${r.name} is paused, unpause the container before exec`);
    const { live, container } = await this.backendContainer(r);
    if (!live.backend.capabilities.exec) throw unsupported(`the ${live.backend.name} backend cannot exec into containers`);
    const proc = this.execProcess(r, live.backend, o);
    return container.exec(proc, stdio);
  }

  async stats(idOrName: string): Promise<ProcessStats> {
    const r = await this.record(idOrName);
    if (r.state.status !== 'running') return {};
    const { container } = await this.backendContainer(r);
    return container.stats();
  }

  /** What the container changed, as an uncompressed tar with OCI whiteouts. */
  async exportChanges(idOrName: string): Promise<ReadableStream<Uint8Array>> {
    const r = await this.record(idOrName);
    const { container } = await this.backendContainer(r);
    return container.exportChanges();
  }

  /**
   * docker commit: a new image of the container's image plus one layer of
   * what the container changed (no layer when it changed nothing, as
   * dockerd), with the container's config, the API's config and the
   * `changes` merged as dockerd does (runtime/commit.ts). A running
   * container is paused while its changes are read, unless `pause: false`,
   * where the backend can pause. Works on created, running and exited
   * containers.
   */
  async commit(idOrName: string, o: CommitOptions = {}): Promise<CommitResult> {
    await this.init();
    const r = await this.record(idOrName);
    if (r.state.status === 'removing') throw conflict(`You cannot commit container ${r.name} which is being removed`);
    const name = commitReference(o.repo, o.tag);
    const read = async <T>(digest: string, what: string): Promise<T> => {
      if (!(await this.layout.info(digest))) throw failedPrecondition(`the ${what} of container ${r.name}'s image (${digest}) is no longer in the store; the container cannot be committed`);
      return JSON.parse(dec.decode(await this.layout.readBytes(digest))) as T;
    };
    const manifest = await read<ImageManifest>(r.manifestDigest, 'manifest');
    const parent = await read<ImageConfig>(r.imageId, 'config');
    const own = containerConfig(r, parent.config, o.exposedPorts);
    // Bad changes fail before the container is touched.
    const config = commitConfig(own, o);
    if (r.state.startedAt && !this.live.get(r.id)?.container) {
      // Not made in this process: its writable layer must be restorable, or the commit would silently lose it.
      const backend = this.backendByName(r.backend);
      const restored = backend.restore && (await backend.restore(r.id, await this.specOf(r)));
      if (!restored) throw failedPrecondition(`the changes of container ${r.name} lived in the memory of the process that ran it (the ${backend.name} backend keeps no writable layer on disk); commit it through skiff daemon or the SDK process that runs it`);
      this.liveOf(r.id, backend).container = restored;
    }
    const { container } = await this.backendContainer(r);
    const pause = o.pause !== false && r.state.status === 'running' && !r.state.paused && container.pause !== undefined && container.unpause !== undefined;
    // As dockerd, a pause that fails does not stop the commit (e.g. no freezer here).
    const paused = pause && (await container.pause!().then(() => true, () => false));
    let layer: Awaited<ReturnType<typeof storeChanges>>;
    try {
      layer = await storeChanges(this.layout, container.exportChanges());
    } finally {
      if (paused) await container.unpause!().catch(() => {});
    }
    const created = new Date().toISOString();
    const image = childImageConfig(parent, { ...(layer ? { diffId: layer.diffId } : {}), config, createdBy: (own.Cmd ?? []).join(' '), ...(o.author ? { author: o.author } : {}), ...(o.comment ? { comment: o.comment } : {}), created, container: r.id, containerConfig: o.containerConfig ?? { ...own } });
    // The image committed from is its Parent (docker inspect, history), kept as dockerd keeps it: beside the image, not in it.
    const put = await this.images.putImage(name, image, [...manifest.layers, ...(layer ? [layer.descriptor] : [])], { [PARENT_ANNOTATION]: r.imageId });
    // Without a name it is kept as a dangling image (<none>), as dockerd keeps it.
    if (!put.name) await this.layout.setRef(danglingName(put.manifestDescriptor.digest), put.target);
    return { id: put.id, ...(put.name ? { name: put.name } : {}) };
  }

  /**
   * docker import: a root file system tarball (plain or gzip) as an image of
   * one layer, its config from `changes` (runtime/import-rootfs.ts). The
   * platform defaults to the first the engine runs, as dockerd's to its own.
   */
  async importImage(tarball: ReadableStream<Uint8Array> | Uint8Array, o: ImportRootfsOptions = {}): Promise<ImportRootfsResult> {
    await this.init();
    const platform = o.platform ?? this.platforms[0];
    if (!platform) {
      await toStream(tarball).cancel().catch(() => {});
      throw invalidArgument('this engine has no backend to take the image\'s platform from; give one, e.g. linux/amd64 or wasip1/wasm');
    }
    return importRootfs(this.images, toStream(tarball), platform, o);
  }

  /**
   * Extracts an uncompressed tar into the directory `dir` of the container, in
   * any state but removed (`docker cp SRC CONTAINER:DIR`); see
   * BackendContainer.importFiles for the rules.
   */
  async importFiles(idOrName: string, dir: string, tar: ReadableStream<Uint8Array> | Uint8Array, options: CopyInOptions = {}): Promise<void> {
    const r = await this.record(idOrName);
    const { live, container } = await this.backendContainer(r);
    if (!container.importFiles) throw unsupported(`the ${live.backend.name} backend cannot copy files into a container`);
    await container.importFiles(dir, toStream(tar), options);
  }

  /** create + start + wait, collecting the output: `{ exitCode, stdout, stderr }`. */
  async run(o: CreateOptions & StartOptions & { rm?: boolean }): Promise<RunResult> {
    const c = await this.create(o);
    const out = collector();
    const err = collector();
    try {
      const stream = await this.attach(c.id);
      const pump = pumpEntries(stream, out, err);
      await this.start(c.id, o.stdin !== undefined ? { stdin: o.stdin } : {});
      const status = await this.wait(c.id, 'next-exit');
      await pump;
      const result: RunResult = { id: c.id, exitCode: status.exitCode, stdout: out.text(), stderr: err.text() };
      if (status.oomKilled) result.oomKilled = true;
      if (status.error) result.error = status.error;
      return result;
    } finally {
      if (o.rm || o.autoRemove) await this.remove(c.id, { force: true, volumes: true }).catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const live of this.live.values()) if (live.restartTimer) clearTimeout(live.restartTimer);
    for (const b of this.backends) await b.close?.();
  }
}

/** A handle on one container; every method goes through the Engine. */
export class Container {
  constructor(private readonly engine: Engine, readonly id: string) {}
  inspect(): Promise<ContainerRecord> { return this.engine.record(this.id); }
  start(options?: StartOptions): Promise<void> { return this.engine.start(this.id, options); }
  wait(condition?: WaitCondition): Promise<ExitStatus> { return this.engine.wait(this.id, condition); }
  kill(signal?: string): Promise<void> { return this.engine.kill(this.id, signal); }
  stop(options?: { timeoutSec?: number }): Promise<void> { return this.engine.stop(this.id, options); }
  restart(): Promise<void> { return this.engine.restart(this.id); }
  remove(options?: { force?: boolean; volumes?: boolean }): Promise<void> { return this.engine.remove(this.id, options); }
  logs(options?: LogsOptions): Promise<ReadableStream<LogEntry>> { return this.engine.logs(this.id, options); }
  attach(options?: AttachOptions): Promise<ReadableStream<LogEntry>> { return this.engine.attach(this.id, options); }
  resize(size: TtySize): Promise<void> { return this.engine.resize(this.id, size); }
  exec(o: ExecOptions) { return this.engine.exec(this.id, o); }
  update(o: UpdateOptions): Promise<ContainerRecord> { return this.engine.update(this.id, o); }
  stats(): Promise<ProcessStats> { return this.engine.stats(this.id); }
  exportChanges(): Promise<ReadableStream<Uint8Array>> { return this.engine.exportChanges(this.id); }
  commit(o?: CommitOptions): Promise<CommitResult> { return this.engine.commit(this.id, o); }
  importFiles(dir: string, tar: ReadableStream<Uint8Array> | Uint8Array, options?: CopyInOptions): Promise<void> { return this.engine.importFiles(this.id, dir, tar, options); }
}

export function normalizeSignal(s: string | number): string {
  if (typeof s === 'number' || /^\d+$/.test(String(s))) {
    const n = Number(s);
    const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 9: 'SIGKILL', 10: 'SIGUSR1', 12: 'SIGUSR2', 15: 'SIGTERM' };
    if (!names[n]) throw invalidArgument(`unsupported signal number ${n}`);
    return names[n]!;
  }
  const up = String(s).toUpperCase();
  return up.startsWith('SIG') ? up : `SIG${up}`;
}

export function toStream(input: ReadableStream<Uint8Array> | Uint8Array | string): ReadableStream<Uint8Array> {
  if (input instanceof ReadableStream) return input;
  const bytes = typeof input === 'string' ? enc.encode(input) : input;
  return new ReadableStream({ start(c) { if (bytes.length) c.enqueue(bytes); c.close(); } });
}

function collector() {
  const parts: Uint8Array[] = [];
  return {
    push: (b: Uint8Array) => void parts.push(b),
    stream: new WritableStream<Uint8Array>({ write: (b) => void parts.push(b.slice()) }),
    text: () => dec.decode(concat(parts)),
  };
}

async function pumpEntries(stream: ReadableStream<LogEntry>, out: ReturnType<typeof collector>, err: ReturnType<typeof collector>): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    (value.stream === 'stdout' ? out : err).push(value.data);
  }
}

export { SkiffError, filterLog };
