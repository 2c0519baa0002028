/**
 * One container on Linux: its directory, cgroup and, while it runs, the
 * helper (shim) that started it. A container found on disk by a later Engine
 * process is "restored": its exit is then read from exit.json (the shim writes
 * it), watched with inotify, since only the original parent can wait() for the shim.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { BackendContainer, BackendProcess, ContainerSpec, CopyInOptions, ExitStatus, FileTree, PortMapping, ProcessSpec, ProcessStats, Resources, Stdio, TtySize } from '@skiff/sdk';
import { conflict, dataLoss, extractTar, failedPrecondition, FsTree, internal, MountedTree, unsupported, type FsLike } from '@skiff/sdk';
import type { CgroupManager } from './cgroups/index.js';
import { buildOciConfig, type BundleOptions } from './spec/build.js';
import type { OciConfig } from './spec/oci.js';
import { addGroups, resolveUser } from './spec/user.js';
import { exportChanges } from './rootfs/export.js';
import { HostTree, withMergedRoot } from './rootfs/import.js';
import { readMergedFile } from './rootfs/image-files.js';
import { writeEtcFiles } from './rootfs/etc-files.js';
import { launchShim, startShim, type Shim, type ShimExit } from './process/shim.js';
import type { Launcher } from './process/launcher.js';
import { signalName, toSignal } from './process/signals.js';
import { attachInput, controlNameFor, execControlName, resizeTerminal } from './process/control.js';
import { publishPorts } from './network/ports.js';
import { changeNetns, createNetns, netnsPath, removeNetns } from './network/bridge.js';
import { ContainerDir, isContainerProcess, isSameProcess } from './state.js';
import { watchExit, type ExitWatchHold } from './process/exit-watch.js';

export interface ContainerContext {
  helper: string;
  /** The backend's shim launcher, or undefined to spawn the helper each time. */
  launcher: () => Promise<Launcher | undefined>;
  /** Deletes a container's directories (the backend moves the disk one aside and deletes it off the critical path). */
  discard: (dir: ContainerDir) => void;
  layersDir: string;
  /** Unpacked layer directory names, bottom first. */
  layers: string[];
  cgroup: CgroupManager;
  /** Run an init as PID 1 that reaps zombies and forwards signals (docker run --init). */
  init: boolean;
  deviceCgroup: boolean;
  /** Where the container's cgroups sit in each hierarchy (config.json's cgroupsPath is <parent>/<id>). */
  cgroupParent: string;
  /** Its network namespace's name under /run/netns, for user-defined networks. */
  netns: string;
}

/** The overlay option string must fit in a page. */
const MAX_MOUNT_DATA = 4000;

type State = 'created' | 'running' | 'exited';

export class LinuxContainer implements BackendContainer {
  private state: State = 'created';
  private current?: { pid: number; shim?: Shim; exited: Promise<ExitStatus>; ports?: PortMapping[] };
  private last?: ExitStatus;
  private networkHosts: string[] = [];
  /** A restored run's exit watch, released with the Engine. */
  private readonly exitWatch: ExitWatchHold = {};
  /** A copy into the stopped container's overlay (mounted meanwhile): start waits for it. */
  private copying?: Promise<unknown>;

  constructor(readonly spec: ContainerSpec, readonly dir: ContainerDir, private readonly ctx: ContainerContext) {}

  get id(): string {
    return this.spec.id;
  }

  get pid(): number | undefined {
    return this.state === 'running' ? this.current?.pid : undefined;
  }

  async pause(): Promise<void> {
    if (this.state !== 'running') throw conflict(`container ${this.id} is not running`);
    await this.ctx.cgroup.freeze(true);
  }

  async unpause(): Promise<void> {
    if (this.state !== 'running') throw conflict(`container ${this.id} is not running`);
    await this.ctx.cgroup.freeze(false);
  }

