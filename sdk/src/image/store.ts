/**
 * The image store: names, manifests, configs and layers on top of an
 * ImageLayout (an OCI layout on disk, or in memory). Everything read from the
 * layout is verified against its descriptor.
 */
import { notFound, invalidArgument, conflict, dataLoss } from '../errors/index.js';
import type { ImageLayout } from '../content/types.js';
import { fromUtf8, utf8 } from '../content/util.js';
import { isDigest, digestOf } from './digest.js';
import { MediaType, isIndexMediaType, isManifestMediaType } from './media-types.js';
import { familiarName, formatReference, parseReference } from './reference.js';
import { formatPlatform, selectManifest } from './platform.js';
import { PARENT_ANNOTATION, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from './types.js';

/** One platform's image, ready to run. */
/**
 * The repository an image with no name of its own is kept under (docker
 * commit without a name), as dockerd's containerd store keeps dangling
 * images: `skiff-dangling@<manifest digest>`. It lists as <none>, and goes
 * when the image is given a name.
 */
export const DANGLING_REPO = 'skiff-dangling';

export function danglingName(manifestDigest: string): string {
  return formatReference(parseReference(`${DANGLING_REPO}@${manifestDigest}`));
}

export function isDanglingName(name: string): boolean {
  try {
    const ref = parseReference(name);
    return !ref.tag && !!ref.digest && ref.path.split('/').pop() === DANGLING_REPO;
  } catch {
    return false;
  }
}

export interface ResolvedImage {
  /** The normalized name it was found by, when found by name. */
  name?: string;
  /** Image ID: the config digest. */
  id: string;
  /** What the name points at: a manifest, or an index holding it. */
  target: Descriptor;
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  configDescriptor: Descriptor;
  platform: Platform;
}

export interface ImageSummary {
  /** The config digest for a single-platform image, the index digest otherwise. */
  id: string;
  names: string[];
  target: Descriptor;
  platforms: Platform[];
  created?: string;
  /** Bytes of all blobs the image references (compressed layers). */
  size: number;
}

export class ImageStore {
  constructor(readonly layout: ImageLayout) {}

  async readJson<T>(desc: Descriptor): Promise<T> {
    const bytes = await this.layout.readBytes(desc.digest);
    if (bytes.length !== desc.size || digestOf(bytes) !== desc.digest) {
      throw dataLoss(`blob ${desc.digest} in the store does not match its descriptor; the store is corrupt (run \`skiff system check\`)`);
    }
    try {
      return JSON.parse(fromUtf8(bytes)) as T;
    } catch (err) {
      throw dataLoss(`blob ${desc.digest} is not valid JSON`, err);
    }
  }

  /** Stores a JSON document and returns its descriptor. */
  async writeJson(mediaType: string, value: unknown): Promise<Descriptor> {
    const bytes = utf8(JSON.stringify(value));
    const info = await this.layout.writeBytes(bytes);
    return { mediaType, digest: info.digest, size: info.size };
  }

  /** Finds what a user-typed name, ID or `name@digest` points at. */
  async lookup(nameOrId: string): Promise<{ name?: string; target: Descriptor }> {
    const s = nameOrId.trim();
    const byId = await this.findById(s);
    if (byId) return { target: byId };
    let normalized: string;
    try {
      normalized = formatReference(parseReference(s));
    } catch (err) {
      throw invalidArgument(`invalid image name "${nameOrId}": ${(err as Error).message}`, err);
    }
    const target = await this.layout.getRef(normalized);
    if (target) return { name: normalized, target };
    const ref = parseReference(s);
    if (ref.digest) {
      // name@digest: any stored image with that manifest or index digest.
      for (const r of await this.layout.listRefs()) {
        if (r.target.digest === ref.digest) return { target: r.target };
        if (isIndexMediaType(r.target.mediaType)) {
          const idx = await this.readJson<ImageIndex>(r.target);
          const m = idx.manifests.find((d) => d.digest === ref.digest);
          if (m) return { target: m };
        }
      }
    }
    throw notFound(`No such image: ${nameOrId}`);
  }

  private async findById(s: string): Promise<Descriptor | undefined> {
    const hex = s.startsWith('sha256:') ? s.slice(7) : s;
    if (!/^[a-f0-9]{12,64}$/.test(hex)) return undefined;
    const matches = new Map<string, Descriptor>();
    for (const summary of await this.list()) {
      if (summary.id.slice(7).startsWith(hex) || summary.target.digest.slice(7).startsWith(hex)) {
        matches.set(summary.target.digest, summary.target);
      }
    }
    if (matches.size > 1) throw invalidArgument(`image ID prefix "${s}" is ambiguous; give more digits`);
    return matches.values().next().value;
  }

  /** Resolves a name or ID to one platform's image. */
  async resolve(nameOrId: string, platforms: Platform[]): Promise<ResolvedImage> {
    const { name, target } = await this.lookup(nameOrId);
    return this.resolveDescriptor(target, platforms, name, nameOrId);
  }

  async resolveDescriptor(target: Descriptor, platforms: Platform[], name?: string, shown = name ?? target.digest): Promise<ResolvedImage> {
    let manifestDescriptor = target;
    if (isIndexMediaType(target.mediaType)) {
      const index = await this.readJson<ImageIndex>(target);
      const hit = selectManifest(index.manifests, platforms);
      if (!hit) {
        const have = index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : 'unknown')).join(', ');
        throw notFound(`image ${shown} has no variant for ${platforms.map(formatPlatform).join(' or ')} (it has: ${have || 'none'})`);
      }
      manifestDescriptor = hit;
    } else if (!isManifestMediaType(target.mediaType)) {
      throw invalidArgument(`${shown} is a ${target.mediaType}, not an image manifest or index`);
    }
    const manifest = await this.readJson<ImageManifest>(manifestDescriptor);
    const config = await this.readJson<ImageConfig>(manifest.config);
    const platform: Platform = { os: config.os, architecture: config.architecture };
    if (config.variant) platform.variant = config.variant;
    if (!isIndexMediaType(target.mediaType) && platforms.length > 0 && !platforms.some((p) => p.os === platform.os && p.architecture === platform.architecture)) {
      throw notFound(`image ${shown} is for ${formatPlatform(platform)}, not ${platforms.map(formatPlatform).join(' or ')}`);
    }
    if (config.rootfs?.diff_ids?.length !== manifest.layers.length) {
      throw dataLoss(`image ${shown}: the config lists ${config.rootfs?.diff_ids?.length ?? 0} layers but the manifest ${manifest.layers.length}`);
    }
    const out: ResolvedImage = { id: manifest.config.digest, target, manifestDescriptor, manifest, config, configDescriptor: manifest.config, platform };
    if (name) out.name = name;
    return out;
  }

  /** The platforms a stored name or ID offers. */
  async platformsOf(nameOrId: string): Promise<Platform[]> {
    const { target } = await this.lookup(nameOrId);
    return this.platformsOfDescriptor(target);
  }

  async platformsOfDescriptor(target: Descriptor): Promise<Platform[]> {
    if (isIndexMediaType(target.mediaType)) {
      const index = await this.readJson<ImageIndex>(target);
      return index.manifests.flatMap((m) => (m.platform && m.platform.os !== 'unknown' ? [m.platform] : []));
    }
    const manifest = await this.readJson<ImageManifest>(target);
    const config = await this.readJson<ImageConfig>(manifest.config);
    return [{ os: config.os, architecture: config.architecture }];
  }

  async list(): Promise<ImageSummary[]> {
    const byTarget = new Map<string, ImageSummary>();
    for (const { name, target } of await this.layout.listRefs()) {
      let s = byTarget.get(target.digest);
      if (!s) {
        s = await this.summarize(target);
        byTarget.set(target.digest, s);
      }
      s.names.push(name);
    }
    return [...byTarget.values()];
  }

  private async summarize(target: Descriptor): Promise<ImageSummary> {
    const summary: ImageSummary = { id: target.digest, names: [], target, platforms: [], size: 0 };
    try {
      const blobs = await this.reachable(target);
      for (const b of blobs.values()) summary.size += b.size;
      summary.platforms = await this.platformsOfDescriptor(target);
      if (isManifestMediaType(target.mediaType)) {
        const m = await this.readJson<ImageManifest>(target);
        summary.id = m.config.digest;
        const c = await this.readJson<ImageConfig>(m.config);
        if (c.created) summary.created = c.created;
      }
    } catch {
      // A partly present image (e.g. an index with only some platforms pulled) still lists.
    }
    return summary;
  }

  /** Every blob reachable from a descriptor, present in the store or not. */
  async reachable(target: Descriptor, out = new Map<string, Descriptor>(), presentOnly = true): Promise<Map<string, Descriptor>> {
    if (out.has(target.digest)) return out;
    if (presentOnly && !(await this.layout.info(target.digest))) return out;
    out.set(target.digest, target);
    if (isIndexMediaType(target.mediaType)) {
      const index = await this.readJson<ImageIndex>(target);
      for (const m of index.manifests) await this.reachable(m, out, presentOnly);
    } else if (isManifestMediaType(target.mediaType)) {
      const m = await this.readJson<ImageManifest>(target);
      for (const d of [m.config, ...m.layers]) {
        if (!presentOnly || (await this.layout.info(d.digest))) out.set(d.digest, d);
      }
    }
    return out;
  }

  /** Gives an existing image another name (`docker tag`). */
  async tag(source: string, targetName: string): Promise<string> {
    const { target } = await this.lookup(source);
    const ref = parseReference(targetName);
    if (ref.digest) throw invalidArgument(`cannot tag with a digest ("${targetName}"); use a tag like name:1.0`);
    const normalized = formatReference(ref);
    await this.layout.setRef(normalized, stripRefAnnotation(target));
    // Named now: no longer dangling.
    for (const r of await this.layout.listRefs()) if (r.target.digest === target.digest && isDanglingName(r.name)) await this.layout.deleteRef(r.name);
    return normalized;
  }

  /**
   * Removes a name (`docker rmi`). Removing by ID removes every name of the
   * image, which needs `force` when there are several. Blobs no longer
   * referenced by any name are deleted. `inUse` names image IDs used by containers.
   *
   * Images committed from this one (its children, PARENT_ANNOTATION) hold it
   * as dockerd does: removing it by ID is refused even with `force`, and
   * removing its last name keeps it, unnamed and listed only with -a, until
   * its last child goes; a removed image's unnamed parent then goes too.
   */
  async remove(nameOrId: string, options: { force?: boolean; inUse?: (target: Descriptor) => boolean | Promise<boolean> } = {}): Promise<{ untagged: string[]; deleted: string[] }> {
    const found = await this.lookup(nameOrId);
    const refs = await this.layout.listRefs();
    const id = await this.imageIdOf(found.target);
    const hasChildren = childrenOf(refs, id, found.target).length > 0;
    if (!found.name && hasChildren) throw conflict(`conflict: unable to delete ${id.slice(7, 19)} (cannot be forced) - image has dependent child images`);
    const names = found.name ? [found.name] : refs.filter((r) => r.target.digest === found.target.digest).map((r) => r.name);
    if (!found.name && names.length > 1 && !options.force) {
      throw conflict(`unable to delete ${nameOrId} (must be forced): image is referenced in multiple names: ${names.map((n) => familiarName(parseReference(n))).join(', ')}`);
    }
    const lastName = refs.filter((r) => r.target.digest === found.target.digest).length <= names.length;
    if (lastName && !options.force && (await options.inUse?.(found.target))) {
      throw conflict(`unable to remove image ${nameOrId} (must force): it is used by a container; remove the container first or use --force`);
    }
    for (const n of names) await this.layout.deleteRef(n);
    if (lastName && hasChildren) {
      // Kept for its children, unnamed (the target keeps its own parent annotation).
      await this.layout.setRef(danglingName(found.target.digest), found.target);
      return { untagged: names, deleted: [] };
    }
    const owned = await this.reachable(found.target);
    const deleted = await this.gc((d) => owned.has(d));
    if (lastName) deleted.push(...(await this.removeUnnamedParent(found.target, options.inUse)));
    return { untagged: names, deleted };
  }

  /** The image ID of a stored target: its config digest (a manifest), or its own digest (an index). */
  private async imageIdOf(target: Descriptor): Promise<string> {
    return isManifestMediaType(target.mediaType) ? (await this.readJson<ImageManifest>(target)).config.digest : target.digest;
  }

  /** After an image went: its parent, when only kept for its children and now without any, not in use, goes too (and so on up). */
  private async removeUnnamedParent(child: Descriptor, inUse?: (target: Descriptor) => boolean | Promise<boolean>): Promise<string[]> {
    const parentId = child.annotations?.[PARENT_ANNOTATION];
    const parent = parentId ? await this.findById(parentId).catch(() => undefined) : undefined;
    if (!parent) return [];
    const refs = await this.layout.listRefs();
    const names = refs.filter((r) => r.target.digest === parent.digest).map((r) => r.name);
    if (!names.every(isDanglingName) || childrenOf(refs, parentId!, parent).length > 0 || (await inUse?.(parent))) return [];
    for (const n of names) await this.layout.deleteRef(n);
    const owned = await this.reachable(parent);
    return [...(await this.gc((d) => owned.has(d))), ...(await this.removeUnnamedParent(parent, inUse))];
  }

  /** IDs of the images that others were committed from (dockerd's images with children): listed only with -a when unnamed, never pruned. `refs`: the store's names, when the caller has read them already. */
  async parentIds(refs?: Array<{ target: Descriptor }>): Promise<Set<string>> {
    const out = new Set<string>();
    for (const r of refs ?? (await this.layout.listRefs())) {
      const p = r.target.annotations?.[PARENT_ANNOTATION];
      if (p) out.add(p);
    }
    return out;
  }

  /** Deletes blobs that no name reaches (only those `only` selects, when given). */
  async gc(only?: (digest: string) => boolean): Promise<string[]> {
    const live = new Map<string, Descriptor>();
    for (const r of await this.layout.listRefs()) await this.reachable(r.target, live);
    const deleted: string[] = [];
    for await (const b of this.layout.list()) {
      if (!live.has(b.digest) && (!only || only(b.digest))) {
        await this.layout.delete(b.digest);
        deleted.push(b.digest);
      }
    }
    return deleted;
  }

  /** Writes a single-platform image (config + already stored layers) under a name; `annotations` go on its descriptor in index.json (local metadata such as PARENT_ANNOTATION). */
  async putImage(name: string | undefined, config: ImageConfig, layers: Descriptor[], annotations?: Record<string, string>): Promise<ResolvedImage> {
    if (config.rootfs.diff_ids.length !== layers.length) throw invalidArgument('putImage: one diff_id per layer is required');
    const configDescriptor = await this.writeJson(MediaType.OciConfig, config);
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDescriptor, layers };
    const manifestDescriptor = await this.writeJson(MediaType.OciManifest, manifest);
    const platform: Platform = { os: config.os, architecture: config.architecture };
    const target: Descriptor = { ...manifestDescriptor, platform, ...(annotations && Object.keys(annotations).length ? { annotations } : {}) };
    let normalized: string | undefined;
    if (name) {
      normalized = formatReference(parseReference(name));
      await this.layout.setRef(normalized, target);
    }
    const out: ResolvedImage = { id: configDescriptor.digest, target, manifestDescriptor, manifest, config, configDescriptor, platform };
    if (normalized) out.name = normalized;
    return out;
  }

  /** Writes an index of already stored manifests (a multi-platform image) under a name. */
  async putIndex(name: string, manifests: Descriptor[]): Promise<Descriptor> {
    for (const m of manifests) if (!m.platform) throw invalidArgument(`putIndex: manifest ${m.digest} needs a platform`);
    const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: manifests.map(stripRefAnnotation) };
    const target = await this.writeJson(MediaType.OciIndex, index);
    await this.layout.setRef(formatReference(parseReference(name)), target);
    return target;
  }
}

/** The stored names of images committed from image `id` (other than `self`, the image itself under another name). */
function childrenOf(refs: Array<{ name: string; target: Descriptor }>, id: string, self: Descriptor): string[] {
  return refs.filter((r) => r.target.annotations?.[PARENT_ANNOTATION] === id && r.target.digest !== self.digest).map((r) => r.name);
}

function stripRefAnnotation(d: Descriptor): Descriptor {
  if (!d.annotations) return d;
  const { ['org.opencontainers.image.ref.name']: _drop, ...rest } = d.annotations;
  const out: Descriptor = { ...d };
  if (Object.keys(rest).length) out.annotations = rest;
  else delete out.annotations;
  return out;
}

export { isDigest };
