import { invalidArgument } from '../errors/index.js';

/**
 * A Docker-style image reference: `busybox` means `docker.io/library/busybox:latest`,
 * `localhost:5000/app:1`, `ghcr.io/o/r@sha256:...`.
 */
export interface Reference {
  /** Registry host with an optional port, e.g. `docker.io`, `localhost:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function parseReference(input: string): Reference {
  const s = input.trim();
  if (s === '') throw invalidArgument('invalid reference format: the image name is empty');
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalidArgument(`invalid reference "${input}": the digest must be sha256: followed by 64 lowercase hex digits`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalidArgument(`invalid reference "${input}": tag "${tag}" may hold only letters, digits, '_', '.', '-' (at most 128, not starting with '.' or '-')`);
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  if (path === '' || !path.split('/').every((c) => COMPONENT.test(c))) {
    const hint = path !== path.toLowerCase() ? ' (repository names must be lowercase)' : '';
    throw invalidArgument(`invalid reference format: "${input}" is not a valid image name${hint}`);
  }
  if (!/^[A-Za-z0-9.-]+(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/.test(domain)) {
    throw invalidArgument(`invalid reference "${input}": "${domain}" is not a valid registry host`);
  }
  if (tag === undefined && digest === undefined) tag = 'latest';
  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `docker.io/library/busybox` */
export function repositoryOf(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full normalized form: `docker.io/library/busybox:latest`. */
export function formatReference(ref: Reference): string {
  let s = repositoryOf(ref);
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** The short form docker prints: `busybox:latest`, `localhost:5000/app:1`. */
export function familiarName(ref: Reference): string {
  let repo = repositoryOf(ref);
  if (ref.domain === DEFAULT_DOMAIN) {
    repo = ref.path.startsWith('library/') ? ref.path.slice('library/'.length) : ref.path;
  }
  let s = repo;
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** Normalizes a user-typed name to the form stored in the image store. */
export function normalizeName(input: string): string {
  return formatReference(parseReference(input));
}
