/**
 * skiff's init layer (Docker's "-init" layer): one shared, read-only lower
 * dir on top of every container's image layers, holding the mount points the
 * helper binds files onto (/etc/hostname, /etc/hosts, /etc/resolv.conf).
 * Without it each start creates them in the container's upper dir, a copy-up
 * of /etc and the files: journal transactions on the start path. As in Docker, /etc then shows
 * this layer's owner and mode (root, 0755).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The layer's name relative to the layers directory (overlay lowerdir entries are relative to it). */
export const INIT_LAYER = '../init-layer';

/** Makes the init layer next to `layersDir` (once; it never changes). */
export function ensureInitLayer(layersDir: string): void {
  const root = join(layersDir, INIT_LAYER);
  const files = ['hostname', 'hosts', 'resolv.conf'];
  if (files.every((f) => existsSync(join(root, 'etc', f)))) return;
  mkdirSync(join(root, 'etc'), { recursive: true, mode: 0o755 });
  // A layer made by an older skiff gets the files it lacks (only added: running containers stack it).
  for (const f of files) if (!existsSync(join(root, 'etc', f))) writeFileSync(join(root, 'etc', f), '', { mode: 0o644 });
}
