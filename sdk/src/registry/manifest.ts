/**
 * Manifests and indexes as they come from a registry: the Accept header that
 * covers both OCI and Docker schema2, the media type of what came back, and
 * the digest of the exact bytes.
 */
import { dataLoss, unsupported } from '../errors/index.js';
import { fromUtf8 } from '../content/util.js';
import { MediaType, isIndexMediaType, isManifestMediaType } from '../image/media-types.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../image/types.js';

/** Registry 2.8.2 answers 404 to a GET of an OCI manifest whose Accept lacks the OCI types. */
export const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.OciManifest, MediaType.DockerManifestList, MediaType.DockerManifest].join(', ');

/** Registries cap manifests at 4 MiB; anything larger is not a manifest. */
export const MAX_MANIFEST_BYTES = 4 << 20;

export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Uint8Array;
  /** The parsed body: an index when `isIndexMediaType(descriptor.mediaType)`. */
  content: ImageManifest | ImageIndex;
}

/** The media type of a manifest body: its own field, else the Content-Type, else by shape. */
export function manifestMediaType(body: { mediaType?: string; manifests?: unknown; config?: unknown }, contentType: string | null): string {
  if (body.mediaType) return body.mediaType;
  const ct = contentType?.split(';')[0]!.trim();
  if (ct && (isIndexMediaType(ct) || isManifestMediaType(ct))) return ct;
  if (Array.isArray(body.manifests)) return MediaType.OciIndex;
  if (body.config) return MediaType.OciManifest;
  return ct ?? 'application/octet-stream';
}

/** Parses and checks a manifest body; `what` names it in errors. */
export function parseManifest(bytes: Uint8Array, contentType: string | null, what: string): { mediaType: string; content: ImageManifest | ImageIndex } {
  let body: { schemaVersion?: number; mediaType?: string; manifests?: unknown; config?: unknown; layers?: unknown };
  try {
    body = JSON.parse(fromUtf8(bytes)) as typeof body;
  } catch (err) {
    throw dataLoss(`${what} is not valid JSON; the registry sent something that is not a manifest`, err);
  }
  if (body === null || typeof body !== 'object') throw dataLoss(`${what} is not a JSON object`);
  const mediaType = manifestMediaType(body, contentType);
  if (body.schemaVersion === 1 || mediaType.startsWith('application/vnd.docker.distribution.manifest.v1')) {
    throw unsupported(`${what} is a Docker schema 1 manifest, which skiff does not support; push it again with a current tool`);
  }
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(body.manifests)) throw dataLoss(`${what}: index without a manifests list`);
  } else if (isManifestMediaType(mediaType)) {
    if (!body.config || !Array.isArray(body.layers)) throw dataLoss(`${what}: manifest without config or layers`);
  } else {
    throw unsupported(`${what} has media type ${mediaType}, which is not an image manifest or index`);
  }
  return { mediaType, content: body as unknown as ImageManifest | ImageIndex };
}

/** The manifest's child descriptors: an index's manifests, a manifest's config and layers. */
export function childrenOf(fetched: { descriptor: Descriptor; content: ImageManifest | ImageIndex }): Descriptor[] {
  if (isIndexMediaType(fetched.descriptor.mediaType)) return (fetched.content as ImageIndex).manifests;
  const m = fetched.content as ImageManifest;
  return [m.config, ...m.layers];
}
