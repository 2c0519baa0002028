/**
 * The Linux Backend: images as overlayfs stacks of unpacked layers, processes
 * isolated by namespaces, cgroups, capabilities and seccomp through
 * skiff-runtime. Policy (what to mount, which limits, which capabilities)
 * lives here and in spec/; the helper only carries it out.
 *
 * State lives under the state directory the Engine gives (BackendContext.stateDir):
 *   layers/<diffID hex>/      unpacked layers, shared and kept
 *   containers/<id>/          one directory per container (see state.ts)
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, statfsSync, existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { Backend, BackendCapabilities, BackendContainer, BackendContext, ContainerSpec, Platform, Provider } from '@skiff/sdk';
import { failedPrecondition, invalidArgument, unavailable, unsupported } from '@skiff/sdk';
import { createCgroupManager, detectCgroupSetup, listCgroupIds, removeEmptyParent, v1Mounts, type CgroupManager, type CgroupOptions, type CgroupSetup } from './cgroups/index.js';
import { LayerStore } from './rootfs/layer-store.js';
import { SpareDirs } from './rootfs/spare-dirs.js';
import { writeEtcFiles } from './rootfs/etc-files.js';
import { INIT_LAYER, ensureInitLayer } from './rootfs/init-layer.js';
import { ownProcsFile, warmMigration } from './cgroups/v1/warm.js';
import { defaultRunRoot } from './run-root.js';
import { findHelper } from './process/helper.js';
import { Launcher } from './process/launcher.js';
import { LinuxContainer } from './container.js';
import { netnsName, orphanNetns, removeBridge, removeNetns } from './network/bridge.js';
import { ContainerDir, isSameProcess, readJson } from './state.js';

export interface LinuxBackendOptions {
  /** Overrides BackendContext.stateDir. */
  stateDir?: string;
  /** PID 1 is an init that reaps zombies and forwards signals (default true, like `docker run --init`). */
  init?: boolean;
  /** Path of skiff-runtime (default: the package's native/build/skiff-runtime, built when missing). */
  helper?: string;
  /** Start shims through one long-lived `skiff-runtime serve` instead of a spawn each (default true). */
  launcher?: boolean;
  cgroups?: CgroupOptions;
  /**
   * Where containers' per-boot files go (bundle, pid and exit files, /etc
   * files): default <tmpfs>/skiff/<key of the state dir>, the tmpfs being /run
   * or else /dev/shm, else <stateDir>/run (see run-root.ts).
   */
  runDir?: string;
}

export interface OrphanReport {
  /** Containers whose helper died while they ran: their processes were killed and an exit recorded. */
  containers: string[];
  /** skiff cgroups without a container directory, killed and removed. */
  cgroups: string[];
  /** Mounts under the state directory, detached. */
  mounts: string[];
}

const OVERLAYFS_SUPER_MAGIC = 0x794c7630;
/** How long removed containers' directories wait in trash/ to be deleted together (and spares to be topped up). */
const TRASH_DELAY_MS = 200;

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): Platform {
  const p: Platform = { os: 'linux', architecture: ARCH[process.arch] ?? process.arch };
  if (process.arch === 'arm64') p.variant = 'v8';
  return p;
}

