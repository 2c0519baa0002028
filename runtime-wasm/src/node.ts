// @skiff/runtime-wasm/node: the WASI backend with the host file system (node:fs) for bind mounts and host-path volumes.
import * as nodeFs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { notFound, type Backend, type FsLike, type ImageSource } from '@skiff/sdk';
import { SampleImageSource, type ProgramReader } from './samples.js';
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

// ---- what createNodeEngine (@skiff/sdk/node) looks for in a backend package ----

const SAMPLE_FILES = { hello: 'hello.wasm', toolbox: 'toolbox.wasm', sqlite: 'sqlite.wasm' } as const;

/** Reads the committed sample programs from runtime-wasm/samples/bin. */
export const readSampleProgram: ProgramReader = async (name) => {
  const url = new URL(`../samples/bin/${SAMPLE_FILES[name]}`, import.meta.url);
  try {
    return new Uint8Array(await nodeFs.promises.readFile(url));
  } catch (err) {
    throw notFound(`the sample program ${SAMPLE_FILES[name]} is missing from ${fileURLToPath(url)}; rebuild it with runtime-wasm/samples/build.sh`, err);
  }
};

/** The backend for createNodeEngine: in-process, or one worker thread per container. */
export function createBackend(options: { root: string; worker?: boolean }): Backend {
  return options.worker ? createNodeWorkerBackend() : createNodeWasmBackend();
}

/** The bundled sample images (skiff/hello, skiff/toolbox, skiff/sqlite), made on first use. */
export function imageSources(_options: { root: string }): ImageSource[] {
  return [new SampleImageSource(readSampleProgram)];
}
import { createNodeWorkerBackend } from './worker/node.js';
export { createNodeWorkerBackend, nodeWorkerSpawner } from './worker/node.js';
