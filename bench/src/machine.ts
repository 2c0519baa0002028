import { cpus, release, totalmem } from 'node:os';
import { existsSync } from 'node:fs';

/** The machine a run was measured on, written beside the figures. */
export function machineInfo(): Record<string, string> {
  const cgroup = existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : existsSync('/sys/fs/cgroup/unified') ? 'v1 + v2 hybrid' : existsSync('/sys/fs/cgroup/memory') ? 'v1' : 'none';
  return {
    cores: String(cpus().length),
    cpu: cpus()[0]?.model ?? 'unknown',
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    kernel: release(),
    node: process.version,
    cgroups: cgroup,
  };
}
