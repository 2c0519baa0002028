/** The blobs an image consists of, as far as a store holds them. */
import { dataLoss, failedPrecondition } from '../errors/index.js';
import type { Provider } from '../content/types.js';
import { fromUtf8 } from '../content/util.js';
import { isIndexMediaType, isManifestMediaType } from '../image/media-types.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../image/types.js';

export interface ImageBlobs {
  /** Every blob, each once, leaves first (layers and configs, then manifests, then indexes). */
  blobs: Descriptor[];
  /** The complete manifests, with the platform their index gives them. */
  manifests: Array<{ descriptor: Descriptor; manifest: ImageManifest }>;
}

/**
 * Walks `target`. A manifest must have all of its blobs; an index may lack
 * some platforms' manifests (a pull stores only what it needs, docker saves
 * only the local platform) but must have at least one complete one.
 * `what` names the image in errors.
 */
export async function imageBlobs(from: Provider, target: Descriptor, what: string): Promise<ImageBlobs> {
  const out: ImageBlobs = { blobs: [], manifests: [] };
  const seen = new Set<string>();
  const add = (d: Descriptor) => {
    if (!seen.has(d.digest)) { seen.add(d.digest); out.blobs.push(d); }
  };

  const present = async (d: Descriptor, required: boolean): Promise<boolean> => {
    const info = await from.info(d.digest);
    if (!info) {
      if (required) throw dataLoss(`${what}: blob ${d.digest} (${d.mediaType}) is missing`);
      return false;
    }
    if (info.size !== d.size) throw dataLoss(`${what}: blob ${d.digest} has ${info.size} bytes, but its descriptor says ${d.size}`);
    return true;
  };

  const json = async <T>(d: Descriptor): Promise<T> => {
    try {
      return JSON.parse(fromUtf8(await from.readBytes(d.digest))) as T;
    } catch (err) {
      throw dataLoss(`${what}: ${d.mediaType} ${d.digest} is not valid JSON`, err);
    }
  };

  const visit = async (d: Descriptor, depth: number): Promise<void> => {
    if (depth > 8) throw dataLoss(`${what}: indexes nested deeper than 8 levels`);
    if (isIndexMediaType(d.mediaType)) {
      const index = await json<ImageIndex>(d);
      if (!Array.isArray(index.manifests)) throw dataLoss(`${what}: index ${d.digest} has no manifests list`);
      for (const child of index.manifests) {
        if (!(await present(child, false))) continue;
        await visit(child, depth + 1);
      }
    } else if (isManifestMediaType(d.mediaType)) {
      const manifest = await json<ImageManifest>(d);
      if (!manifest.config || !Array.isArray(manifest.layers)) throw dataLoss(`${what}: manifest ${d.digest} lacks a config or a layers list`);
      for (const b of [manifest.config, ...manifest.layers]) {
        await present(b, true);
        add(b);
      }
      out.manifests.push({ descriptor: d, manifest });
    }
    add(d);
  };

  await present(target, true);
  await visit(target, 0);
  if (out.manifests.length === 0 && isIndexMediaType(target.mediaType)) {
    throw failedPrecondition(`${what}: none of the platforms of index ${target.digest} is complete`);
  }
  return out;
}
