/** Container records: what the Engine keeps about each container. */
import type { ContainerStatus } from './state.js';
import type { PortMapping, Resources, TtySize } from './backend.js';
import type { NetworkMode } from './options.js';
import type { NetworkAttachment } from './networks.js';
import type { HealthConfig } from '../image/types.js';
import type { HealthState } from './health.js';
import type { RestartPolicy } from './restart.js';
import type { LogConfig } from './log-config.js';
import type { ProcessSettings } from './process-settings.js';

export interface MountRecord {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind) or volume name. */
  source: string;
  target: string;
  readOnly: boolean;
  /** tmpfs: the mount options given (size=64m, noexec...). */
  options?: string[];
}

export interface ContainerState {
  status: ContainerStatus;
  exitCode: number;
  startedAt?: string;
  finishedAt?: string;
  pid?: number;
  oomKilled: boolean;
  error?: string;
  signal?: string;
  /** While running: published ports with the host ports actually bound. */
  ports?: PortMapping[];
  /** Running, with every process stopped where it is (docker pause). */
  paused?: boolean;
  /** While running, for a container with a health check. */
  health?: HealthState;
}

/** With docker's stop signal and timeout, rlimits, shm size, namespace modes, groups, DNS (ProcessSettings; absent: the default). */
export interface ContainerRecord extends ProcessSettings {
  id: string;
  name: string;
  /** The image as the user named it. */
  image: string;
  /** Image ID (config digest) and the manifest it came from. */
  imageId: string;
  manifestDigest: string;
  backend: string;
  created: string;
  /** The process as resolved from image defaults and options. */
  path: string;
  args: string[];
  env: string[];
  workingDir: string;
  user: string;
  entrypoint?: string[];
  cmd?: string[];
  tty: boolean;
  consoleSize?: TtySize;
  openStdin: boolean;
  stdinOnce?: boolean;
  hostname?: string;
  labels: Record<string, string>;
  mounts: MountRecord[];
  resources: Resources;
  readOnlyRootfs: boolean;
  /** Set when the user chose (CreateOptions.init); unset: the backend's default. */
  init?: boolean;
  /** `none`, `host`, or `container:<id>` (the container whose network this one shares). */
  network: NetworkMode;
  /** User-defined networks the container is on, with its address there. */
  networks?: NetworkAttachment[];
  extraHosts?: string[];
  restartPolicy?: RestartPolicy;
  /** Restarts by the policy since the user last started it. */
  restartCount?: number;
  /** Set by a stop or kill from the user: the policy does not undo it. */
  stoppedByUser?: boolean;
  /** The health check this container runs (the image's, with the create options over it). */
  healthcheck?: HealthConfig;
  /** Ports asked to be published (a host port of 0 is picked at each start). */
  ports?: PortMapping[];
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  /** docker's HostConfig.SecurityOpt, as given (checked at create). */
  securityOpt?: string[];
  autoRemove: boolean;
  timeoutMs?: number;
  /** The logging driver and its options (docker's HostConfig.LogConfig); absent in older records: json-file without rotation. */
  logConfig?: LogConfig;
  state: ContainerState;
  /** Names of anonymous volumes made for this container (removed with `rm -v`). */
  anonymousVolumes: string[];
}

/** Persists records; the Node store keeps them as JSON files beside the image store. */
export interface ContainerRecordStore {
  save(record: ContainerRecord): Promise<void>;
  load(id: string): Promise<ContainerRecord | undefined>;
  list(): Promise<ContainerRecord[]>;
  delete(id: string): Promise<void>;
}

export class MemoryRecordStore implements ContainerRecordStore {
  private records = new Map<string, ContainerRecord>();
  async save(r: ContainerRecord): Promise<void> { this.records.set(r.id, structuredClone(r)); }
  async load(id: string): Promise<ContainerRecord | undefined> {
    const r = this.records.get(id);
    return r ? structuredClone(r) : undefined;
  }
  async list(): Promise<ContainerRecord[]> { return [...this.records.values()].map((r) => structuredClone(r)); }
  async delete(id: string): Promise<void> { this.records.delete(id); }
}

/** What docker appends to "Up ..." for a running container: ` (Paused)`, ` (healthy)`, ` (health: starting)`. */
export function runningSuffix(s: ContainerState): string {
  if (s.paused) return ' (Paused)';
  if (!s.health) return '';
  return ` (${s.health.status === 'starting' ? 'health: starting' : s.health.status})`;
}
