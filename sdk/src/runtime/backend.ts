/**
 * The Backend contract: the small part of a container runtime that differs
 * between Linux and WASI. The Engine owns everything else (images, records,
 * state machine, volumes, logs) and calls a backend only through this file.
 *
 * Lifecycle of a BackendContainer, driven by the Engine:
 *
 *   create(spec) ──> start(stdio) ──> wait() resolves ──> start(stdio) again ...
 *        │                 │                                      │
 *        └──────────── remove() (tears down the writable layer) ──┘
 *
 * - `create` prepares the root file system (the image's layers, shared and
 *   read-only, plus a writable layer of the container's own) and checks the
 *   spec; it starts no process.
 * - `start` resolves once the process runs (or has already finished, for a
 *   very short one); `wait` resolves with its exit status.
 * - The writable layer survives process exit and is discarded by `remove`.
 * - A backend that cannot do something says so in `capabilities` and throws
 *   SkiffError UNSUPPORTED when asked; it never silently ignores an option.
 */
import type { Provider } from '../content/types.js';
import type { Descriptor, ImageConfig, Platform } from '../image/types.js';
import type { LogLimits } from './log-config.js';
import type { HostNamespace, Ulimit } from './process-settings.js';
import type { DockerSeccompProfile } from './security-opt.js';

export interface LayerRef {
  /** The layer blob as stored (usually tar+gzip). */
  descriptor: Descriptor;
  /** Digest of the uncompressed tar (config.rootfs.diff_ids). */
  diffId: string;
}

export interface ImageSpec {
  /** Image ID: the config digest. */
  id: string;
  config: ImageConfig;
  /** Bottom layer first. */
  layers: LayerRef[];
}

/** A node-fs-shaped synchronous API (node:fs or a memfs Volume). */
export type FsLike = typeof import('node:fs');

/** Where a named volume's data lives. */
export interface VolumeHandle {
  name: string;
  /** Directory on the host (Node): every backend can use it. */
  hostPath?: string;
  /** In-memory file system (browsers, tests): used by the WASI backend. */
  fs?: FsLike;
  /** The root of the volume inside `fs`. */
  fsRoot?: string;
}

export type Mount =
  | { type: 'bind'; source: string; target: string; readOnly: boolean }
  | { type: 'volume'; volume: VolumeHandle; target: string; readOnly: boolean }
  | { type: 'tmpfs'; target: string; readOnly: false; sizeBytes?: number; /** docker's tmpfs options (size=64m, mode=700, noexec...); needs capabilities.tmpfsOptions. */ options?: string[] };

export interface ProcessSpec {
  /** argv; args[0] is the program (a path in the container, or a name found on PATH). */
  args: string[];
  /** KEY=VALUE */
  env: string[];
  /** Absolute working directory in the container. */
  cwd: string;
  /** `uid[:gid]` or a user name from the image's /etc/passwd; empty means root. */
  user?: string;
  tty?: boolean;
  /** With tty: the terminal's window size from the start (docker's ConsoleSize); resize changes it later. */
  consoleSize?: TtySize;
}

/**
 * Limits on a container's resources, as docker's HostConfig has them. Absent
 * means the default (no limit, the kernel's weight). `docker update` changes
 * them (see runtime/update.ts); BackendContainer.updateResources applies them.
 */
export interface Resources {
  memoryBytes?: number;
  /**
   * Memory plus swap (docker's MemorySwap); -1 lets it swap without limit.
   * Absent: no swap on top of memoryBytes (skiff's default; docker allows as much swap again).
   */
  memorySwapBytes?: number;
  /** The soft limit the kernel reclaims down to under pressure (docker's MemoryReservation). */
  memoryReservationBytes?: number;
  /** CPU quota in CPUs, e.g. 0.5 (docker's NanoCpus); never with cpuQuotaUs/cpuPeriodUs. */
  cpus?: number;
  /** CFS quota per period in microseconds (docker's CpuQuota; -1 no quota). */
  cpuQuotaUs?: number;
  /** CFS period in microseconds, 1000 to 1000000 (docker's CpuPeriod; default 100000). */
  cpuPeriodUs?: number;
  /** Relative CPU weight (docker's CpuShares; the kernel's default is 1024). */
  cpuShares?: number;
  /** The CPUs it may run on, e.g. `0-2,4` (docker's CpusetCpus). */
  cpusetCpus?: string;
  pidsLimit?: number;
}

/** A container port published on the host (`docker run -p`). */
export interface PortMapping {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** The host address to listen on; empty means every address. */
  hostIp: string;
  /** 0 asks for a port the kernel picks. */
  hostPort: number;
}

