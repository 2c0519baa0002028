// @skiff/runtime-wasm/node: the WASI backend with the host file system (node:fs) for bind mounts and host-path volumes.
import * as nodeFs from 'node:fs';
import type { FsLike } from '@skiff/sdk';
import { createWasmBackend, createWasmRuntime, type CreateWasmBackendOptions } from './factory.js';
import type { WasmRuntime, WasmRuntimeOptions } from './runtime.js';
import type { WasmBackend } from './backend.js';

export * from './index.js';

/** node:fs as the backend sees it. */
export const hostFs: FsLike = nodeFs as unknown as FsLike;

export function createNodeWasmBackend(options: CreateWasmBackendOptions = {}): WasmBackend {
  return createWasmBackend({ hostFs, ...options });
}

/** A runtime with node:fs for bind mounts (share it between a backend and WasmSandbox). */
export function createNodeWasmRuntime(options: Partial<WasmRuntimeOptions> = {}): WasmRuntime {
  return createWasmRuntime({ hostFs, ...options });
}
