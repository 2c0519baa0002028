/**
 * rmdir of a cgroup, retried while the kernel still counts exiting tasks
 * (EBUSY). Child cgroups go first, deepest first, as runc's RemovePath does:
 * a privileged container may make its own under its writable /sys/fs/cgroup.
 */
import { readdirSync, rmdirSync } from 'node:fs';
import { internal } from '@skiff/sdk';

function childCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${dir}/${e.name}`);
  } catch {
    return [];
  }
}

export async function removeCgroupDir(dir: string): Promise<void> {
  for (const child of childCgroups(dir)) await removeCgroupDir(child);
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 100) throw internal(`remove cgroup ${dir}: ${code ?? (err as Error).message}`, err);
      await new Promise((r) => setTimeout(r, i < 10 ? 2 : 20));
    }
  }
}
