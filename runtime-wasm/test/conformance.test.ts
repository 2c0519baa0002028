/**
 * The backend conformance suite (sdk/src/testing/conformance.ts) against the
 * wasm backend, with the toolbox sample (runtime-wasm/samples) as the shell
 * image: sh, echo, cat, ls, mkdir... as one wasm program under many names.
 */
import { describeBackendConformance, nodeHostDirs } from '../../sdk/src/testing/index.js';
import { Engine } from '../../sdk/src/runtime/engine.js';
import { MemoryImageLayout } from '../../sdk/src/content/memory.js';
import { MemoryVolumeStore } from '../../sdk/src/volumes/memory.js';
import { createNodeWasmBackend } from '../src/node.js';
import { toolboxImage } from './support/images.js';

describeBackendConformance('wasm', async () => {
  const layout = new MemoryImageLayout();
  const shellImage = await toolboxImage(layout);
  const engine = new Engine({ layout, backends: [createNodeWasmBackend()], volumes: new MemoryVolumeStore() });
  return { engine, backend: 'wasm', shellImage, shell: ['sh', '-c'], ...nodeHostDirs('skiff-wasm-conformance-') };
});
