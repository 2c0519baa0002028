/**
 * What the backend needs from a container file system: the contract between
 * the WASI backend and the layered file system in ./fs (or any other).
 *
 * A provider indexes each image layer once (by diffID; the index is shared by
 * every container of every image that has the layer) and makes a container's
 * file system from a stack of indexes plus mounts, copying nothing: the
 * container's writes go to a layer of its own.
 */
import type { FsLike, Mount } from '@skiff/sdk';
import type { Preopen } from './wasi/host.js';
import type { FoundFile } from './program.js';
import type { ModuleKey } from './module-cache.js';

/** An indexed layer, opaque to the backend. */
export type LayerIndex = unknown;

export interface ContainerFsOptions {
  /** Bottom layer first. */
  layers: LayerIndex[];
  mounts: Mount[];
  readOnly: boolean;
  /** node:fs where bind mounts and host-path volumes are possible (Node); absent in browsers. */
  hostFs?: FsLike;
  /** The clock for file times, ns since the epoch (a fixed one for deterministic runs). */
  now?: () => bigint;
}

export interface ContainerFs {
  /** Directories the guest gets as preopens; `/` first. */
  preopens: Preopen[];
  /** What the container changed, as an uncompressed tar with OCI whiteouts. */
  exportChanges(): ReadableStream<Uint8Array>;
  /** Extracts an uncompressed tar into the directory `dir` (docker cp into the container; the sdk's extractTar rules). */
  importFiles?(dir: string, tar: ReadableStream<Uint8Array>, options?: { noOverwriteDirNonDir?: boolean; container?: string }): Promise<void>;
  /** exportChanges as one buffer, synchronously (worker mode serves it inside a blocked guest). */
  exportChangesNow?(): Uint8Array;
  /** importFiles from a tar in memory, synchronously (the same rules; worker mode, inside a blocked guest). */
  importFilesNow?(dir: string, tar: Uint8Array, options?: { noOverwriteDirNonDir?: boolean; container?: string }): void;
  /** A cache key for a program file, when the file system knows where it lives (layer diffID + path). */
  moduleKey?(file: FoundFile): ModuleKey | undefined;
  /** Releases what the container held. */
  dispose?(): void;
}

export interface ContainerFsProvider {
  indexLayer(diffId: string, tar: ReadableStream<Uint8Array>): Promise<LayerIndex>;
  create(options: ContainerFsOptions): ContainerFs;
}

/**
 * The preopens a guest gets: the container's `/` alone when there is one.
 * Mounts are reachable through it, and one root keeps Linux's path semantics
 * everywhere (`..` from a mount leads to its parent, as in the container's
 * tree); a preopen per mount would make each mount a separate capability.
 */
export function guestPreopens(fs: ContainerFs): Preopen[] {
  const root = fs.preopens.find((p) => p.name === '/');
  return root ? [root] : fs.preopens;
}
