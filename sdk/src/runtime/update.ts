/**
 * docker update: new limits and restart policy for an existing container.
 * The rules are dockerd's, in two steps as it has them: the request alone
 * (daemon_unix.go's verifyPlatformContainerResources, with update=true),
 * then the request against what the container has (container.UpdateContainer):
 * a field left out (or 0, as the Docker API sends it) keeps its value.
 */
import { conflict, invalidArgument } from '../errors/index.js';
import type { Resources } from './backend.js';
import { checkRestartPolicy, parseRestartPolicy, type RestartPolicy } from './restart.js';

/** What `docker update` may change: the resources; an absent field stays as it is (pidsLimit 0 or -1: no limit). */
export type ResourceUpdate = Resources;

export interface UpdateOptions {
  resources?: ResourceUpdate;
  /** `always`, `on-failure:3`, or the object; `no` removes the policy. */
  restartPolicy?: RestartPolicy | string;
}

const MIN_MEMORY = 6 * 1024 * 1024;
const CPUSET = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** The request on its own, as dockerd checks it before looking at the container (INVALID_ARGUMENT). */
export function checkResourceUpdate(u: ResourceUpdate): void {
  const bad = (msg: string) => invalidArgument(msg);
  const int = (v: number | undefined, what: string) => {
    if (v !== undefined && !Number.isInteger(v)) throw bad(`invalid ${what} ${v}: it must be a whole number`);
  };
  int(u.memoryBytes, 'memory limit');
  int(u.memorySwapBytes, 'memory+swap limit');
  int(u.memoryReservationBytes, 'memory reservation');
  int(u.cpuQuotaUs, 'CPU quota');
  int(u.cpuPeriodUs, 'CPU period');
  int(u.cpuShares, 'CPU shares');
  int(u.pidsLimit, 'pids limit');
  if (u.memoryBytes !== undefined && u.memoryBytes < MIN_MEMORY) throw bad('Minimum memory limit allowed is 6MB');
  if (u.memorySwapBytes !== undefined && u.memorySwapBytes < -1) throw bad(`invalid memory+swap limit ${u.memorySwapBytes}: use a size at least the memory limit, or -1 for unlimited swap`);
  if (u.memoryBytes !== undefined && u.memorySwapBytes !== undefined && u.memorySwapBytes > 0 && u.memorySwapBytes < u.memoryBytes) {
    throw bad('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (u.memoryReservationBytes !== undefined && u.memoryReservationBytes < MIN_MEMORY) throw bad('Minimum memory reservation allowed is 6MB');
  if (u.memoryBytes !== undefined && u.memoryReservationBytes !== undefined && u.memoryBytes < u.memoryReservationBytes) {
    throw bad('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (u.cpus !== undefined && !(Number.isFinite(u.cpus) && u.cpus > 0)) throw bad(`invalid --cpus ${u.cpus}: it must be a positive number like 0.5`);
  if (u.cpus !== undefined && u.cpuPeriodUs !== undefined) throw bad('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (u.cpus !== undefined && u.cpuQuotaUs !== undefined) throw bad('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (u.cpuPeriodUs !== undefined && (u.cpuPeriodUs < 1000 || u.cpuPeriodUs > 1_000_000)) throw bad('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (u.cpuQuotaUs !== undefined && u.cpuQuotaUs !== -1 && u.cpuQuotaUs < 1000) throw bad('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (u.cpuShares !== undefined && (u.cpuShares < 2 || u.cpuShares > 262_144)) throw bad(`invalid CPU shares ${u.cpuShares}: use 2 to 262144 (1024 is the default weight)`);
  if (u.cpusetCpus !== undefined && !CPUSET.test(u.cpusetCpus)) throw bad(`Invalid value ${u.cpusetCpus} for cpuset cpus: use CPU numbers and ranges like 0-2,4`);
  if (u.pidsLimit !== undefined && u.pidsLimit < -1) throw bad(`invalid --pids-limit ${u.pidsLimit}: use a positive integer (or -1 for unlimited)`);
}

/**
 * The container's resources after the update (a new object). Conflicts with
 * what it has are CONFLICT, worded as dockerd's, as `Cannot update container ID: ...`.
 */
export function mergeResources(id: string, cur: Resources, u: ResourceUpdate): Resources {
  checkResourceUpdate(u);
  const clash = (msg: string) => conflict(`Cannot update container ${id}: ${msg}`);
  // --cpus sets the quota and period itself: once one way is set, the other cannot be.
  if (u.cpus !== undefined && cur.cpuPeriodUs !== undefined) throw clash('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (u.cpus !== undefined && cur.cpuQuotaUs !== undefined) throw clash('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (u.cpuPeriodUs !== undefined && cur.cpus !== undefined) throw clash('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (u.cpuQuotaUs !== undefined && cur.cpus !== undefined) throw clash('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  // Without a memory+swap limit of its own, swap follows the memory limit (none on top): only an explicit one can be passed.
  if (u.memoryBytes !== undefined && u.memorySwapBytes === undefined && cur.memorySwapBytes !== undefined && cur.memorySwapBytes > 0 && u.memoryBytes > cur.memorySwapBytes) {
    throw clash('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  const next: Resources = { ...cur };
  for (const key of ['memoryBytes', 'memorySwapBytes', 'memoryReservationBytes', 'cpus', 'cpuQuotaUs', 'cpuPeriodUs', 'cpuShares', 'cpusetCpus'] as const) {
    if (u[key] !== undefined) (next as Record<string, unknown>)[key] = u[key];
  }
  if (u.pidsLimit !== undefined) {
    if (u.pidsLimit > 0) next.pidsLimit = u.pidsLimit;
    else delete next.pidsLimit;
  }
  // The whole, checked again: a request can be fine alone and wrong with what is kept.
  checkResources(next);
  return next;
}

/** A container's limits as a whole (at create, and after an update): swap needs a memory limit at or below it; the reservation stays below the limit. */
export function checkResources(r: Resources): void {
  const mem = r.memoryBytes;
  if (r.memorySwapBytes !== undefined && r.memorySwapBytes > 0) {
    if (mem === undefined) throw invalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage');
    if (r.memorySwapBytes < mem) throw invalidArgument(`Minimum memoryswap limit should be larger than memory limit, see usage (memory ${mem}, memory+swap ${r.memorySwapBytes})`);
  }
  if (mem !== undefined && r.memoryReservationBytes !== undefined && mem < r.memoryReservationBytes) {
    throw invalidArgument(`Minimum memory limit can not be less than memory reservation limit, see usage (memory ${mem}, reservation ${r.memoryReservationBytes})`);
  }
}

/** The restart policy after the update: undefined removes it. `--rm` containers take none but `no`. */
export function updatedRestartPolicy(id: string, autoRemove: boolean, p: RestartPolicy | string): RestartPolicy | undefined {
  const policy = typeof p === 'string' ? parseRestartPolicy(p) : checkRestartPolicy(p);
  if (policy.name === 'no') return undefined;
  if (autoRemove) throw conflict(`Cannot update container ${id}: Restart policy cannot be updated because AutoRemove is enabled for the container`);
  return policy;
}

/** Which limits differ, by name (what a backend must change). */
export function changedResources(a: Resources, b: Resources): Array<keyof Resources> {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as Array<keyof Resources>);
  return [...keys].filter((k) => a[k] !== b[k]);
}
