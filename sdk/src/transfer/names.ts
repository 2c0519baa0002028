/** Which names an archive gives its images, in skiff's normalized form. */
import { invalidArgument } from '../errors/index.js';
import { familiarName, normalizeName, parseReference } from '../image/reference.js';
import { REF_NAME_ANNOTATION, type Descriptor } from '../image/types.js';

/** The annotation containerd and docker 25+ put the full image name in. */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Normalizes a name found in an archive; a name no registry would accept is an error, not a silent skip. */
export function archiveName(raw: string, where: string): string {
  try {
    const ref = parseReference(raw);
    if (ref.digest && !ref.tag) throw invalidArgument('a digest is not a name');
    return normalizeName(raw);
  } catch (err) {
    throw invalidArgument(`${where} names an image "${raw}", which is not a valid image name: ${(err as Error).message}`, err);
  }
}

/**
 * The names of one index.json entry: `io.containerd.image.name` (docker 25+
 * writes the full name there and only the tag in ref.name), else a ref.name
 * that is a full reference (`busybox:latest`, `docker.io/library/busybox:latest`),
 * else a tag-only ref.name under `baseName`.
 */
export function indexEntryNames(d: Descriptor, baseName: string | undefined): { names: string[]; tagOnly?: string } {
  const a = d.annotations ?? {};
  const full = a[CONTAINERD_NAME_ANNOTATION];
  if (full) return { names: [archiveName(full, `index.json (${CONTAINERD_NAME_ANNOTATION})`)] };
  const ref = a[REF_NAME_ANNOTATION];
  if (!ref) return { names: [] };
  if (/[/:@]/.test(ref)) return { names: [archiveName(ref, `index.json (${REF_NAME_ANNOTATION})`)] };
  if (!TAG.test(ref)) throw invalidArgument(`index.json names an image "${ref}", which is neither an image name nor a tag`);
  if (baseName === undefined) return { names: [], tagOnly: ref };
  if (baseName.includes('@') || baseName.slice(baseName.lastIndexOf('/') + 1).includes(':')) {
    throw invalidArgument(`base name "${baseName}" must be a repository without tag or digest (e.g. example.test/app)`);
  }
  return { names: [archiveName(`${baseName}:${ref}`, 'the base name')] };
}

/** `docker.io/library/busybox:latest` -> the RepoTags form `busybox:latest`. */
export function repoTag(name: string): string {
  return familiarName(parseReference(name));
}
