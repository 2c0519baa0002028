/**
 * Worker mode in browsers: each container in a module Web Worker running
 * skiff-worker.js (built from ./browser-entry.ts).
 *
 * A browser gives a worker no heap limit of its own: a container's memory
 * limit caps the guest's linear memory only. Streaming stdin needs
 * SharedArrayBuffer, which a browser offers to cross-origin isolated pages
 * (served with COOP: same-origin and COEP: require-corp); elsewhere stdin is
 * read to EOF before the guest starts. Nothing else needs isolation.
 */
import type { Endpoint } from 'comlink';
import { WorkerWasmBackend, type WorkerDeath, type WorkerHandle, type WorkerSpawner, type WorkerWasmBackendOptions } from './backend.js';

export function browserWorkerSpawner(url: string | URL): WorkerSpawner {
  return (): WorkerHandle => {
    const worker = new Worker(url, { type: 'module', name: 'skiff container' });
    let listener: ((d: WorkerDeath) => void) | undefined;
    let pending: WorkerDeath | undefined;
    let ended = false;
    const die = (d: WorkerDeath) => {
      if (ended) return;
      ended = true;
      if (listener) listener(d);
      else pending = d;
    };
    worker.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault();
      die({ reason: `it crashed: ${e.message || 'an error in the worker script (does the worker URL serve skiff-worker.js?)'}`, outOfMemory: false });
    });
    worker.addEventListener('messageerror', () => die({ reason: 'a message could not be read', outOfMemory: false }));
    return {
      endpoint: worker as unknown as Endpoint,
      terminate: () => {
        ended = true;
        worker.terminate();
      },
      onDeath: (l) => {
        listener = l;
        if (pending) l(pending);
      },
    };
  };
}

export function createBrowserWorkerBackend(options: { workerUrl: string | URL } & Omit<WorkerWasmBackendOptions, 'spawn'>): WorkerWasmBackend {
  const { workerUrl, ...rest } = options;
  return new WorkerWasmBackend({ ...rest, spawn: browserWorkerSpawner(workerUrl) });
}
