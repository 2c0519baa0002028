/**
 * skiff's layered file system for WASI containers: layer indexes shared by
 * every container, a copy-on-write view per container, host and in-memory
 * mounts, and the export of a container's changes as a layer.
 */
export { indexLayer, lookupInLayer, type LayerIndex, type TarEntryLike } from './layer-index.js';
export { LayerIndexCache } from './layer-cache.js';
export { createContainerFs, ContainerFileSystem, wallClockNs, type ContainerFsSpec, type FsPreopen } from './container.js';
export { LayeredFsProvider } from './provider.js';
export { DirFd } from './dir-fd.js';
export { collectChanges, changesToTar, type Change } from './export.js';
export { FsNode, DirNode, Stat } from './node.js';
export { MFile } from './layered.js';
