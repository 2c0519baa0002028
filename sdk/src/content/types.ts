/**
 * The content store: blobs addressed by digest, split into small roles
 * (containerd's content.Store is the model). A function asks only for the role
 * it needs: a puller needs an Ingester, an unpacker a Provider.
 */
import type { Descriptor } from '../image/types.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

/** What the writer expects; content that does not match is refused (DATA_LOSS). */
export interface Expected {
  digest?: string;
  size?: number;
}

/** Reads blobs. Missing blobs fail with NOT_FOUND. */
export interface Provider {
  info(digest: string): Promise<BlobInfo | undefined>;
  readBytes(digest: string): Promise<Uint8Array>;
  readStream(digest: string): ReadableStream<Uint8Array>;
}

/**
 * Writes blobs atomically: a blob becomes visible only whole and verified, so
 * a crash or an abort never leaves a partial blob under its digest. Writing a
 * blob that is already present is a cheap no-op.
 */
export interface Ingester {
  writeBytes(data: Uint8Array, expected?: Expected): Promise<BlobInfo>;
  writeStream(stream: ReadableStream<Uint8Array>, expected?: Expected, options?: { signal?: AbortSignal }): Promise<BlobInfo>;
}

export interface ContentManager {
  delete(digest: string): Promise<void>;
  list(): AsyncIterable<BlobInfo>;
}

export interface ContentStore extends Provider, Ingester, ContentManager {}

/**
 * Named references to manifests or indexes: an OCI layout's index.json, with each
 * name in the `org.opencontainers.image.ref.name` annotation.
 */
export interface RefStore {
  listRefs(): Promise<Array<{ name: string; target: Descriptor }>>;
  getRef(name: string): Promise<Descriptor | undefined>;
  setRef(name: string, target: Descriptor): Promise<void>;
  deleteRef(name: string): Promise<boolean>;
}

/** An OCI image layout: blobs plus named references. */
export interface ImageLayout extends ContentStore, RefStore {}
