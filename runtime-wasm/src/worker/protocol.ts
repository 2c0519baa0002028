/**
 * What the host and a container's worker say to each other.
 *
 * Calls go host -> worker through comlink (the worker exposes
 * `ContainerWorkerApi`). Everything the worker says while a guest runs goes
 * on a plain MessagePort as `WorkerEvent`s: a guest holds the worker's thread,
 * so the worker can send (postMessage is synchronous) but never wait for an
 * answer, and comlink replies would pile up unread. What the host asks while
 * a guest runs (exec) goes as a request on a port of its own with a bell the
 * guest's waits listen to (requests.ts); its reply comes as an event.
 */
import type { ContainerSpec, ExitStatus, Mount, ProcessStats, Resources } from '@skiff/sdk';
import type { FsChange, FsSnapshot } from './memory-fs.js';
import type { Reply } from './requests.js';

/** A blob reader the host lends the worker (layers are read once, when the container is made). */
export interface BlobSource {
  readBytes(digest: string): Promise<Uint8Array>;
}

/** Compiled modules the host keeps for every worker, by the file system's module key. */
export interface ModuleShare {
  get(key: string, limitPages: number): Promise<WebAssembly.Module | undefined>;
  put(key: string, limitPages: number, module: WebAssembly.Module): Promise<void>;
}

/**
 * A mount as it crosses to the worker. A volume held in the host's memory
 * (`volume.fs`) travels as a snapshot: the worker mounts a copy and reports
 * every change, which the host applies to the original.
 */
export type WorkerMount =
  | Exclude<Mount, { type: 'volume' }>
  | { type: 'volume'; volume: { name: string; hostPath?: string }; target: string; readOnly: boolean }
  | { type: 'volume'; volume: { name: string; snapshot: FsSnapshot; index: number }; target: string; readOnly: boolean };

export interface WorkerSpec extends Omit<ContainerSpec, 'mounts'> {
  mounts: WorkerMount[];
}

export interface CreateRequest {
  spec: WorkerSpec;
  /** Transferred: the worker's events (WorkerEvent) go out on it. */
  events: MessagePort;
  /** Where threads share memory: requests served while a guest runs (requests.ts); `port` is transferred. */
  requests?: { port: MessagePort; bell: SharedArrayBuffer };
}

/** How the guest's stdin arrives. */
export type StdinSource =
  | { kind: 'none' }
  /** A ring buffer the guest blocks on (stdin-channel.ts). */
  | { kind: 'shared'; buffer: SharedArrayBuffer }
  /** Read to EOF by the host before the start (no shared memory here). */
  | { kind: 'bytes'; data: Uint8Array };

export interface StartRequest {
  /** Tags this run's events. */
  run: number;
  stdin: StdinSource;
}

export interface ContainerWorkerApi {
  /**
   * Makes the container (its file system from the image's layers, its mounts).
   * `blobs` and `modules` are comlink proxies (comlink proxies top-level arguments only).
   */
  create(request: CreateRequest, blobs: BlobSource, modules?: ModuleShare): Promise<void>;
  /** Starts the main process; resolves once it runs. Its output and exit come as events. */
  start(request: StartRequest): Promise<void>;
  /** The container's changes as an uncompressed tar with OCI whiteouts. */
  exportChanges(): Promise<Uint8Array>;
  /** docker cp into the container: extracts the tar (transferred) into `dir`; never while a guest runs. */
  importFiles(dir: string, tar: Uint8Array, options: { noOverwriteDirNonDir?: boolean }): Promise<void>;
  stats(): Promise<ProcessStats>;
  /** docker update: the limits for the next start (a running guest keeps its memory cap). */
  updateResources(resources: Resources): Promise<void>;
  remove(): Promise<void>;
}

export type WorkerEvent =
  /** Output and exit of the main process or an exec (`run` tags which). */
  | { t: 'out'; run: number; fd: 1 | 2; data: Uint8Array }
  | { t: 'exit'; run: number; status: ExitStatus }
  | { t: 'volume'; index: number; change: FsChange }
  | Reply;
