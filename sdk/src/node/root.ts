import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where skiff keeps its store: --root, else $SKIFF_ROOT, else /var/lib/skiff
 * for root and ~/.local/share/skiff for everyone else (like docker's rootless).
 */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SKIFF_ROOT) return env.SKIFF_ROOT;
  if (process.getuid?.() === 0) return '/var/lib/skiff';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'skiff');
}

/** The layout of a skiff root directory. */
export function rootPaths(root: string) {
  return {
    root,
    /** An OCI image layout: skopeo, umoci and oras read it as it is. */
    images: join(root, 'images'),
    containers: join(root, 'containers'),
    volumes: join(root, 'volumes'),
    backends: join(root, 'backends'),
    auth: join(root, 'auth.json'),
    daemonSocket: join(root, 'skiff.sock'),
  };
}
