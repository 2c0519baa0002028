/**
 * The layered file system as the WASI backend's ContainerFsProvider: layer
 * indexes cached by diffID, and a container file system made from them
 * without copying.
 */
import { readTar } from '@skiff/sdk';
import type { ContainerFs, ContainerFsOptions, ContainerFsProvider } from '../container-fs.js';
import { createContainerFs } from './container.js';
import { LayerIndexCache } from './layer-cache.js';
import { indexLayer, type LayerIndex } from './layer-index.js';

export class LayeredFsProvider implements ContainerFsProvider {
  constructor(readonly cache = new LayerIndexCache(), private readonly now?: () => bigint) {}

  /** Indexes an uncompressed layer tar, or returns the index already made for `diffId` (then `tar` is cancelled unread). */
  indexLayer(diffId: string, tar: ReadableStream<Uint8Array>): Promise<LayerIndex> {
    if (this.cache.has(diffId)) {
      void tar.cancel().catch(() => {});
      return this.cache.get(diffId, () => Promise.reject(new Error('unreachable')));
    }
    return this.cache.get(diffId, () => indexLayer(readTar(tar), diffId));
  }

  create(options: ContainerFsOptions): ContainerFs {
    const fs = createContainerFs({
      layers: options.layers as LayerIndex[],
      mounts: options.mounts,
      readOnly: options.readOnly,
      ...(options.hostFs ? { hostFs: options.hostFs } : {}),
      ...(options.now ?? this.now ? { now: (options.now ?? this.now)! } : {}),
    });
    return {
      preopens: fs.preopens,
      exportChanges: () => fs.exportChanges(),
      importFiles: (dir, tar, o) => fs.importFiles(dir, tar, o),
      exportChangesNow: () => fs.exportChangesNow(),
      importFilesNow: (dir, tar, o) => fs.importFilesNow(dir, tar, o),
      moduleKey: (file) => fs.moduleKey(file),
      dispose: () => fs.dispose(),
    };
  }
}
