/**
 * createWasmBackend: the WASI backend with its default container file system.
 * In Node, `createNodeWasmBackend` (./node) adds node:fs for bind mounts.
 */
import { invalidArgument } from '@skiff/sdk';
import { WasmBackend, type WasmBackendOptions } from './backend.js';
import type { ContainerFsProvider } from './container-fs.js';

export type CreateWasmBackendOptions = WasmBackendOptions;

let defaultProvider: (() => ContainerFsProvider) | undefined;

/** Sets the file system a backend gets when none is given (the layered fs in ./fs registers itself). */
export function setDefaultFsProvider(make: () => ContainerFsProvider): void {
  defaultProvider = make;
}

export function defaultFsProvider(): ContainerFsProvider {
  if (!defaultProvider) throw invalidArgument('no container file system is available: pass options.fs (a ContainerFsProvider)');
  return defaultProvider();
}

export function createWasmBackend(options: CreateWasmBackendOptions = {}): WasmBackend {
  if (options.runtime) return new WasmBackend(options);
  return new WasmBackend({ ...options, fs: options.fs ?? defaultFsProvider() });
}
