/**
 * Copies an image (an index or a manifest, and everything it references) from
 * one layout to another, verifying each blob as it goes.
 */
import type { ImageLayout, Provider, Ingester } from '../content/types.js';
import { isIndexMediaType, isManifestMediaType } from './media-types.js';
import { formatReference, parseReference } from './reference.js';
import { fromUtf8 } from '../content/util.js';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from './types.js';
import { platformMatches } from './platform.js';
import type { ImageSource } from '../runtime/engine.js';

/** Copies the blobs under `target`. With `platforms`, only those manifests of an index. */
export async function copyBlobs(from: Provider, to: Provider & Ingester, target: Descriptor, platforms?: Platform[]): Promise<void> {
  if (!(await to.info(target.digest))) {
    if (isIndexMediaType(target.mediaType) || isManifestMediaType(target.mediaType)) {
      await to.writeBytes(await from.readBytes(target.digest), { digest: target.digest, size: target.size });
    } else {
      await to.writeStream(from.readStream(target.digest), { digest: target.digest, size: target.size });
    }
  }
  if (isIndexMediaType(target.mediaType)) {
    const index = JSON.parse(fromUtf8(await to.readBytes(target.digest))) as ImageIndex;
    for (const m of index.manifests) {
      if (platforms && m.platform && !platforms.some((p) => platformMatches(p, m.platform))) continue;
      await copyBlobs(from, to, m, platforms);
    }
  } else if (isManifestMediaType(target.mediaType)) {
    const manifest = JSON.parse(fromUtf8(await to.readBytes(target.digest))) as ImageManifest;
    for (const d of [manifest.config, ...manifest.layers]) await copyBlobs(from, to, d);
  }
}

export async function copyImage(from: ImageLayout, to: ImageLayout, name: string, options: { as?: string; platforms?: Platform[] } = {}): Promise<Descriptor | undefined> {
  const normalized = formatReference(parseReference(name));
  const target = await from.getRef(normalized);
  if (!target) return undefined;
  await copyBlobs(from, to, target, options.platforms);
  await to.setRef(options.as ? formatReference(parseReference(options.as)) : normalized, target);
  return target;
}

/** An image source backed by another layout (bundled samples, a layout served over HTTP). */
export class LayoutImageSource implements ImageSource {
  constructor(readonly name: string, private readonly layout: () => Promise<ImageLayout>) {}

  async provide(reference: string, platforms: Platform[], into: ImageLayout): Promise<boolean> {
    let normalized: string;
    try {
      normalized = formatReference(parseReference(reference));
    } catch {
      return false;
    }
    const from = await this.layout();
    if (!(await from.getRef(normalized))) return false;
    await copyImage(from, into, normalized, { platforms });
    return true;
  }
}