  async setNetworks(networks: NonNullable<ContainerSpec['networks']>): Promise<void> {
    if (this.state !== 'running' || !this.current) {
      await removeNetns(this.ctx.netns); // made again, with the new set, at the next start
      this.spec.networks = networks;
      return;
    }
    // Its namespace is the host's or another container's: not this container's to rewire.
    if (this.spec.network === 'host' || this.spec.joinNetworkOf) throw failedPrecondition(`container ${this.id} shares the network namespace of ${this.spec.joinNetworkOf ? `container ${this.spec.joinNetworkOf.id}` : 'the host'}; it cannot be connected to or disconnected from a network`);
    await changeNetns(this.ctx.netns, this.id, this.current.pid, this.spec.networks ?? [], networks);
    this.spec.networks = networks;
  }

  async updateHosts(entries: string[]): Promise<void> {
    this.networkHosts = entries;
    // In place: the running container's /etc/hosts is a bind mount of this very file.
    writeEtcFiles(this.dir, this.spec, entries);
  }

  get publishedPorts(): PortMapping[] | undefined {
    return this.state === 'running' ? this.current?.ports : undefined;
  }

  get status(): State {
    return this.state;
  }

  /** Picks up a run left by an earlier Engine process (called by the backend's restore). */
  adopt(): void {
    const exit = this.dir.readExit();
    const pid = this.dir.readPid();
    if (exit) {
      this.state = 'exited';
      this.last = toExitStatus(exit, exit.error);
    } else if (pid && isContainerProcess(pid.pid, this.id)) {
      this.state = 'running';
      this.current = { pid: pid.pid, exited: this.awaitRestoredExit(pid) };
    }
  }

  private async awaitRestoredExit(pid: { shim: number; shimStart?: number; pid: number }): Promise<ExitStatus> {
    const exit = await watchExit(this.dir, () => isSameProcess(pid.shim, pid.shimStart) || isContainerProcess(pid.pid, this.id), this.exitWatch);
    if (exit) return this.finish(toExitStatus(exit, exit.error), 0);
    return this.finish({ exitCode: 255, error: 'the runtime helper that watched this container is gone; its exit status is unknown' }, 0);
  }

  private async finish(status: ExitStatus, oomBaseline: number): Promise<ExitStatus> {
    const kills = await this.ctx.cgroup.oomKills().catch(() => 0);
    if (kills > oomBaseline) status.oomKilled = true;
    this.state = 'exited';
    this.last = status;
    return status;
  }

  /** Makes the cgroup and applies the limits (at create, so start has less to do). */
  async setupCgroup(): Promise<void> {
    await this.ctx.cgroup.create();
    await this.ctx.cgroup.apply(this.spec.resources ?? {});
  }

  /**
   * docker update: the cgroup lives as long as the container, so the kernel
   * takes the new limits now, running or not, and later starts keep them.
   * A limit that went away is written back as unlimited; a refused change
   * (e.g. v1's EBUSY below the usage) puts back what was there.
   */
  async updateResources(resources: Resources): Promise<void> {
    const before = this.spec.resources ?? {};
    const unset = (r: Resources, was: Resources): Resources => (was.pidsLimit !== undefined && r.pidsLimit === undefined ? { ...r, pidsLimit: -1 } : r);
    await this.ctx.cgroup.create(); // idempotent; a host restart took the directories with it
    try {
      await this.ctx.cgroup.apply(unset(resources, before));
    } catch (err) {
      await this.ctx.cgroup.apply(unset(before, resources)).catch(() => {});
      throw err;
    }
    this.spec.resources = resources;
  }

  private bundleOptions(process: ProcessSpec): BundleOptions {
    const top = [this.dir.upper, ...[...this.ctx.layers].reverse().map((l) => `${this.ctx.layersDir}/${l}`)];
    const group = readMergedFile(top, '/etc/group');
    const user = addGroups(resolveUser(process.user, readMergedFile(top, '/etc/passwd'), group), this.spec.groupAdd ?? [], group);
    return {
      spec: { ...this.spec, process },
      user,
      rootfs: { layersDir: this.ctx.layersDir, lowerDirs: this.ctx.layers, upperDir: this.dir.upper, workDir: this.dir.work },
      etcFiles: { hostname: this.dir.file('hostname'), hosts: this.dir.file('hosts'), ...(existsSync(this.dir.file('resolv.conf')) ? { resolvConf: this.dir.file('resolv.conf') } : {}) },
      deviceCgroup: this.ctx.deviceCgroup,
      cgroupParent: this.ctx.cgroupParent,
      ...(this.spec.networks?.length ? { netnsPath: netnsPath(this.ctx.netns) } : {}),
    };
  }

