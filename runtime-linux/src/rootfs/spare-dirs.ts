/**
 * Container directories (upper/, work/, an empty layers.json) made ahead of
 * time, off the start path: create then costs one rename. On this project's
 * VMs each inode ext4 allocates costs 0.3-1 ms (its allocator skips recently
 * deleted inodes, reading inode tables to find them). A spare is renamed into
 * spare/ only when complete, so a crash never leaves a half-made one.
 *
 * (Recycling removed containers' directories into spares would save the
 * allocations, but overlayfs writes trusted.overlay.uuid on the upper root at
 * the first mount, so telling an untouched upper dir from one whose xattrs a
 * container set needs listxattr, which Node lacks: not done.)
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { isAlive } from '../state.js';

export class SpareDirs {
  private readonly ready: string[] = [];
  private making?: Promise<void>;

  /** `dir` must be on the same file system as the containers' directories. */
  constructor(private readonly dir: string, private readonly keep = 8) {
    mkdirSync(dir, { recursive: true });
    for (const e of readdirSync(dir)) {
      if (!e.startsWith('.new-')) this.ready.push(join(dir, e));
      else if (!isAlive(Number(e.split('-')[1]))) rmSync(join(dir, e), { recursive: true, force: true }); // a crashed engine's half-made one
    }
  }

  /** Moves a spare to `target` (which must not exist); false when there is none. */
  take(target: string): boolean {
    for (let s = this.ready.pop(); s; s = this.ready.pop()) {
      try {
        renameSync(s, target);
        return true;
      } catch (err) {
        // ENOENT: another engine took it; anything else (EXDEV: containers/ on another file system): make one instead.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
      }
    }
    return false;
  }

  /** Makes new spares up to the pool size in the background. */
  refill(): void {
    if (this.making || this.ready.length >= this.keep) return;
    this.making = (async () => {
      while (this.ready.length < this.keep) {
        const name = randomBytes(8).toString('hex');
        const tmp = join(this.dir, `.new-${process.pid}-${name}`); // the pid: another engine on this state dir leaves it alone
        await mkdir(join(tmp, 'upper'), { recursive: true, mode: 0o755 });
        await mkdir(join(tmp, 'work'));
        await writeFile(join(tmp, 'layers.json'), '');
        await rename(tmp, join(this.dir, name));
        this.ready.push(join(this.dir, name));
      }
    })().catch(() => {}).finally(() => { this.making = undefined; });
  }

  /** Waits for a refill under way. */
  async settle(): Promise<void> {
    await this.making;
  }
}
