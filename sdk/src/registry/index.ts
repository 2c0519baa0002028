// The OCI distribution client: pull, push, tags, auth. Isomorphic (fetch + Web Streams).
export { RegistryClient, type Repository } from './client.js';
export { pullImage, defaultPlatforms, chooseManifests, type PullOptions, type PullResult } from './pull.js';
export { pushImage, type PushOptions, type PushResult } from './push.js';
export { RegistryImageSource } from './source.js';
export { checkCredentials } from './login.js';
export { parseXRegistryAuth } from './x-registry-auth.js';
export { RegistryError, isRetryable } from './errors.js';
export { parseChallenges, type Challenge } from './challenge.js';
export { baseUrlOf, mayUseHttp, isLoopback } from './endpoint.js';
export { MANIFEST_ACCEPT, type FetchedManifest } from './manifest.js';
export type { BlobReadOptions } from './blob-reader.js';
export type { BlobPushOptions, BlobPushResult } from './upload.js';
export { toDockerProgress, type DockerProgressMessage } from './progress.js';
export * from './types.js';
