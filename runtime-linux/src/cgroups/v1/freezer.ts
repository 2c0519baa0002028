/**
 * The cgroup v1 freezer (docker pause on a host without cgroup2), done as
 * runc's fs/freezer.go does it: write FROZEN to freezer.state and read it
 * back; FREEZING means some task has not stopped yet, and the v1 freezer can
 * stay there while new processes keep appearing (fork, exec joining), so the
 * write is repeated, with an occasional thaw and pause, and the cgroup is
 * thawed again if it never gets there. THAWED takes effect at once.
 */
import { deadlineExceeded, internal } from '@skiff/sdk';
import { readCgroupFile, writeCgroupFile } from '../fs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How often FROZEN is written before giving up (runc: 1000, without sleeps). */
const FREEZE_TRIES = 500;

export async function freezeV1(dir: string, frozen: boolean): Promise<void> {
  if (!frozen) return writeCgroupFile(dir, 'freezer.state', 'THAWED');
  try {
    for (let i = 0; i < FREEZE_TRIES; i++) {
      if (i % 50 === 49) {
        // As runc: letting the tasks run for a moment helps when new ones keep arriving.
        await writeCgroupFile(dir, 'freezer.state', 'THAWED');
        await sleep(10);
      }
      await writeCgroupFile(dir, 'freezer.state', 'FROZEN');
      const state = (await readCgroupFile(dir, 'freezer.state'))?.trim();
      if (state === 'FROZEN') return;
      if (state !== 'FREEZING') throw internal(`freeze ${dir}: freezer.state reads "${state ?? '(missing)'}" after writing FROZEN`);
      // The first tries back to back (most freezes finish at once), then yield the event loop.
      if (i >= 10) await sleep(1);
    }
  } catch (err) {
    await thawQuietly(dir); // half frozen is worse than not paused
    throw err;
  }
  await thawQuietly(dir);
  throw deadlineExceeded(`freeze ${dir}: still FREEZING after ${FREEZE_TRIES} tries (a process in uninterruptible sleep, or one forking without pause); the container was thawed again, try pausing it again later`);
}

/** freezer.state, trimmed; undefined when the cgroup has none. */
export async function freezerState(dir: string): Promise<string | undefined> {
  return (await readCgroupFile(dir, 'freezer.state'))?.trim();
}

async function thawQuietly(dir: string): Promise<void> {
  await writeCgroupFile(dir, 'freezer.state', 'THAWED').catch(() => {});
}
