/**
 * A real dockerd and a `skiff daemon` on the Linux backend, side by side for
 * one test file: started together (and both stopped afterwards, also when one
 * of them failed to start), the file's images (if any) built on each with the
 * classic builder, and `both()` running the same docker CLI command against
 * the two.
 * skiff's daemon holds a stray inherited descriptor, which must not show.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { docker, dockerBinary, shutdownDaemon, startDaemon, type DaemonProcess, type DockerResult } from './harness.js';
import { startDockerd, type Dockerd } from './dockerd.js';

export interface SideBySide {
  /** Set by the file's beforeAll. */
  real: Dockerd;
  skiff: DaemonProcess;
  /** A temp directory for the file, removed afterwards. */
  tmp: string;
  /** One docker CLI command against one daemon (its url), `input` on its stdin. */
  on(url: string, args: string[], o?: { input?: string | Buffer }): Promise<DockerResult>;
  /** The same docker CLI command against dockerd and skiff at once. */
  both(args: string[], o?: { input?: string | Buffer }): Promise<{ dockerd: DockerResult; skiff: DockerResult }>;
}

/**
 * Registers the file's beforeAll/afterAll. `images(tmp)` names the build
 * context of each image tag (e.g. from busyboxContext); all are built on both
 * daemons before the tests run.
 */
export function sideBySide(name: string, images: (tmp: string) => Record<string, string>, setupTimeoutMs = 240_000): SideBySide {
  const s = {} as SideBySide;
  s.on = (url, args, o = {}) => docker(url, args, { ...o, env: { DOCKER_BUILDKIT: '0' } });
  s.both = async (args, o) => {
    const [dockerd, skiff] = await Promise.all([s.on(s.real.url, args, o), s.on(s.skiff.url, args, o)]);
    return { dockerd, skiff };
  };
  beforeAll(async () => {
    dockerBinary();
    s.tmp = mkdtempSync(join(tmpdir(), `skiff-${name}-`));
    const contexts = images(s.tmp);
    const [real, skiff] = await Promise.allSettled([startDockerd(), startDaemon({ backends: ['linux'], root: mkdtempSync(join(tmpdir(), `skiff-${name}-root-`)), strayFd: true })]);
    if (real.status === 'fulfilled') s.real = real.value;
    if (skiff.status === 'fulfilled') s.skiff = skiff.value;
    if (real.status === 'rejected') throw real.reason;
    if (skiff.status === 'rejected') throw skiff.reason;
    for (const [tag, dir] of Object.entries(contexts)) {
      const built = await s.both(['build', '-q', '-t', tag, dir]);
      for (const [who, r] of Object.entries(built)) if (r.code !== 0) throw new Error(`docker build ${tag} on ${who} failed: ${r.stderr}`);
    }
  }, setupTimeoutMs);
  afterAll(async () => {
    await Promise.allSettled([shutdownDaemon(s.skiff, s.tmp), s.real?.stop()]);
  });
  return s;
}