export interface ContainerSpec {
  id: string;
  image: ImageSpec;
  process: ProcessSpec;
  mounts: Mount[];
  hostname?: string;
  /** The NIS domain name (docker's --domainname); needs capabilities.hostname. */
  domainname?: string;
  readOnlyRootfs?: boolean;
  /** PID 1 is an init (reaps zombies, forwards signals); unset: the backend's default. Backends without processes ignore it. */
  init?: boolean;
  resources?: Resources;
  /** `none` (loopback only; the default), `host`. */
  network?: 'none' | 'host';
  /**
   * Share the network namespace of another running container (docker's
   * `--network container:NAME`): its host PID, checked at start.
   */
  joinNetworkOf?: { id: string; pid: number };
  /** Extra /etc/hosts entries, `name:ip` (docker's `--add-host`). */
  extraHosts?: string[];
  /** User-defined networks: the container gets an interface on each bridge, with this address. */
  networks?: Array<{ name: string; bridge: string; ip: string; prefixLength: number; gateway: string }>;
  /** Ports to publish on the host; never set with network `host` (its ports are the host's). */
  ports?: PortMapping[];
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** Set no_new_privs (`--security-opt no-new-privileges`); off by default, as in Docker. */
  noNewPrivileges?: boolean;
  /** The system call filter: unset, the backend's default; `unconfined`, none; or a Docker-format profile. */
  seccomp?: 'unconfined' | DockerSeccompProfile;
  /** `--security-opt systempaths=unconfined`: no masked or read-only paths under /proc. */
  unmaskSystemPaths?: boolean;
  /** Namespaces shared with the host instead of new ones (docker's --pid/--ipc/--uts/--cgroupns host); needs capabilities.hostNamespaces. */
  hostNamespaces?: HostNamespace[];
  /** The process's rlimits (docker's --ulimit); needs capabilities.rlimits. */
  ulimits?: Ulimit[];
  /** Size of the /dev/shm tmpfs (docker's --shm-size; the backend's default is docker's 64 MiB); needs capabilities.shmSize. */
  shmSizeBytes?: number;
  /** Supplementary groups of every process, names from the image's /etc/group or numbers (docker's --group-add); needs capabilities.users. */
  groupAdd?: string[];
  /** /etc/resolv.conf's name servers, search domains, options (docker's --dns*); needs capabilities.dns. */
  dns?: { servers?: string[]; search?: string[]; options?: string[] };
  /** /proc/self/oom_score_adj of the process (docker's --oom-score-adj); needs capabilities.oomScoreAdj. */
  oomScoreAdj?: number;
  /** Namespaced kernel parameters, set in the container's own namespaces (docker's --sysctl); needs capabilities.sysctls. */
  sysctls?: Record<string, string>;
  /** Wall-clock limit on one run; the process is killed when it passes. */
  timeoutMs?: number;
  /** Keep the process's stdin open while attachers come and go (docker's OpenStdin); see attachStdin. */
  openStdin?: boolean;
  /** With openStdin: stdin closes when the first attacher's input ends (docker's StdinOnce). */
  stdinOnce?: boolean;
  /**
   * Where a backend with capabilities.writesLogs appends the process's output
   * itself, as the Engine's log store does (JSON lines: stream, time, base64
   * log), so output is kept when no Engine process is reading it. The Engine
   * then stores nothing of that output itself.
   */
  logPath?: string;
  /**
   * With logPath: rotate it by size, as the log store does (LogStore.append's
   * limits): PATH -> PATH.1 -> PATH.2 ..., between lines, keeping maxFiles.
   */
  logLimits?: LogLimits;
  /** WASI: a fixed clock and seeded random so output never varies. */
  deterministic?: { seed?: number; timeNs?: bigint };
}

export interface Stdio {
  /** Closed (EOF) when absent (with openStdin: no attacher yet). */
  stdin?: ReadableStream<Uint8Array>;
  stdout: WritableStream<Uint8Array>;
  stderr: WritableStream<Uint8Array>;
}

export interface ExitStatus {
  exitCode: number;
  /** Set when a signal ended the process, e.g. SIGKILL. */
  signal?: string;
  oomKilled?: boolean;
  /** Why the runtime ended it (a WASI trap, a timeout...). */
  error?: string;
}

export interface ProcessStats {
  memoryBytes?: number;
  memoryLimitBytes?: number;
  cpuNanos?: number;
  pids?: number;
}

/** A terminal's window size. */
export interface TtySize {
  rows: number;
  cols: number;
}

/** A process started beside the container's main one (`exec`). */
export interface BackendProcess {
  readonly pid?: number;
  wait(): Promise<ExitStatus>;
  kill(signal?: string): Promise<void>;
  /** Sets the window size of the process's terminal (ProcessSpec.tty). */
  resize?(size: TtySize): Promise<void>;
}

