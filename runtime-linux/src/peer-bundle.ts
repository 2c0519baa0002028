/**
 * A container's bundle for other OCI runtimes (runc, crun), for side-by-side
 * tests and benchmarks: the same config.json, with the overlay that
 * skiff-runtime mounts inside the container mounted here on the host instead
 * (same layers, a fresh upper dir), since runc and crun take a ready root.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { internal } from '@skiff/sdk';
import type { LinuxContainer } from './container.js';
import type { OciConfig } from './spec/oci.js';

export interface PeerBundle {
  /** The bundle directory: config.json and rootfs/. */
  dir: string;
  config: OciConfig;
  /** Unmounts the root and deletes the directory. */
  cleanup(): void;
}

export function preparePeerBundle(container: LinuxContainer, dir: string, edit?: (c: OciConfig) => void): PeerBundle {
  const config = container.config();
  const ann = config.annotations ?? {};
  const layersDir = ann['org.skiff.rootfs.overlay.dir'];
  const lower = /lowerdir=([^,]*)/.exec(ann['org.skiff.rootfs.overlay'] ?? '')?.[1];
  if (!layersDir || !lower) throw internal(`container ${container.id} has no overlay root to share`);
  const rootfs = join(dir, 'rootfs');
  for (const d of [rootfs, join(dir, 'upper'), join(dir, 'work')]) mkdirSync(d, { recursive: true });
  const r = spawnSync('mount', ['-t', 'overlay', '-o', `lowerdir=${lower},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, 'overlay', rootfs], { cwd: layersDir, encoding: 'utf8' });
  if (r.status !== 0) throw internal(`mount the overlay for a peer bundle at ${rootfs}: ${(r.stderr || r.error?.message || '').trim()}`);
  delete config.annotations;
  config.root.path = rootfs;
  edit?.(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 1));
  return {
    dir,
    config,
    cleanup() {
      spawnSync('umount', [rootfs]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
