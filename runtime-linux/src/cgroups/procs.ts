/** Finding and killing the processes of a cgroup. */
import { readCgroupFile } from './fs.js';
import { internal } from '@skiff/sdk';

export async function procsOf(dirs: string[]): Promise<number[]> {
  const all = new Set<number>();
  for (const d of dirs) {
    const s = await readCgroupFile(d, 'cgroup.procs');
    for (const line of (s ?? '').split('\n')) if (line.trim()) all.add(Number(line));
  }
  return [...all];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGKILLs what is listed until nothing is (a fork bomb may add processes meanwhile). */
export async function killUntilEmpty(dirs: string[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; ; round++) {
    const pids = await procsOf(dirs);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    if (Date.now() > deadline) throw internal(`cgroup ${dirs[0]} still has processes ${pids.slice(0, 10).join(', ')} after SIGKILL for ${timeoutMs} ms`);
    await sleep(round < 20 ? 2 : 20);
  }
}
