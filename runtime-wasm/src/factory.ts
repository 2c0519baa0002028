/**
 * createWasmBackend: the WASI backend over skiff's layered file system (./fs).
 * In Node, `createNodeWasmBackend` (./node) adds node:fs for bind mounts.
 */
import { WasmBackend, type WasmBackendOptions } from './backend.js';
import { LayeredFsProvider } from './fs/provider.js';
import { WasmRuntime, type WasmRuntimeOptions } from './runtime.js';

export type CreateWasmBackendOptions = WasmBackendOptions;

export function createWasmBackend(options: CreateWasmBackendOptions = {}): WasmBackend {
  if (options.runtime) return new WasmBackend(options);
  return new WasmBackend({ ...options, fs: options.fs ?? new LayeredFsProvider() });
}

/** A runtime (shared caches) over the layered file system, for WasmSandbox and backends alike. */
export function createWasmRuntime(options: Partial<WasmRuntimeOptions> = {}): WasmRuntime {
  return new WasmRuntime({ ...options, fs: options.fs ?? new LayeredFsProvider() });
}
