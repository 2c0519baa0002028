/**
 * `POST /containers/{id}/update`: docker's UpdateConfig (HostConfig's
 * resource fields plus RestartPolicy) as the Engine's UpdateOptions. As in
 * dockerd, 0 (or null) leaves a field as it is. A field skiff cannot change is
 * refused (400) when it is set, never ignored; Block I/O weight is only warned
 * about and discarded, as dockerd does where the kernel lacks it.
 */
import { invalidArgument } from '../errors/index.js';
import type { RestartPolicy } from '../runtime/restart.js';
import type { ResourceUpdate, UpdateOptions } from '../runtime/update.js';

export interface DockerUpdateBody {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  PidsLimit?: number | null;
  BlkioWeight?: number;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number } | null;
  [field: string]: unknown;
}

/** What the docker CLI and dockerode send that skiff cannot change, with the flag users know it by. */
const UNSUPPORTED: Record<string, string> = {
  CgroupParent: '--cgroup-parent',
  BlkioWeightDevice: '--blkio-weight-device',
  BlkioDeviceReadBps: '--device-read-bps',
  BlkioDeviceWriteBps: '--device-write-bps',
  BlkioDeviceReadIOps: '--device-read-iops',
  BlkioDeviceWriteIOps: '--device-write-iops',
  CpuRealtimePeriod: '--cpu-rt-period',
  CpuRealtimeRuntime: '--cpu-rt-runtime',
  CpusetMems: '--cpuset-mems',
  Devices: '--device',
  DeviceCgroupRules: '--device-cgroup-rule',
  DeviceRequests: '--gpus',
  KernelMemory: '--kernel-memory',
  KernelMemoryTCP: 'kernel TCP memory',
  MemorySwappiness: '--memory-swappiness',
  OomKillDisable: '--oom-kill-disable',
  Ulimits: '--ulimit',
  CpuCount: '--cpu-count',
  CpuPercent: '--cpu-percent',
  IOMaximumIOps: '--io-maxiops',
  IOMaximumBandwidth: '--io-maxbandwidth',
};

const HANDLED = new Set(['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'PidsLimit', 'BlkioWeight', 'RestartPolicy']);

/** Zero values are how Go clients say "not set". */
function isSet(v: unknown): boolean {
  if (v === null || v === undefined || v === 0 || v === '' || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function num(body: DockerUpdateBody, key: string): number | undefined {
  const v = body[key];
  if (v === null || v === undefined || v === 0) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidArgument(`invalid ${key} ${JSON.stringify(v)}: it must be a number`);
  return v;
}

/** The update and dockerd's warnings; `hostCpus` bounds NanoCpus as dockerd does. */
export function updateOptionsFrom(body: DockerUpdateBody, hostCpus: number): { options: UpdateOptions; warnings: string[] } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('the update request needs a JSON object body (HostConfig resource fields and RestartPolicy)');
  for (const [key, value] of Object.entries(body)) {
    if (HANDLED.has(key) || !isSet(value)) continue;
    // 400, as dockerd answers a request it cannot carry out as asked.
    if (UNSUPPORTED[key]) throw invalidArgument(`skiff cannot update ${key} (${UNSUPPORTED[key]}); it changes memory, memory-swap, memory-reservation, cpus, cpu-shares, cpu-period, cpu-quota, cpuset-cpus, pids-limit and the restart policy`);
    throw invalidArgument(`unknown field "${key}" in the update request`);
  }
  const warnings: string[] = [];
  const r: ResourceUpdate = {};
  const set = <K extends keyof ResourceUpdate>(k: K, v: ResourceUpdate[K] | undefined) => { if (v !== undefined) r[k] = v; };
  set('memoryBytes', num(body, 'Memory'));
  set('memorySwapBytes', num(body, 'MemorySwap'));
  set('memoryReservationBytes', num(body, 'MemoryReservation'));
  const nano = num(body, 'NanoCpus');
  if (nano !== undefined) {
    if (nano < 0 || nano > hostCpus * 1e9) throw invalidArgument(`Range of CPUs is from 0.01 to ${hostCpus}.00, as there are only ${hostCpus} CPUs available`);
    r.cpus = nano / 1e9;
  }
  set('cpuShares', num(body, 'CpuShares'));
  set('cpuPeriodUs', num(body, 'CpuPeriod'));
  set('cpuQuotaUs', num(body, 'CpuQuota'));
  if (isSet(body.CpusetCpus)) {
    if (typeof body.CpusetCpus !== 'string') throw invalidArgument(`invalid CpusetCpus ${JSON.stringify(body.CpusetCpus)}: it must be a string like "0-2,4"`);
    r.cpusetCpus = body.CpusetCpus;
  }
  // null leaves it; 0 and -1 both mean unlimited.
  if (body.PidsLimit !== null && body.PidsLimit !== undefined) {
    if (typeof body.PidsLimit !== 'number') throw invalidArgument(`invalid PidsLimit ${JSON.stringify(body.PidsLimit)}: it must be a number`);
    r.pidsLimit = body.PidsLimit === 0 ? -1 : body.PidsLimit;
  }
  // dockerd, without the controller, warns and discards it before it checks the range: so do we.
  if (num(body, 'BlkioWeight') !== undefined) warnings.push('skiff does not support Block I/O weight. Weight discarded.');
  const options: UpdateOptions = {};
  if (Object.keys(r).length) options.resources = r;
  const p = body.RestartPolicy;
  if (p?.Name) options.restartPolicy = { name: p.Name as RestartPolicy['name'], ...(p.MaximumRetryCount ? { maximumRetryCount: p.MaximumRetryCount } : {}) };
  return { options, warnings };
}
