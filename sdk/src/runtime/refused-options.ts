/**
 * The docker run/create options skiff cannot honour, by HostConfig field and
 * by flag, each with why: the daemon's create body refuses the fields, the
 * CLI the flags (docs/CREATE-FIELDS.md lists the rest).
 */

export type Check = (v: unknown) => boolean;
/** A value other than the docker CLI's empty default. */
export const set: Check = (v) => v !== undefined && v !== null && v !== '' && v !== 0 && v !== false && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/**
 * Container-create fields skiff cannot honour, with what the docker CLI sends
 * when they are not given (the check is "set to something else"): refused
 * with a 400, as dockerd refuses what it cannot do, never dropped unseen.
 * The fields skiff honours are mapped in the daemon's createOptionsFrom; the
 * rest of HostConfig (ContainerIDFile, Isolation "" on Linux) changes nothing.
 * skiff's own CLI has none of these flags and says why (refusedFlagReason).
 */
export const REFUSED: Array<[field: string, flag: string, check: Check, why: string]> = [
  ['VolumeDriver', '--volume-driver', set, 'volumes are local directories; drop the option'],
  ['VolumesFrom', '--volumes-from', set, 'name the volumes (-v NAME:/path) in each container'],
  ['Links', '--link', set, 'legacy links are not kept; put both containers on a network (skiff network create) and use the name'],
  ['Cgroup', '--cgroup', set, 'a container has a cgroup of its own'],
  ['CgroupParent', '--cgroup-parent', set, 'skiff places every container under its own cgroup'],
  ['UsernsMode', '--userns', (v) => set(v) && v !== 'host', 'containers run without a user namespace (as --userns host)'],
  ['StorageOpt', '--storage-opt', set, 'the writable layer is a plain overlay upper directory'],
  ['Annotations', '--annotation', set, 'OCI annotations are not passed on'],
  ['Isolation', '--isolation', (v) => set(v) && v !== 'default', 'that is a Windows option'],
  ['BlkioWeight', '--blkio-weight', set, 'skiff sets no block I/O limits'],
  ['BlkioWeightDevice', '--blkio-weight-device', set, 'skiff sets no block I/O limits'],
  ['BlkioDeviceReadBps', '--device-read-bps', set, 'skiff sets no block I/O limits'],
  ['BlkioDeviceWriteBps', '--device-write-bps', set, 'skiff sets no block I/O limits'],
  ['BlkioDeviceReadIOps', '--device-read-iops', set, 'skiff sets no block I/O limits'],
  ['BlkioDeviceWriteIOps', '--device-write-iops', set, 'skiff sets no block I/O limits'],
  ['CpuRealtimePeriod', '--cpu-rt-period', set, 'real-time CPU scheduling is not set up'],
  ['CpuRealtimeRuntime', '--cpu-rt-runtime', set, 'real-time CPU scheduling is not set up'],
  ['CpusetMems', '--cpuset-mems', set, 'only --cpuset-cpus is applied'],
  ['DeviceCgroupRules', '--device-cgroup-rule', set, 'the device rules are docker\'s defaults (or all devices with --privileged)'],
  ['DeviceRequests', '--gpus', set, 'GPUs are not passed through'],
  ['KernelMemory', '--kernel-memory', set, 'kernel memory limits are gone from current kernels; use --memory'],
  ['KernelMemoryTCP', '--kernel-memory-tcp', set, 'kernel memory limits are gone from current kernels; use --memory'],
  ['MemorySwappiness', '--memory-swappiness', (v) => v !== undefined && v !== null && v !== -1, 'the host\'s swappiness applies; use --memory-swap to limit swap'],
  ['OomKillDisable', '--oom-kill-disable', set, 'the kernel may always end a container over its memory limit; raise --memory instead'],
  ['CpuCount', '--cpu-count', set, 'that is a Windows option; use --cpus'],
  ['CpuPercent', '--cpu-percent', set, 'that is a Windows option; use --cpus'],
  ['IOMaximumIOps', '--io-maxiops', set, 'that is a Windows option'],
  ['IOMaximumBandwidth', '--io-maxbandwidth', set, 'that is a Windows option'],
];

/** Flags of docker run whose field is refused elsewhere (the create body's own checks). */
const OTHER_FLAGS: Array<[name: string, type: 'bool' | 'string' | 'list' | 'number', why: string]> = [
  ['device', 'list', 'devices are not passed through'],
  ['mac-address', 'string', 'addresses follow from each network\'s IP'],
  ['ip', 'string', 'each network hands out its addresses itself'],
  ['ip6', 'string', 'each network hands out its addresses itself'],
  ['link-local-ip', 'list', 'each network hands out its addresses itself'],
];

/** Booleans among the refused flags; the rest take a value. */
const BOOL_FLAGS = new Set(['--oom-kill-disable']);
/** Flags docker lets repeat. */
const LIST_FLAGS = new Set(['--volumes-from', '--link', '--blkio-weight-device', '--device-read-bps', '--device-write-bps', '--device-read-iops', '--device-write-iops', '--device-cgroup-rule', '--storage-opt', '--annotation']);

/** docker run's refused flags for skiff's CLI: name (no dashes), how it parses, why. */
export const REFUSED_FLAGS: Array<[name: string, type: 'bool' | 'string' | 'list' | 'number', why: string]> = [
  ...REFUSED.filter(([, flag]) => flag !== '--cgroup').map(([, flag, , why]) => [flag.slice(2), BOOL_FLAGS.has(flag) ? 'bool' : LIST_FLAGS.has(flag) ? 'list' : 'string', why] as [string, 'bool' | 'string' | 'list' | 'number', string]),
  ...OTHER_FLAGS,
];
