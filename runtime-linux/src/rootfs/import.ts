/**
 * docker cp into a Linux container: the sdk's extractTar over host
 * directories, with the kernel doing the overlay's work (copy-up, whiteouts
 * a new file replaces, opaque directories):
 *
 * - running: through /proc/PID/root, the container's own view (its overlay
 *   and its mounts, read-only ones answering EROFS);
 * - created or exited: the overlay is mounted on a directory of the
 *   container's for the copy (never mounted twice: start waits for it), and
 *   bind mounts and volumes are reached at their sources (MountedTree).
 *
 * Device nodes and FIFOs are made by the helper (Node cannot), below the root
 * with openat2(RESOLVE_IN_ROOT). Whiteout-looking names in the tar are plain
 * files: only the overlay mount makes whiteouts.
 */
import * as nodeFs from 'node:fs';
import { mkdirSync, rmdirSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FsTree, internal, type FsLike, type TarHeader } from '@skiff/sdk';
import { SpecialFiles } from './special.js';

const run = promisify(execFile);

/** A host directory as a container's tree, with device nodes and FIFOs through the helper. */
export class HostTree extends FsTree {
  private readonly special = new SpecialFiles();

  constructor(root: string, private readonly helper: string) {
    super(nodeFs as unknown as FsLike, root);
  }

  mknod(path: string, h: TarHeader): void {
    const rel = path.replace(/^\/+/, '');
    if (h.type === 'fifo') this.special.fifo(rel, h.mode, h.uid, h.gid);
    else this.special.device(h.type === 'block' ? 'b' : 'c', rel, h.mode, h.devmajor ?? 0, h.devminor ?? 0, h.uid, h.gid);
  }

  async finish(): Promise<void> {
    await this.special.apply(this.helper, this.root);
  }
}

/**
 * Mounts the container's overlay (its option string, without `volatile`, so
 * the copy is synced at unmount) on `at` for the time of `f`. Lower dirs are
 * relative to `layersDir`, as in the bundle, which keeps long stacks in a page.
 */
export async function withMergedRoot<T>(o: { data: string; layersDir: string; at: string; flags?: string }, f: (root: string) => Promise<T>): Promise<T> {
  mkdirSync(o.at, { recursive: true });
  const data = o.data.split(',').filter((x) => x !== 'volatile').join(',');
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', [data, ...(o.flags ? [o.flags] : [])].join(','), o.at], { cwd: o.layersDir });
  } catch (err) {
    rmdirSync(o.at);
    throw internal(`mount the container's overlay on ${o.at} for the copy: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, err);
  }
  try {
    return await f(o.at);
  } finally {
    try {
      await run('umount', [o.at]);
      rmdirSync(o.at);
    } catch {
      // Busy (a process of ours still in it): detach it, it goes when the last user does.
      await run('umount', ['-l', o.at]).catch(() => {});
    }
  }
}
