/**
 * Docker Engine API versions, negotiated like dockerd does: clients read
 * `Api-Version` from `/_ping` and use min(their maximum, ours); every later
 * request is prefixed `/vX.Y/`, and unversioned paths mean the newest version.
 */
import { invalidArgument } from '../errors/index.js';

/** What docker 28.2's dockerd offers, so the docker CLI 28 uses it without a downgrade. */
export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';
export const DAEMON_VERSION = '0.1.0';

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)$/;

function compare(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number) as [number, number];
  const [bm, bn] = b.split('.').map(Number) as [number, number];
  return am - bm || an - bn;
}

/** Splits `/v1.49/containers/json` into the version and the path; refuses versions out of range. */
export function splitVersion(path: string): { version: string; path: string } {
  const m = VERSIONED.exec(path);
  if (!m) return { version: API_VERSION, path };
  const version = m[1]!;
  if (compare(version, API_VERSION) > 0) throw invalidArgument(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  if (compare(version, MIN_API_VERSION) < 0) throw invalidArgument(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  return { version, path: m[2]! };
}

/** Headers of `/_ping` that the docker CLI reads (docker-api.md §1). */
export function pingHeaders(): Record<string, string> {
  return {
    'Api-Version': API_VERSION,
    // No BuildKit session endpoint: the classic builder only.
    'Builder-Version': '1',
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Swarm: 'inactive',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
  };
}
