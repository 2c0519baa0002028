/** Image import and export: OCI layouts and `docker save` archives. */
import type { Descriptor, Platform } from '../image/types.js';

/**
 * One file of an archive or of a layout directory, as the importer reads it.
 * A tar and a directory walk both become a sequence of these.
 */
export interface ArchiveFile {
  /** Relative, cleaned path (`blobs/sha256/ab…`, `manifest.json`). */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  size: number;
  /** Symlink target (relative to the link's folder) or hardlink target (relative to the root). */
  linkname?: string;
  /** The body of a file; valid until the next file is asked for. */
  stream(): ReadableStream<Uint8Array>;
}

export interface ImportProgress {
  /** The archive path of the blob just stored. */
  path: string;
  digest: string;
  size: number;
}

export interface ImportOptions {
  /**
   * Repository for images that the archive names by a tag only (umoci writes
   * `org.opencontainers.image.ref.name: latest`): with `example.test/app`,
   * `latest` becomes `example.test/app:latest`. Without it such images are
   * skipped (and reported), since a tag alone does not name an image.
   */
  baseName?: string;
  signal?: AbortSignal;
  onProgress?: (event: ImportProgress) => void;
}

export interface ImportedImage {
  /** Normalized names it was stored under (`docker.io/library/busybox:latest`). */
  names: string[];
  /** What the names point at: a manifest or an index. */
  target: Descriptor;
  /** The image ID: the config digest of a manifest, the digest of an index. */
  id: string;
}

export interface ImportResult {
  /** Which layout the archive had: an OCI layout (with or without docker's manifest.json) or a legacy `docker save`. */
  format: 'oci' | 'docker';
  images: ImportedImage[];
  /** Images the archive holds but gives no usable name; nothing refers to them, so they were not kept. */
  skipped: Array<{ target: Descriptor; reason: string }>;
}

export type ArchiveFormat = 'oci' | 'docker';

export interface ExportOptions {
  /**
   * `oci`: an OCI image layout as a tar (what `skopeo copy oci-archive:` and
   * `umoci` read). `docker`: the same layout plus docker's manifest.json and
   * repositories, which is what `docker save` writes since docker 25 and what
   * older `docker load`s read too.
   */
  format: ArchiveFormat;
  /**
   * For `docker` archives of multi-platform images: which platform's manifest
   * manifest.json describes (its index goes into index.json whole). Default:
   * the first platform whose content is in the store.
   */
  platforms?: Platform[];
  /** Modification time of every archive entry, in seconds (default 0, for reproducible archives). */
  mtime?: number;
  signal?: AbortSignal;
}