  /** The bundle's config.json for the container's own process (also what runc or crun would run). */
  config(process: ProcessSpec = this.spec.process): OciConfig {
    const config = buildOciConfig(this.bundleOptions(process));
    const data = config.annotations?.['org.skiff.rootfs.overlay'] ?? '';
    if (data.length > MAX_MOUNT_DATA) throw unsupported(`the image has too many layers (${this.ctx.layers.length}) for one overlay mount; squash it to fewer layers`);
    return config;
  }

  private cgroupArgs(): string[] {
    return this.ctx.cgroup.joinPaths.flatMap((p) => ['--cgroup', p]);
  }

  /** Starts the helper with `args`: through the launcher when there is one, else spawned. */
  private async shim(args: string[], stdio: Stdio, context: string, proc: ProcessSpec): Promise<Shim> {
    const size = proc.consoleSize ? `${proc.consoleSize.rows}x${proc.consoleSize.cols}` : (process.env.SKIFF_TTY_SIZE ?? '24x80');
    const env = proc.tty ? { SKIFF_TTY_SIZE: size } : undefined;
    const launcher = await this.ctx.launcher();
    if (launcher) return launchShim(launcher, args, stdio, context, env);
    return startShim(this.ctx.helper, args, stdio, context, env ? { ...process.env, ...env } : undefined);
  }

  async start(stdio: Stdio): Promise<void> {
    if (this.state === 'running') throw conflict(`container ${this.id} is already running`);
    const join = this.spec.joinNetworkOf;
    // The PID must still be that container's: a PID reused by another process would hand over the wrong network.
    if (join && !(join.pid > 0 && isContainerProcess(join.pid, join.id))) throw conflict(`container ${this.id} shares the network of container ${join.id}, which is not running (or has restarted since); start it, then recreate this one`);
    await this.copying?.catch(() => {});
    if (this.dir.ensureRun()) writeEtcFiles(this.dir, this.spec, this.networkHosts); // the run directory went with a host restart
    // User-defined networks: the namespace is made once, before the first start, and kept until removal.
    if (this.spec.networks?.length && !existsSync(netnsPath(this.ctx.netns))) await createNetns(this.ctx.netns, this.id, this.spec.networks);
    if (!this.dir.prepareVolatileMount()) throw dataLoss(`container ${this.id}: the host restarted since it last ran, and its writable layer (mounted without syncing, for speed) may have lost data; remove it and create a new one`);
    this.dir.clearRun();
    writeFileSync(this.dir.config, JSON.stringify(this.config()));
    const oomBaseline = await this.ctx.cgroup.oomKills().catch(() => 0);
    const args = ['run', '--bundle', this.dir.bundle, '--status-fd', '3', '--exit-file', this.dir.exitFile, '--pid-file', this.dir.pidFile, ...((this.spec.init ?? this.ctx.init) ? ['--init'] : []), ...this.cgroupArgs(), ...this.ioArgs()];
    const shim = await this.shim(args, stdio, `start container ${this.id}`, this.spec.process);
    this.state = 'running';
    let timedOut = false;
    const timer = this.spec.timeoutMs !== undefined ? setTimeout(() => { timedOut = true; void this.kill('SIGKILL').catch(() => {}); }, this.spec.timeoutMs) : undefined;
    const exited = (async () => {
      let status: ExitStatus;
      try {
        status = toExitStatus(await shim.exit);
      } catch (err) {
        // The helper died with the container still running: nothing may run unwatched, so end it.
        await this.ctx.cgroup.killAll().catch(() => {});
        status = { exitCode: 255, error: `${(err as Error).message}; the container's processes were killed` };
      }
      if (timer) clearTimeout(timer);
      await shim.drained;
      if (timedOut) status.error = `killed after the ${this.spec.timeoutMs} ms timeout`;
      return this.finish(status, oomBaseline);
    })();
    this.current = { pid: shim.pid, shim, exited };
    if (this.spec.ports?.length && this.spec.network !== 'host') {
      try {
        this.current.ports = await publishPorts(this.ctx.helper, shim.pid, this.spec.ports, this.id);
      } catch (err) {
        // Like docker: a container whose ports cannot be published does not run.
        await this.ctx.cgroup.killAll().catch(() => {});
        await exited;
        throw err;
      }
    }
  }

