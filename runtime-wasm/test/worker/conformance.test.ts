/**
 * The backend conformance suite (sdk/src/testing/conformance.ts) against the
 * wasm backend in worker mode: every container in a worker thread of its own.
 * The shell image is the toolbox sample; volumes live in the host's memory
 * (memfs), so each volume check also crosses the worker bridge.
 */
import { readFileSync } from 'node:fs';
import { describeBackendConformance } from '../../../sdk/src/testing/conformance.js';
import { nodeHostDirs } from '../../../sdk/src/testing/host-dirs.js';
import { Engine } from '../../../sdk/src/runtime/engine.js';
import { MemoryImageLayout } from '../../../sdk/src/content/memory.js';
import { MemoryVolumeStore } from '../../../sdk/src/volumes/memory.js';
import { buildSample } from '../../src/samples.js';
import { createNodeWorkerBackend } from '../../src/worker/node.js';
import { buildNodeWorker } from './support/build-worker.js';

describeBackendConformance('wasm-worker', async () => {
  const worker = await buildNodeWorker();
  const layout = new MemoryImageLayout();
  const shellImage = await buildSample(layout, 'toolbox', async (name) => new Uint8Array(readFileSync(new URL(`../../samples/bin/${name}.wasm`, import.meta.url))));
  const engine = new Engine({ layout, backends: [createNodeWorkerBackend({ url: worker.url })], volumes: new MemoryVolumeStore() });
  const host = nodeHostDirs('skiff-worker-conformance-');
  return {
    engine,
    backend: 'wasm',
    shellImage,
    shell: ['sh', '-c'],
    hostDir: host.hostDir,
    hostFs: host.hostFs,
    cleanup: async () => {
      await host.cleanup();
      worker.dispose();
    },
  };
});
