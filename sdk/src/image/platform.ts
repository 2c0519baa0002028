import { invalidArgument } from '../errors/index.js';
import type { Descriptor, Platform } from './types.js';

export const WASI_PLATFORM: Platform = { os: 'wasip1', architecture: 'wasm' };

/** `linux/amd64`, `linux/arm64/v8`, `wasip1/wasm`. */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw invalidArgument(`invalid platform "${s}": expected OS/ARCH[/VARIANT], for example linux/amd64 or wasip1/wasm`);
  }
  const [os, architecture, variant] = parts as [string, string, string?];
  return variant ? { os: os.toLowerCase(), architecture: normalizeArch(architecture), variant } : { os: os.toLowerCase(), architecture: normalizeArch(architecture) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function normalizeArch(a: string): string {
  const l = a.toLowerCase();
  if (l === 'x86_64' || l === 'x86-64') return 'amd64';
  if (l === 'aarch64') return 'arm64';
  return l;
}

/** Whether an image of platform `have` runs where `want` is asked for. */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have) return false;
  if (want.os !== have.os || normalizeArch(want.architecture) !== normalizeArch(have.architecture)) return false;
  if (want.variant && have.variant && want.variant !== have.variant) return false;
  return true;
}

/**
 * Picks the manifest for one of `wanted` platforms (in order of preference) from
 * an index's descriptors. The image spec says the first match SHOULD be used.
 * Attestation manifests (`unknown/unknown`) never match.
 */
export function selectManifest(manifests: Descriptor[], wanted: Platform[]): Descriptor | undefined {
  for (const w of wanted) {
    const hit = manifests.find((m) => platformMatches(w, m.platform));
    if (hit) return hit;
  }
  return undefined;
}
