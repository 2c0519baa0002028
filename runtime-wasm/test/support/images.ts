/** WASI test images built in memory: the probe program in an OCI image layout. */
import { MemoryImageLayout } from '../../../sdk/src/content/memory.js';
import { ImageStore } from '../../../sdk/src/image/store.js';
import { layerFromFiles, type FileSpec } from '../../../sdk/src/build/layer-io.js';
import type { ImageConfig } from '../../../sdk/src/image/types.js';
import type { ImageSpec } from '../../../sdk/src/runtime/backend.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { probeBytes } from './probe.js';

export interface TestImage {
  layout: MemoryImageLayout;
  name: string;
  spec: ImageSpec;
}

/**
 * `probe:latest`: /bin/probe.wasm, /usr/bin/probe -> /bin/probe.wasm (an absolute
 * symlink, found on PATH), a script /bin/hello.sh run through `#!/usr/bin/probe args`,
 * and /etc/motd. A second layer adds /etc/extra and whites out nothing.
 */
export async function probeImage(layout = new MemoryImageLayout(), extra: FileSpec[] = [], config: Partial<ImageConfig['config']> = {}): Promise<TestImage> {
  const enc = new TextEncoder();
  const base = await layerFromFiles(layout, [
    { path: '/bin/probe.wasm', type: 'file', mode: 0o755, data: new Uint8Array(probeBytes) },
    { path: '/usr/bin/probe', type: 'symlink', mode: 0o777, linkname: '/bin/probe.wasm' },
    { path: '/bin/hello.sh', type: 'file', mode: 0o755, data: enc.encode('#!/usr/bin/probe args\necho not run\n') },
    { path: '/etc/motd', type: 'file', mode: 0o644, data: enc.encode('welcome\n') },
    { path: '/tmp', type: 'directory', mode: 0o1777 },
  ]);
  const top = await layerFromFiles(layout, [{ path: '/etc/extra', type: 'file', mode: 0o644, data: enc.encode('more\n') }, ...extra]);
  const cfg: ImageConfig = {
    os: 'wasip1',
    architecture: 'wasm',
    config: { Entrypoint: ['probe'], Cmd: ['args'], Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], ...config },
    rootfs: { type: 'layers', diff_ids: [base.diffId, top.diffId] },
  };
  const name = 'probe:latest';
  const resolved = await new ImageStore(layout).putImage(name, cfg, [base.descriptor, top.descriptor]);
  return {
    layout,
    name,
    spec: {
      id: resolved.id,
      config: cfg,
      layers: [base, top].map((l) => ({ descriptor: l.descriptor, diffId: l.diffId })),
    },
  };
}

const TOOLBOX = fileURLToPath(new URL('../../samples/bin/toolbox.wasm', import.meta.url));
const APPLETS = ['cat', 'cp', 'echo', 'env', 'false', 'head', 'ln', 'ls', 'mkdir', 'mv', 'pwd', 'rm', 'rmdir', 'seq', 'sh', 'sleep', 'stat', 'tee', 'touch', 'true', 'wc'];

/** `toolbox:latest` (the toolbox sample): /bin/toolbox.wasm and a symlink per applet, busybox style. */
export async function toolboxImage(layout: MemoryImageLayout): Promise<string> {
  const files: FileSpec[] = [
    { path: '/bin/toolbox.wasm', type: 'file', mode: 0o755, data: new Uint8Array(readFileSync(TOOLBOX)) },
    ...APPLETS.map((a): FileSpec => ({ path: `/bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'toolbox.wasm' })),
    { path: '/tmp', type: 'directory', mode: 0o1777 },
    { path: '/etc/hostname', type: 'file', mode: 0o644, data: new TextEncoder().encode('toolbox\n') },
  ];
  const layer = await layerFromFiles(layout, files);
  await new ImageStore(layout).putImage('toolbox:latest', {
    os: 'wasip1',
    architecture: 'wasm',
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/bin:/usr/bin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
  }, [layer.descriptor]);
  return 'toolbox:latest';
}
