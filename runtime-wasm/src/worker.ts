// @skiff/runtime-wasm/worker: worker mode, isomorphic host side (each container in a
// worker of its own, driven through comlink). Node's spawner is in ./worker/node.ts
// (createNodeWorkerBackend), the browser's in ./worker/browser.ts; the worker scripts
// are ./worker/node-entry.ts and ./worker/browser-entry.ts.
export { WorkerWasmBackend, type WorkerWasmBackendOptions, type WorkerSpawner, type WorkerHandle, type WorkerDeath, type WorkerLimits } from './worker/backend.js';
export { containerWorkerApi, serveContainerWorker, type ContainerWorkerOptions } from './worker/serve.js';
export type { ContainerWorkerApi, WorkerEvent, WorkerSpec, WorkerMount, StdinSource, BlobSource, ModuleShare } from './worker/protocol.js';
export { canShareMemory, createStdinBuffer, StdinWriter, SharedInputFd, pumpStdin } from './worker/stdin-channel.js';
export { MemoryFs, FsError, constants as memoryFsConstants, type FsChange, type FsSnapshot, type SnapshotEntry, type MemoryFsOptions } from './worker/memory-fs.js';
export { snapshotOf, applyChange } from './worker/volume-bridge.js';
export { browserWorkerSpawner, createBrowserWorkerBackend } from './worker/browser.js';
