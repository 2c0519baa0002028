/** rmdir of a cgroup, retried while the kernel still counts exiting tasks (EBUSY). */
import { rmdirSync } from 'node:fs';
import { internal } from '@skiff/sdk';

export async function removeCgroupDir(dir: string): Promise<void> {
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
