// The Docker Engine API client (isomorphic; the Node transport is in ./node-transport.ts).
export { DockerClient, ImageApi, ApiVolumeStore, outputEntries, splitOutput, registryAuthHeader, CLIENT_API_VERSION, type DockerClientOptions } from './client.js';
export { FetchTransport } from './fetch-transport.js';
export { apiError, codeOfStatus, queryString, type ApiRequest, type ApiResponse, type HijackedConnection, type Transport, type QueryValue } from './transport.js';
export { encodeFrames, FrameDecoder, MULTIPLEXED, RAW_STREAM, type Frame, type StdStream } from './stdcopy.js';
export { toCreateBody } from './create-body.js';
export type { ContainerRuntime, ContainerSummary, ContainerInspect, ExecStdio, ImageSummaryJson, ImageInspectJson, ProgressMessage } from './types.js';
