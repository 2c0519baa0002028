// @skiff/sdk: the isomorphic core. Node-only parts are in @skiff/sdk/node.
export * from './errors/index.js';
export * from './image/types.js';
export * from './image/media-types.js';
export * from './image/digest.js';
export * from './image/reference.js';
export * from './image/platform.js';
export { ImageStore, type ResolvedImage, type ImageSummary } from './image/store.js';
export * from './content/types.js';
export { MemoryImageLayout } from './content/memory.js';
export { collect, concat, bytesStream, utf8, fromUtf8 } from './content/util.js';
export * from './runtime/backend.js';
export { Engine, Container, normalizeSignal, toStream, type EngineOptions, type ImageSource, type ProgressEvent, type RunResult, type StartOptions, type ExecOptions, type LogsOptions, type WaitCondition } from './runtime/engine.js';
export * from './runtime/options.js';
export * from './runtime/records.js';
export * from './runtime/logs.js';
export * from './runtime/state.js';
export * from './volumes/types.js';
export { MemoryVolumeStore } from './volumes/memory.js';
