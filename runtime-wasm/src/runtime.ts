/**
 * What every WASI container of a process shares: the layer indexes (one per
 * diffID, built once from the blob), the compiled modules, the file system
 * provider and, in Node, the host file system for bind mounts. The backend
 * and WasmSandbox use one WasmRuntime, so a test sandbox and an Engine in the
 * same process compile and index nothing twice.
 */
import { decompressLayer, type FsLike, type LayerRef, type Mount, type Provider } from '@skiff/sdk';
import type { ContainerFs, ContainerFsProvider, LayerIndex } from './container-fs.js';
import { ModuleCache } from './module-cache.js';

export interface WasmRuntimeOptions {
  fs: ContainerFsProvider;
  /** node:fs for bind mounts and host-path volumes; absent in browsers. */
  hostFs?: FsLike;
  modules?: ModuleCache;
  /**
   * Guest output is handed over once this many bytes are buffered (and before
   * the guest blocks, and at exit). Worker mode sets 1: each write the guest
   * makes goes out at once, so a guest that prints and then computes is seen.
   */
  flushBytes?: number;
}

export class WasmRuntime {
  readonly modules: ModuleCache;
  readonly fs: ContainerFsProvider;
  readonly hostFs: FsLike | undefined;
  readonly flushBytes: number | undefined;
  private readonly indexes = new Map<string, Promise<LayerIndex>>();
  /** Layers indexed so far (cache misses). */
  layersIndexed = 0;

  constructor(options: WasmRuntimeOptions) {
    this.fs = options.fs;
    this.hostFs = options.hostFs;
    this.flushBytes = options.flushBytes;
    this.modules = options.modules ?? new ModuleCache();
  }

  /** The index of each layer, reading and unpacking a blob only the first time its diffID is seen. */
  layerIndexes(content: Provider, layers: LayerRef[]): Promise<LayerIndex[]> {
    return Promise.all(layers.map((l) => this.layerIndex(content, l)));
  }

  private layerIndex(content: Provider, layer: LayerRef): Promise<LayerIndex> {
    let p = this.indexes.get(layer.diffId);
    if (!p) {
      this.layersIndexed++;
      p = (async () => {
        const tar = decompressLayer(content.readStream(layer.descriptor.digest), layer.descriptor.mediaType);
        return this.fs.indexLayer(layer.diffId, tar);
      })();
      this.indexes.set(layer.diffId, p);
      p.catch(() => this.indexes.delete(layer.diffId));
    }
    return p;
  }

  createFs(layers: LayerIndex[], mounts: Mount[], readOnly: boolean, now?: () => bigint): ContainerFs {
    return this.fs.create({ layers, mounts, readOnly, ...(this.hostFs ? { hostFs: this.hostFs } : {}), ...(now ? { now } : {}) });
  }

  /** Forgets a layer's index (after the image is deleted, say); containers using it keep theirs. */
  dropLayer(diffId: string): void {
    this.indexes.delete(diffId);
  }
}