  /** The shim's stdio options: its control socket, the log it writes, stdin kept open. */
  private ioArgs(): string[] {
    const a = ['--control', controlNameFor(this.dir.root)];
    if (this.spec.logPath) a.push('--log', this.spec.logPath);
    if (this.spec.logPath && this.spec.logLimits) a.push('--log-max-size', String(this.spec.logLimits.maxSize), '--log-max-files', String(this.spec.logLimits.maxFiles));
    if (this.spec.openStdin) a.push('--stdin-open', ...(this.spec.stdinOnce ? ['--stdin-once'] : []));
    return a;
  }

  async attachStdin(input: ReadableStream<Uint8Array>): Promise<void> {
    if (this.state !== 'running') throw conflict(`container ${this.id} is not running`);
    if (!this.spec.openStdin) throw failedPrecondition(`container ${this.id} was not created with its stdin open (docker run -i / openStdin), so there is no stdin to attach to`);
    await attachInput(controlNameFor(this.dir.root), input, `attach stdin to container ${this.id}`);
  }

  async resize(size: TtySize): Promise<void> {
    if (this.state !== 'running') throw conflict(`container ${this.id} is not running`);
    if (!this.spec.process.tty) throw failedPrecondition(`container ${this.id} has no terminal (it was not created with -t)`);
    await resizeTerminal(controlNameFor(this.dir.root), size, `resize the terminal of container ${this.id}`);
  }

  /** Lets this Node process exit while the container runs on (see Shim.release). */
  release(): void {
    this.current?.shim?.release();
    this.exitWatch.release?.();
  }

  async wait(): Promise<ExitStatus> {
    if (this.state === 'running' && this.current) return this.current.exited;
    if (this.last) return this.last;
    throw conflict(`container ${this.id} has not been started`);
  }

