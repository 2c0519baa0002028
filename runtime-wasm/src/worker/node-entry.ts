/**
 * The container worker for Node's worker_threads (built to dist/worker-node.js).
 * node:fs serves bind mounts and volumes on disk; receiveMessageOnPort lets
 * a blocked guest's wait take requests (exec).
 */
import * as nodeFs from 'node:fs';
import { parentPort, receiveMessageOnPort, type MessagePort as NodeMessagePort } from 'node:worker_threads';
import type { FsLike } from '@skiff/sdk';
import { LayeredFsProvider } from '../fs/index.js';
import { nodeEndpoint } from './node-endpoint.js';
import { serveContainerWorker } from './serve.js';

if (!parentPort) throw new Error('worker-node.js runs as a worker thread (new Worker(url)), not as a program');
serveContainerWorker(nodeEndpoint(parentPort), {
  fs: new LayeredFsProvider(),
  hostFs: nodeFs as unknown as FsLike,
  receiveNow: (port) => receiveMessageOnPort(port as unknown as NodeMessagePort),
});
