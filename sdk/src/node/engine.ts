/**
 * The Engine on Node: the store on disk under a root directory, and the
 * backends found among the installed skiff packages.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, type ImageSource } from '../runtime/engine.js';
import type { Backend } from '../runtime/backend.js';
import type { LogConfig } from '../runtime/log-config.js';
import { FsImageLayout } from './fs-layout.js';
import { FsRecordStore } from './records.js';
import { FsLogStore } from './logs.js';
import { FsVolumeStore } from './volumes.js';
import { FsNetworkStore, hostIPv4Addresses } from './networks.js';
import { defaultRoot, rootPaths } from './root.js';
import { RegistryImageSource } from '../registry/source.js';
import { registryOptions } from './registry-config.js';

export interface NodeEngineOptions {
  /** The store's root directory (default: see defaultRoot()). */
  root?: string;
  /** Backends to use; by default every installed backend that can run here. */
  backends?: Backend[];
  /** Which installed backends to load when `backends` is not given. */
  load?: Array<'linux' | 'wasm'>;
  imageSources?: ImageSource[];
  /** Pull images missing from the store from their registry (default true). */
  pull?: boolean;
  /**
   * Run each WASI container in its own worker thread (the daemon does: a guest
   * then never blocks the process, and can be killed at once). Default false.
   */
  isolateWasm?: boolean;
  /** The log driver and options of containers created without one (EngineOptions.defaultLogConfig). */
  defaultLogConfig?: LogConfig;
}

/** A backend package's Node entry: what createNodeEngine looks for. */
interface BackendModule {
  createBackend(options: { root: string; worker?: boolean }): Promise<Backend> | Backend;
  imageSources?(options: { root: string }): ImageSource[];
}

const MODULES: Record<'linux' | 'wasm', string> = {
  linux: '@skiff/runtime-linux',
  wasm: '@skiff/runtime-wasm/node',
};

export async function loadBackends(root: string, which: Array<'linux' | 'wasm'> = ['linux', 'wasm'], options: { worker?: boolean } = {}) {
  const backends: Backend[] = [];
  const unavailable: Record<string, string> = {};
  const sources: ImageSource[] = [];
  for (const name of which) {
    let mod: BackendModule;
    try {
      mod = (await import(MODULES[name])) as BackendModule;
    } catch (err) {
      unavailable[name] = `the package ${MODULES[name]} is not installed (${(err as Error).message.split('\n')[0]})`;
      continue;
    }
    try {
      backends.push(await mod.createBackend({ root, ...(options.worker ? { worker: true } : {}) }));
      sources.push(...(mod.imageSources?.({ root }) ?? []));
    } catch (err) {
      unavailable[name] = (err as Error).message;
    }
  }
  return { backends, unavailable, sources };
}

export async function createNodeEngine(options: NodeEngineOptions = {}): Promise<Engine> {
  const root = options.root ?? defaultRoot();
  const p = rootPaths(root);
  for (const d of [p.root, p.containers, p.volumes, p.backends]) mkdirSync(d, { recursive: true });
  const layout = await FsImageLayout.open(p.images);
  let backends = options.backends;
  let unavailable: Record<string, string> = {};
  let sources: ImageSource[] = [];
  if (!backends) {
    const found = await loadBackends(root, options.load, { worker: options.isolateWasm ?? false });
    backends = found.backends;
    unavailable = found.unavailable;
    sources = found.sources;
  }
  return new Engine({
    layout,
    backends,
    unavailableBackends: unavailable,
    volumes: new FsVolumeStore(p.volumes),
    records: new FsRecordStore(p.containers),
    logs: new FsLogStore(p.containers),
    // Bundled images first, then the caller's sources, then pulling from the registry.
    imageSources: [...sources, ...(options.imageSources ?? []), ...(options.pull === false ? [] : [new RegistryImageSource(registryOptions(root))])],
    stateDirFor: (name) => join(p.backends, name),
    networks: new FsNetworkStore(join(p.root, 'networks')),
    hostAddresses: hostIPv4Addresses,
    ...(options.defaultLogConfig ? { defaultLogConfig: options.defaultLogConfig } : {}),
  });
}