export interface BackendContainer {
  readonly id: string;
  /** Host PID of the main process while it runs, where the backend has one. */
  readonly pid?: number;
  /**
   * Replaces the /etc/hosts entries that name the other containers of its
   * networks (`name:ip`), running or not; called before start and when a peer comes or goes.
   */
  updateHosts?(entries: string[]): Promise<void>;
  /** Stops every process of the running container where it is (docker pause); `unpause` lets them go on. */
  pause?(): Promise<void>;
  unpause?(): Promise<void>;
  /**
   * Replaces the user-defined networks of a container. Stopped: they apply at
   * its next start. Running: the interfaces of networks it left go and those
   * of new ones come up at once, with their addresses (a backend that cannot
   * change a running container's networks throws UNSUPPORTED).
   */
  setNetworks?(networks: NonNullable<ContainerSpec['networks']>): Promise<void>;
  /**
   * New resource limits, whole (docker update): kept for later starts, and
   * applied at once while the process runs. A limit the backend cannot change
   * now throws (UNSUPPORTED, or the kernel's refusal) and changes nothing.
   */
  updateResources?(resources: Resources): Promise<void>;
  /** While it runs: the ports published for it, with the host ports actually bound. */
  readonly publishedPorts?: PortMapping[];
  start(stdio: Stdio): Promise<void>;
  wait(): Promise<ExitStatus>;
  /** Default SIGKILL. Needs capabilities.signals for anything but SIGKILL. */
  kill(signal?: string): Promise<void>;
  exec(process: ProcessSpec, stdio: Stdio): Promise<BackendProcess>;
  /**
   * Another attacher's input for the running process's stdin (spec.openStdin):
   * copied until it ends, which detaches it (and closes stdin with stdinOnce).
   * Works from any Engine process, not only the one that started the container.
   */
  attachStdin?(input: ReadableStream<Uint8Array>): Promise<void>;
  /** Sets the window size of the main process's terminal. */
  resize?(size: TtySize): Promise<void>;
  /** What the container changed, as an uncompressed tar with OCI whiteouts. */
  exportChanges(): ReadableStream<Uint8Array>;
  /**
   * Extracts an uncompressed tar into the directory `dir` (absolute) of the
   * container's file system, created, running or exited (`docker cp SRC
   * CONTAINER:DIR`). Writes go to the container's writable layer, or to a
   * mount's source under a bind mount or volume; nothing escapes the
   * container's root. Errors: NOT_FOUND (no `dir`), INVALID_ARGUMENT (`dir` is
   * not a directory, a read-only root or mount, a bad archive). The policy is
   * the sdk's `extractTar`; a backend gives it a FileTree. Absent: UNSUPPORTED.
   */
  importFiles?(dir: string, tar: ReadableStream<Uint8Array>, options?: CopyInOptions): Promise<void>;
  stats(): Promise<ProcessStats>;
  /** Discards the writable layer and every resource; the process must have exited. */
  remove(): Promise<void>;
}

/** How `importFiles` treats what is already there and who owns the new files. */
export interface CopyInOptions {
  /** Refuse to replace a directory with a non-directory or the reverse. */
  noOverwriteDirNonDir?: boolean;
  /** Files belong to the container's user (`docker cp -a`; a container without a user keeps the tar's owners). */
  copyUIDGID?: boolean;
}

export interface BackendCapabilities {
  /** Signals other than a kill (SIGTERM, SIGHUP...). */
  signals: boolean;
  exec: boolean;
  tty: boolean;
  bindMounts: boolean;
  memoryLimit: boolean;
  cpuLimit: boolean;
  pidsLimit: boolean;
  /** The finer cgroup limits: swap, memory reservation, CPU shares, CFS quota and period, cpuset. */
  cgroupResources?: boolean;
  users: boolean;
  hostname: boolean;
  /** `--network host`. */
  network: boolean;
  /** Publishing container ports on the host (`-p`); the container then reports `publishedPorts`. */
  publishPorts: boolean;
  /** User-defined networks (a bridge per network, an address per container). */
  networks?: boolean;
  /** Sharing the host's PID, IPC, UTS or cgroup namespace (spec.hostNamespaces). */
  hostNamespaces?: boolean;
  /** Process rlimits (spec.ulimits). */
  rlimits?: boolean;
  /** A /dev/shm of a chosen size (spec.shmSizeBytes). */
  shmSize?: boolean;
  /** A resolv.conf of the given name servers, search domains and options (spec.dns). */
  dns?: boolean;
  /** spec.oomScoreAdj. */
  oomScoreAdj?: boolean;
  /** spec.sysctls. */
  sysctls?: boolean;
  /** Mount options of a tmpfs (size, mode, noexec...). */
  tmpfsOptions?: boolean;
  /** The backend writes spec.logPath itself (output outlives the Engine process that started it). */
  writesLogs?: boolean;
}

export interface BackendContext {
  /** Where layer blobs are read from. */
  content: Provider;
  /** A directory the backend may own for caches and state (Node only). */
  stateDir?: string;
}

export interface Backend {
  /** `linux`, `wasm`. */
  readonly name: string;
  /** The platforms this backend runs, in order of preference. */
  readonly platforms: Platform[];
  readonly capabilities: BackendCapabilities;
  /** Called once by the Engine before first use. */
  init(ctx: BackendContext): Promise<void>;
  create(spec: ContainerSpec): Promise<BackendContainer>;
  /**
   * After an Engine restart: reattach to a container created by an earlier
   * process, or return undefined when the backend kept nothing of it.
   */
  restore?(id: string, spec: ContainerSpec): Promise<BackendContainer | undefined>;
  close?(): Promise<void>;
  /** Tears down what the backend made on the host for a network (its bridge). */
  removeNetwork?(network: { name: string; bridge: string }): Promise<void>;
}

export interface BackendFactory {
  (): Backend | Promise<Backend>;
}
