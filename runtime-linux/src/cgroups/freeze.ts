/**
 * Pausing (docker pause): the cgroup v2 freezer, `cgroup.freeze`, which every
 * cgroup2 directory has (also the unified side of a hybrid host), and
 * `cgroup.events` saying when every process has stopped or started again.
 */
import { unsupported } from '@skiff/sdk';
import { readKeyed, writeCgroupFile } from './fs.js';

export async function freezeCgroup2(dir: string | undefined, frozen: boolean): Promise<void> {
  if (!dir) throw unsupported('pausing containers needs the cgroup v2 freezer (a cgroup2 hierarchy, v2 or hybrid); this host has cgroup v1 only');
  await writeCgroupFile(dir, 'cgroup.freeze', frozen ? '1' : '0');
  for (let i = 0; i < 400; i++) {
    if ((await readKeyed(dir, 'cgroup.events', 'frozen')) === (frozen ? 1 : 0)) return;
    await new Promise((res) => setTimeout(res, 5));
  }
}
