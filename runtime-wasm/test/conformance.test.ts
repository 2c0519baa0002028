/**
 * The backend conformance suite (sdk/src/testing/conformance.ts) against the
 * wasm backend, with the toolbox sample (runtime-wasm/samples) as the shell
 * image: sh, echo, cat, ls, mkdir... as one wasm program under many names.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBackendConformance } from '../../sdk/src/testing/conformance.js';
import { Engine } from '../../sdk/src/runtime/engine.js';
import { MemoryImageLayout } from '../../sdk/src/content/memory.js';
import { MemoryVolumeStore } from '../../sdk/src/volumes/memory.js';
import { createNodeWasmBackend } from '../src/node.js';
import { toolboxImage } from './support/images.js';

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
