// @skiff/sdk/node: the parts of skiff that need Node (file-system store, CLI support).
import { installNodeHasher } from './hasher.js';

installNodeHasher();

export { createNodeEngine, loadBackends, type NodeEngineOptions } from './engine.js';
export { FsImageLayout } from './fs-layout.js';
export { FsRecordStore } from './records.js';
export { FsLogStore } from './logs.js';
export { FsVolumeStore } from './volumes.js';
export { defaultRoot, rootPaths } from './root.js';
export { writeFileAtomicSync } from './atomic.js';
export { MemoryVolumeStore } from '../volumes/memory.js';
export { DirectoryContext } from './build-context.js';
export { FsBuildCache } from './build-cache.js';
export { CredentialStore, login, logout, defaultAuthFile, dockerConfigFile, registryKey, type AuthFile, type LoginOptions } from './credentials.js';
export { credentialStore, registryOptions } from './registry-config.js';
export { importDirectory, importPath, exportDirectory, exportArchiveFile } from './transfer.js';
export { withLock } from './lock.js';
export { unpackLayer, unpackLayers, type UnpackOptions, type UnpackResult, type DeviceEntry, type LayerInput } from './unpack.js';
export { decompressLayerNode } from './unpack-decompress.js';
export { ownChunksToWeb } from './own-chunks.js';
export { connectDocker, NodeTransport, parseDockerHost } from '../client/node-transport.js';
export { Daemon, type DaemonOptions } from '../daemon/server.js';
export { runDaemon } from '../daemon/run.js';
export { loadComposeFile, findComposeFile, COMPOSE_FILE_NAMES } from './compose.js';
export { ComposeRunner, type ComposeHooks, type UpOptions } from '../compose/project.js';
export { loadCompose, projectNameFrom, type LoadOptions } from '../compose/load.js';
export type { ComposeProject, ServiceConfig, VolumeConfig, BuildConfig } from '../compose/model.js';