  async kill(signal?: string): Promise<void> {
    const sig = toSignal(signal);
    if (this.state !== 'running' || !this.current) throw conflict(`container ${this.id} is not running`);
    try {
      process.kill(this.current.pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw internal(`kill ${sig} container ${this.id} (pid ${this.current.pid}): ${(err as Error).message}`, err);
    }
    // A paused process (v1 freezer) takes SIGKILL only once thawed; as runc, thaw after it. No-op when not paused.
    if (sig === 'SIGKILL') await this.ctx.cgroup.freeze(false).catch(() => {});
  }

  async exec(proc: ProcessSpec, stdio: Stdio): Promise<BackendProcess> {
    if (this.state !== 'running' || !this.current) throw conflict(`container ${this.id} is not running`);
    const file = this.dir.file(`exec-${randomBytes(6).toString('hex')}.json`);
    writeFileSync(file, JSON.stringify(this.config(proc).process));
    let shim: Shim;
    const control = proc.tty ? execControlName() : undefined;
    try {
      const args = ['exec', '--bundle', this.dir.bundle, '--pid', String(this.current.pid), '--process', file, '--status-fd', '3', ...this.cgroupArgs(), ...(control ? ['--control', control] : [])];
      shim = await this.shim(args, stdio, `exec in container ${this.id}`, proc);
    } finally {
      rmSync(file, { force: true });
    }
    const exited = (async () => {
      let status: ExitStatus;
      try {
        status = toExitStatus(await shim.exit);
      } catch (err) {
        status = { exitCode: 255, error: (err as Error).message };
      }
      await shim.drained;
      return status;
    })();
    let done = false;
    void exited.then(() => { done = true; });
    return {
      pid: shim.pid,
      wait: () => exited,
      kill: async (signal?: string) => {
        if (done) return;
        try { process.kill(shim.pid, toSignal(signal)); } catch { /* already gone */ }
      },
      resize: async (size: TtySize) => {
        if (!control) throw failedPrecondition(`the process exec'd in container ${this.id} has no terminal (exec it with tty)`);
        if (done) throw conflict(`the process exec'd in container ${this.id} has exited`);
        await resizeTerminal(control, size, `resize the terminal of a process in container ${this.id}`);
      },
    };
  }

  exportChanges(): ReadableStream<Uint8Array> {
    const mountPoints = ['proc', 'dev', 'sys', 'etc/hostname', 'etc/hosts', 'etc/resolv.conf', ...this.spec.mounts.map((m) => m.target.replace(/^\/+/, '').replace(/\/+$/, ''))];
    return exportChanges({ upperDir: this.dir.upper, helper: this.ctx.helper, mountPoints });
  }

  /** docker cp into the container (rootfs/import.ts): through /proc/PID/root while it runs, else its overlay mounted for the copy. */
  async importFiles(dir: string, tar: ReadableStream<Uint8Array>, options: CopyInOptions = {}): Promise<void> {
    const clean = (t: string) => `/${t.split('/').filter((p) => p && p !== '.').join('/')}`;
    const o = {
      noOverwriteDirNonDir: options.noOverwriteDirNonDir ?? false,
      mounts: this.spec.mounts.map((m) => ({ target: clean(m.target), readOnly: m.readOnly })),
      readOnlyRoot: this.spec.readOnlyRootfs ?? false,
      container: this.id.slice(0, 12),
      // docker cp -a: the container's user owns the files; without a user, the tar's owners stay.
      ...(options.copyUIDGID && this.spec.process.user ? { owner: this.bundleOptions(this.spec.process).user } : {}),
    };
    if (this.state === 'running' && this.current) return extractTar(new HostTree(`/proc/${this.current.pid}/root`, this.ctx.helper), dir, tar, o);
    await this.copying?.catch(() => {});
    if (!this.dir.prepareVolatileMount()) throw dataLoss(`container ${this.id}: the host restarted since it last ran, and its writable layer may have lost data; remove it and create a new one`);
    const annotations = this.config().annotations ?? {};
    const copy = withMergedRoot(
      { data: annotations['org.skiff.rootfs.overlay'] ?? '', layersDir: annotations['org.skiff.rootfs.overlay.dir'] ?? this.ctx.layersDir, at: this.dir.file(`cp-${randomBytes(4).toString('hex')}`) },
      async (root) => {
        const mounts: Array<{ target: string; tree: FileTree }> = [];
        for (const m of this.spec.mounts) {
          if (m.type === 'bind') mounts.push({ target: clean(m.target), tree: new HostTree(m.source, this.ctx.helper) });
          else if (m.type === 'volume' && m.volume.hostPath) mounts.push({ target: clean(m.target), tree: new HostTree(m.volume.hostPath, this.ctx.helper) });
          else if (m.type === 'volume' && m.volume.fs) mounts.push({ target: clean(m.target), tree: new FsTree(m.volume.fs as FsLike, m.volume.fsRoot ?? '/') });
        }
        await extractTar(new MountedTree(new HostTree(root, this.ctx.helper), mounts), dir, tar, o);
      },
    );
    this.copying = copy;
    try {
      await copy;
    } finally {
      if (this.copying === copy) this.copying = undefined;
    }
  }

  stats(): Promise<ProcessStats> {
    return this.ctx.cgroup.stats();
  }

  async remove(): Promise<void> {
    if (this.state === 'running') {
      // The contract says the process has exited; be safe anyway: nothing may outlive removal.
      await this.ctx.cgroup.killAll();
      await Promise.race([this.current?.exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    await this.ctx.cgroup.remove();
    await removeNetns(this.ctx.netns); // whatever its networks now: a change cut short may have left a name
    this.ctx.discard(this.dir);
    this.state = 'exited';
  }
}

function toExitStatus(e: ShimExit | { code: number; signal: number }, error?: string): ExitStatus {
  const s: ExitStatus = { exitCode: e.code };
  if (e.signal) {
    const name = signalName(e.signal);
    if (name) s.signal = name;
  }
  if (error) s.error = error;
  return s;
}
