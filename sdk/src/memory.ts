// @skiff/sdk/memory: in-memory stores for tests and embedding. MemoryVolumeStore
// uses memfs, which needs Node's builtins (or polyfills of them in a browser).
export { MemoryVolumeStore } from './volumes/memory.js';
export { MemoryImageLayout } from './content/memory.js';
export { MemoryRecordStore } from './runtime/records.js';
export { MemoryLogStore } from './runtime/logs.js';
export { MemoryBuildCache } from './build/cache.js';
