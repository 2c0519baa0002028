/**
 * The container worker for browsers (a module Web Worker; built to
 * skiff-worker.js). There is no host file system here: volumes come from the
 * page (IndexedDbVolumeStore) as copies whose changes are reported back.
 */
import type { Endpoint } from 'comlink';
import { LayeredFsProvider } from '../fs/index.js';
import { serveContainerWorker } from './serve.js';

serveContainerWorker(globalThis as unknown as Endpoint, { fs: new LayeredFsProvider() });