/** Why this machine cannot run the Linux backend, or undefined when it can. */
export function whyUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `it needs Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'it needs root (it makes namespaces, cgroups and overlay mounts); run as root or use the wasm backend';
  return undefined;
}

export class LinuxBackend implements Backend {
  readonly name = 'linux';
  readonly platforms: Platform[] = [hostPlatform()];
  readonly capabilities: BackendCapabilities = {
    signals: true, exec: true, tty: true, bindMounts: true, memoryLimit: true, cpuLimit: true,
    pidsLimit: true, cgroupResources: true, users: true, hostname: true, network: true, writesLogs: true, publishPorts: true, networks: true,
    hostNamespaces: true, rlimits: true, shmSize: true, dns: true, oomScoreAdj: true, sysctls: true, tmpfsOptions: true,
  };
  private content?: Provider;
  private stateDir?: string;
  private layerStore?: LayerStore;
  private helperPath?: string;
  private cgroupSetup?: CgroupSetup;
  /** skiff/<key of the state dir>: engines with other state dirs never see (or clean) these cgroups. */
  private cgroupParent = 'skiff';
  /** Tells this state directory's network namespaces from another's. */
  private backendKey = '';
  /** Where each v1 controller is mounted, read once. */
  private cgroupMounts?: Record<string, string>;
  private readonly containers = new Map<string, LinuxContainer>();
  /** Deletions of removed containers' directories still under way. */
  private readonly discarding = new Set<Promise<void>>();
  private launcherP?: Promise<Launcher | undefined>;
  private readonly trashQueue: string[] = [];
  private trashTimer?: NodeJS.Timeout;
  private runRoot?: string;
  /** v1: this process's own cgroup.procs, rewritten at create to start the migration lock's grace period early. */
  private warmProcs?: string;
  private spares?: SpareDirs;
  /** layers.json files being written in the background (pruning reads these first). */
  private readonly layerWrites = new Map<string, { layers: string[]; done: Promise<void> }>();

  constructor(private readonly options: LinuxBackendOptions = {}) {}

  get helper(): string {
    return (this.helperPath ??= this.options.helper ?? findHelper());
  }

  get layers(): LayerStore {
    if (!this.layerStore) throw failedPrecondition('the linux backend is not initialized; call init() first');
    return this.layerStore;
  }

  async init(ctx: BackendContext): Promise<void> {
    const why = whyUnavailable();
    if (why) throw unavailable(`the linux backend cannot run here: ${why}`);
    const dir = this.options.stateDir ?? ctx.stateDir;
    if (!dir) throw unavailable('the linux backend needs a state directory (BackendContext.stateDir or options.stateDir)');
    this.stateDir = resolve(dir);
    this.content = ctx.content;
    mkdirSync(join(this.stateDir, 'containers'), { recursive: true });
    if (statfsSync(this.stateDir).type === OVERLAYFS_SUPER_MAGIC) {
      throw unavailable(`the state directory ${this.stateDir} is on overlayfs, which cannot hold overlay upper directories; put the skiff root on a real file system (a volume, in a container)`);
    }
    void this.helper; // fail now, with the install advice, rather than on the first start
    this.cgroupSetup = this.options.cgroups?.setup ?? detectCgroupSetup(this.options.cgroups?.root);
    const key = createHash('sha256').update(this.stateDir).digest('hex').slice(0, 12);
    this.backendKey = key.slice(0, 8);
    this.cgroupParent = this.options.cgroups?.parent ?? `skiff/${key}`;
    this.runRoot = this.options.runDir ?? defaultRunRoot(this.stateDir, key);
    mkdirSync(this.runRoot, { recursive: true });
    this.spares = new SpareDirs(join(this.stateDir, 'spare'));
    if (this.cgroupSetup !== 'v2') {
      this.cgroupMounts = this.options.cgroups?.mounts ?? v1Mounts();
      try { this.warmProcs = ownProcsFile(this.cgroupMounts); } catch { /* no /proc/self/cgroup: no warming */ }
    }
    this.layerStore = new LayerStore(join(this.stateDir, 'layers'), () => this.helper);
    mkdirSync(this.layerStore.dir, { recursive: true });
    ensureInitLayer(this.layerStore.dir);
    await this.cleanupOrphans();
  }

  private cgroupFor(id: string, privileged: boolean): CgroupManager {
    return createCgroupManager(id, this.cgroupOptions(privileged));
  }

  private cgroupOptions(privileged = false): CgroupOptions {
    return { ...this.options.cgroups, setup: this.cgroupSetup!, parent: this.cgroupParent, ...(this.cgroupMounts ? { mounts: this.cgroupMounts } : {}), ...(privileged ? { allowAllDevices: true } : {}) };
  }

  async removeNetwork(network: { bridge: string }): Promise<void> {
    await removeBridge(network.bridge);
  }

  private dirOf(id: string): ContainerDir {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(id)) throw invalidArgument(`invalid container id "${id}"`);
    return new ContainerDir(join(this.stateDir!, 'containers', id), join(this.runRoot!, id));
  }

  private containerFor(spec: ContainerSpec, dir: ContainerDir, layers: string[]): LinuxContainer {
    return new LinuxContainer(spec, dir, {
      helper: this.helper,
      layersDir: this.layers.dir,
      layers: [...layers, INIT_LAYER],
      cgroup: this.cgroupFor(spec.id, spec.privileged ?? false),
      init: this.options.init ?? true,
      deviceCgroup: true, // v1: the devices files; v2 (and hybrid's unified side): the helper's eBPF filter
      cgroupParent: this.cgroupParent,
      netns: netnsName(this.backendKey, spec.id),
      discard: (d) => {
        this.discard(d.root);
        const run = d.removeRun();
        if (run) this.trashQueue.push(run); // deleted with the batch (tmpfs: no trash/ needed)
      },
      launcher: () => this.launcher(),
    });
  }

  /** The shim launcher, started on first use; undefined (spawn each time) when disabled or when it cannot start. */
  private launcher(): Promise<Launcher | undefined> {
    if (this.options.launcher === false) return Promise.resolve(undefined);
    if (this.launcherP) {
      return this.launcherP.then((l) => {
        if (l && !l.alive) this.launcherP = undefined; // it died: start another next time
        return l?.alive ? l : this.launcher();
      });
    }
    this.launcherP = Launcher.start(this.helper).catch(() => undefined);
    return this.launcherP;
  }

  /**
   * A removed container's directory is renamed into trash/ at once (so its id
   * is free and nothing of it is visible) and deleted in the background, in
   * batches a moment later, so the deleting does not compete with the next
   * container's start; a crash leaves it in trash/ for the next cleanupOrphans().
   */
  private discard(dir: string): void {
    const trash = join(this.stateDir!, 'trash', `${dir.split('/').pop()}-${Date.now().toString(36)}`);
    try {
      mkdirSync(join(this.stateDir!, 'trash'), { recursive: true });
      renameSync(dir, trash);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    this.trashQueue.push(trash);
    this.scheduleUpkeep();
  }

  private scheduleUpkeep(): void {
    this.trashTimer ??= setTimeout(() => this.emptyTrash(), TRASH_DELAY_MS).unref();
  }

  /**
   * Deletes what discard() queued (by the launcher in a process of its own
   * when there is one, else by Node in the background), then tops up the spares.
   */
  private emptyTrash(): void {
    if (this.trashTimer) clearTimeout(this.trashTimer);
    this.trashTimer = undefined;
    const batch = this.trashQueue.splice(0);
    const launcher = this.launcherP;
    const p: Promise<void> = (async () => {
      // One request for the batch: one process deletes them all.
      const l = batch.length ? await launcher : undefined;
      if (batch.length && !(l?.alive && l.remove(batch))) for (const trash of batch) await rm(trash, { recursive: true, force: true }).catch(() => {});
      this.spares!.refill();
    })().finally(() => this.discarding.delete(p));
    this.discarding.add(p);
  }

  /** Waits for background deletions of removed containers. */
  async settle(): Promise<void> {
    this.emptyTrash();
    while (this.discarding.size) await Promise.all([...this.discarding]);
  }

  async create(spec: ContainerSpec): Promise<BackendContainer> {
    if (!this.content || !this.stateDir) throw failedPrecondition('the linux backend is not initialized; call init() first');
    if (spec.deterministic) throw unsupported('the linux backend cannot run deterministically (fixed clock and random); use the wasm backend');
    if (this.warmProcs) void warmMigration(this.warmProcs); // v1: the helper moves the process into its cgroups soon
    const dir = this.dirOf(spec.id);
    if (dir.exists()) throw invalidArgument(`container ${spec.id} already exists in the linux backend`);
    const layers = spec.image.layers.length ? await this.layers.ensureAll(spec.image.layers, this.content) : [this.layers.emptyLayer()];
    // The writable layer: a spare made ahead of time (one rename), else made now.
    if (!this.spares!.take(dir.root)) for (const d of [dir.upper, dir.work]) mkdirSync(d, { recursive: true });
    this.scheduleUpkeep();
    this.writeLayerList(spec.id, dir, layers);
    dir.ensureRun();
    writeEtcFiles(dir, spec);
    const c = this.containerFor(spec, dir, layers);
    try {
      c.config(); // checks the spec (user, mounts, limits) now rather than at start
      await c.setupCgroup();
    } catch (err) {
      await c.remove().catch(() => {});
      throw err;
    }
    this.containers.set(spec.id, c);
    return c;
  }

  async restore(id: string, spec: ContainerSpec): Promise<BackendContainer | undefined> {
    const live = this.containers.get(id);
    if (live && live.dir.exists()) return live;
    this.containers.delete(id);
    if (!this.stateDir) return undefined;
    const dir = this.dirOf(id);
    if (!dir.exists()) return undefined;
    // layers.json is written off the create path: until it is, the spec names the same layers.
    const recorded = readJson(dir.layers);
    const layers = Array.isArray(recorded) ? (recorded as string[]) : spec.image.layers.length ? spec.image.layers.map((l) => this.layers.nameOf(l.diffId)) : [this.layers.emptyLayer()];
    const c = this.containerFor(spec, dir, layers);
    c.adopt();
    this.containers.set(id, c);
    return c;
  }

  /**
   * Finds what a crash left behind and cleans it: containers whose helper died
   * (their processes are killed, an exit is recorded), skiff cgroups with no
   * container, mounts under the state directory. Containers whose helper still
   * runs, perhaps for another Engine process, are left alone.
   */
  async cleanupOrphans(): Promise<OrphanReport> {
    const report: OrphanReport = { containers: [], cgroups: [], mounts: [] };
    if (!this.stateDir) return report;
    const containersDir = join(this.stateDir, 'containers');
    const ids = existsSync(containersDir) ? readdirSync(containersDir) : [];
    for (const id of ids) {
      const dir = new ContainerDir(join(containersDir, id), join(this.runRoot!, id));
      const pid = dir.readPid();
      if (!pid || dir.readExit()) continue;
      if (isSameProcess(pid.shim, pid.shimStart)) continue;
      await this.cgroupFor(id, false).killAll().catch(() => {});
      if (!dir.readExit()) dir.writeExit({ code: 137, signal: 9, error: 'the runtime helper died while the container ran; skiff stopped what was left of it' });
      report.containers.push(id);
    }
    const known = new Set(ids);
    // Network namespaces of containers that are gone.
    for (const ns of orphanNetns(this.backendKey, new Set(ids))) await removeNetns(ns);
    for (const id of listCgroupIds(this.cgroupOptions())) {
      if (known.has(id)) continue;
      await this.cgroupFor(id, false).remove().catch(() => {});
      report.cgroups.push(id);
    }
    const trash = join(this.stateDir, 'trash');
    // Left by a crash mid-delete (another process deleting its own entry at the same time is harmless).
    if (existsSync(trash)) for (const e of readdirSync(trash)) try { rmSync(join(trash, e), { recursive: true, force: true }); } catch { /* being deleted */ }
    // Mounts first (a copy's overlay under a run directory), so no deletion below goes through one.
    for (const mp of [...mountsUnder(this.stateDir), ...mountsUnder(this.runRoot!)]) {
      spawnSync('umount', ['-l', mp]);
      report.mounts.push(mp);
    }
    // Run directories of containers that are gone (removed by a process that crashed before deleting them).
    for (const id of existsSync(this.runRoot!) ? readdirSync(this.runRoot!) : []) if (!known.has(id)) rmSync(join(this.runRoot!, id), { recursive: true, force: true });
    return report;
  }

  /**
   * layers.json is only read by pruning, so it is written off the create path;
   * pruning takes the pending lists from memory and prunes nothing while a
   * container's list is missing or unreadable (a crash in between).
   */
  private writeLayerList(id: string, dir: ContainerDir, layers: string[]): void {
    // In place, into the spare's empty file (no new inode); a torn write reads as unknown, so pruning keeps all.
    const done = writeFile(dir.layers, JSON.stringify(layers)).catch(() => {}).finally(() => this.layerWrites.delete(id));
    this.layerWrites.set(id, { layers, done });
  }

  /** Removes unpacked layers no container uses (they are unpacked again when needed). */
  pruneLayers(): string[] {
    const keep = new Set<string>();
    const containersDir = join(this.stateDir!, 'containers');
    for (const id of readdirSync(containersDir)) {
      const l = this.layerWrites.get(id)?.layers ?? readJson(join(containersDir, id, 'layers.json'));
      if (!Array.isArray(l)) return []; // which layers it needs is unknown: keep them all
      for (const x of l) keep.add(String(x));
    }
    return this.layers.prune(keep);
  }

  async close(): Promise<void> {
    // Containers keep running without this process; their helpers record the exit (and write the logs).
    for (const c of this.containers.values()) c.release();
    const l = await this.launcherP;
    l?.close();
    this.launcherP = undefined;
    await this.settle();
    await this.spares?.settle();
    await Promise.all([...this.layerWrites.values()].map((w) => w.done));
    this.containers.clear();
    if (this.runRoot && this.runRoot !== join(this.stateDir!, 'run')) {
      // An engine whose containers are all gone leaves no trace in /run.
      try { rmdirSync(this.runRoot); rmdirSync(join(this.runRoot, '..')); } catch { /* containers left, or another engine's */ }
    }
    if (this.cgroupSetup) removeEmptyParent(this.cgroupOptions());
  }
}

function safeRead(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** Mount points at or below dir, deepest first. */
export function mountsUnder(dir: string, mountinfo = safeRead('/proc/self/mountinfo') ?? ''): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const path = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (path === dir || path.startsWith(`${dir}/`)) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}

