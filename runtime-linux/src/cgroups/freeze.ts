/**
 * Pausing (docker pause): the cgroup v2 freezer, `cgroup.freeze`, which every
 * cgroup2 directory has (also the unified side of a hybrid host), and
 * `cgroup.events` saying when every process has stopped or started again.
 * A v1-only host uses the v1 freezer controller instead (v1/freezer.ts).
 */
import { readKeyed, writeCgroupFile } from './fs.js';

export async function freezeCgroup2(dir: string, frozen: boolean): Promise<void> {
  await writeCgroupFile(dir, 'cgroup.freeze', frozen ? '1' : '0');
  for (let i = 0; i < 400; i++) {
    if ((await readKeyed(dir, 'cgroup.events', 'frozen')) === (frozen ? 1 : 0)) return;
    await new Promise((res) => setTimeout(res, 5));
  }
}
