/**
 * The backend conformance suite (sdk/src/testing/conformance.ts) against the
 * wasm backend, with the toolbox sample (runtime-wasm/samples) as the shell
 * image: sh, echo, cat, ls, mkdir... as one wasm program under many names.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBackendConformance } from '../../sdk/src/testing/conformance.js';
import { Engine } from '../../sdk/src/runtime/engine.js';
import { MemoryImageLayout } from '../../sdk/src/content/memory.js';
import { MemoryVolumeStore } from '../../sdk/src/volumes/memory.js';
import { ImageStore } from '../../sdk/src/image/store.js';
import { layerFromFiles, type FileSpec } from '../../sdk/src/build/layer-io.js';
import { createNodeWasmBackend } from '../src/node.js';

const TOOLBOX = fileURLToPath(new URL('../samples/bin/toolbox.wasm', import.meta.url));
const APPLETS = ['cat', 'cp', 'echo', 'env', 'false', 'head', 'ln', 'ls', 'mkdir', 'mv', 'pwd', 'rm', 'rmdir', 'seq', 'sh', 'sleep', 'stat', 'tee', 'touch', 'true', 'wc'];

/** `toolbox:latest`: /bin/toolbox.wasm and a symlink per applet, busybox style. */
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

describeBackendConformance('wasm', async () => {
  const layout = new MemoryImageLayout();
  const shellImage = await toolboxImage(layout);
  const engine = new Engine({ layout, backends: [createNodeWasmBackend()], volumes: new MemoryVolumeStore() });
  const dirs: string[] = [];
  return {
    engine,
    backend: 'wasm',
    shellImage,
    shell: ['sh', '-c'],
    hostDir: async () => {
      const d = await mkdtemp(join(tmpdir(), 'skiff-wasm-conformance-'));
      dirs.push(d);
      return d;
    },
    hostFs: {
      readFile: (p) => readFile(p, 'utf8'),
      writeFile: (p, s) => writeFile(p, s),
      exists: (p) => stat(p).then(() => true, () => false),
    },
    cleanup: async () => {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
});
