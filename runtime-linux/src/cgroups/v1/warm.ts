/**
 * Moving a process into a v1 cgroup (a cgroup.procs write) takes the global
 * cgroup_threadgroup_rwsem for writing; the first such write after about
 * 10-20 ms without one waits for an RCU grace period (5-15 ms on this
 * project's VMs; the kernel's `favordynmods` mount option exists for this).
 * Later writes in that window are fast. So the backend starts one early, at
 * create, on a libuv thread: this Node process rewrites its own pid into the
 * cgroup it is already in (no move), and the grace period runs while the
 * container is created and its helper clones, instead of while the container
 * waits to be let into its cgroups. Best effort: failures are ignored.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

/** This process's own cgroup.procs in the first of `mounts`' hierarchies (controller -> mount point). */
export function ownProcsFile(mounts: Record<string, string>, self = readFileSync('/proc/self/cgroup', 'utf8')): string | undefined {
  for (const line of self.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (!controllers || path === undefined) continue;
    for (const c of controllers.split(',')) {
      const mount = mounts[c];
      if (mount) return `${mount}${path === '/' ? '' : path}/cgroup.procs`;
    }
  }
  return undefined;
}

/** Starts a no-op migration of this process (see above); never rejects. */
export function warmMigration(procsFile: string): Promise<void> {
  return writeFile(procsFile, String(process.pid)).catch(() => {});
}
