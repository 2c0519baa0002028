/** Host directories for the bind-mount part of the conformance suite (Node). */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConformanceTarget } from './conformance.js';

/** `hostDir` and `hostFs` for a ConformanceTarget, and a cleanup that removes every directory made. */
export function nodeHostDirs(prefix = 'skiff-conformance-'): Required<Pick<ConformanceTarget, 'hostDir' | 'hostFs'>> & { cleanup(): Promise<void> } {
  const dirs: string[] = [];
  return {
    hostDir: async () => {
      const d = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    hostFs: {
      readFile: (p) => readFile(p, 'utf8'),
      writeFile: (p, s) => writeFile(p, s),
      exists: (p) => stat(p).then(() => true, () => false),
    },
    cleanup: async () => {
      for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
    },
  };
}
