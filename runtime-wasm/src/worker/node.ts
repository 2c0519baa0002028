/**
 * Worker mode in Node: each container in a worker_threads Worker running
 * dist/worker-node.js (built from ./node-entry.ts).
 *
 *   const backend = createNodeWorkerBackend();
 *   const engine = new Engine({ layout, backends: [backend] });
 *
 * Besides the guest's linear memory cap, a container's memory limit bounds
 * the worker's V8 heap (resourceLimits): the JavaScript side of the runtime
 * (file system nodes, buffers of the guest's output) cannot grow without end.
 * A worker that passes it is ended and the run reported as OOM-killed.
 */
import { Worker } from 'node:worker_threads';
import { nodeEndpoint } from './node-endpoint.js';
import { WorkerWasmBackend, type WorkerHandle, type WorkerLimits, type WorkerSpawner, type WorkerWasmBackendOptions } from './backend.js';

export interface NodeWorkerOptions {
  /** The worker script (default: worker-node.js beside this module, as built in dist/). */
  url?: string | URL;
  /** The worker's V8 old-generation heap in MiB (default: twice the memory limit, at least 64; 512 without one). */
  heapMb?: number;
}

const MIB = 1024 * 1024;

export function heapLimitMb(limits: WorkerLimits, fixed?: number): number {
  if (fixed) return fixed;
  if (!limits.memoryBytes) return 512;
  return Math.max(64, Math.ceil((2 * limits.memoryBytes) / MIB));
}

export function nodeWorkerSpawner(options: NodeWorkerOptions = {}): WorkerSpawner {
  const url = options.url ?? new URL('./worker-node.js', import.meta.url);
  const spawn = (limits: WorkerLimits): WorkerHandle => {
    const worker = new Worker(url, {
      resourceLimits: { maxOldGenerationSizeMb: heapLimitMb(limits, options.heapMb), maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      // The guest's output travels as events; the worker's own console stays the host's.
    });
    let listener: ((d: { reason: string; outOfMemory: boolean }) => void) | undefined;
    let ended = false;
    let pending: { reason: string; outOfMemory: boolean } | undefined;
    const die = (reason: string, outOfMemory: boolean) => {
      if (ended) return;
      ended = true;
      if (listener) listener({ reason, outOfMemory });
      else pending = { reason, outOfMemory };
    };
    worker.on('error', (err: Error & { code?: string }) => {
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      die(oom ? `it ran out of memory (its heap limit; ${err.message})` : `it crashed: ${err.message}`, oom);
    });
    worker.on('exit', (code) => die(`it exited with code ${code}`, false));
    return {
      endpoint: nodeEndpoint(worker),
      terminate: () => {
        ended = true;
        void worker.terminate();
      },
      onDeath: (l) => {
        listener = l;
        if (pending) l(pending);
      },
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  };
  return Object.assign(spawn, { hostFs: true, receivesWhileBlocked: true });
}

export function createNodeWorkerBackend(options: NodeWorkerOptions & Omit<WorkerWasmBackendOptions, 'spawn'> = {}): WorkerWasmBackend {
  const { url, heapMb, ...rest } = options;
  return new WorkerWasmBackend({ ...rest, spawn: nodeWorkerSpawner({ ...(url ? { url } : {}), ...(heapMb ? { heapMb } : {}) }) });
}
