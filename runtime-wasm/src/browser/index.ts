/**
 * The browser side of @skiff/runtime-wasm: images read over HTTP from a static
 * OCI layout, volumes kept in IndexedDB, and containers in Web Workers.
 *
 *   const engine = createBrowserEngine({ images: '/images/', workerUrl: '/skiff-worker.js' });
 *   const r = await engine.run({ image: 'skiff/toolbox', cmd: ['sh', '-c', 'echo hi'], rm: true });
 */
import { Engine, type VolumeStore } from '@skiff/sdk';
import { HttpImageLayout } from './http-layout.js';
import { IndexedDbVolumeStore } from './volume-store.js';
import { createBrowserWorkerBackend } from '../worker/browser.js';
import type { WorkerWasmBackend } from '../worker/backend.js';

export { HttpImageLayout, type HttpImageLayoutOptions } from './http-layout.js';
export { IndexedDbVolumeStore, type IndexedDbVolumeStoreOptions } from './volume-store.js';
export { MemoryFs, FsError, type FsChange, type FsSnapshot } from '../worker/memory-fs.js';
export { WorkerWasmBackend, type WorkerWasmBackendOptions, type WorkerSpawner, type WorkerHandle, type WorkerDeath, type WorkerLimits } from '../worker/backend.js';
export { browserWorkerSpawner, createBrowserWorkerBackend } from '../worker/browser.js';
export { canShareMemory } from '../worker/stdin-channel.js';

export interface BrowserEngineOptions {
  /** Where the OCI image layout is served (a directory `skiff save --format oci-dir` wrote). */
  images: string | URL;
  /** Where skiff-worker.js is served. */
  workerUrl: string | URL;
  /** Default: an IndexedDbVolumeStore. */
  volumes?: VolumeStore;
}

export interface BrowserEngine {
  engine: Engine;
  layout: HttpImageLayout;
  backend: WorkerWasmBackend;
  volumes: VolumeStore;
}

/** An Engine for a page: images over HTTP, volumes in IndexedDB, each container in a Web Worker. */
export function createBrowserEngine(options: BrowserEngineOptions): BrowserEngine {
  const layout = new HttpImageLayout(options.images);
  const backend = createBrowserWorkerBackend({ workerUrl: options.workerUrl });
  const volumes = options.volumes ?? new IndexedDbVolumeStore();
  return { engine: new Engine({ layout, backends: [backend], volumes }), layout, backend, volumes };
}
