/**
 * The daemon side of `docker pull/push`: the CLI sends its credentials in the
 * X-Registry-Auth header, base64url-encoded JSON
 * `{"username":..,"password":..,"serveraddress":..}`.
 */
import { invalidArgument } from '../errors/index.js';
import type { Credentials } from './types.js';

export function parseXRegistryAuth(header: string | null | undefined): Credentials | undefined {
  if (!header) return undefined;
  let json: { username?: string; password?: string; identitytoken?: string };
  try {
    const b64 = header.trim().replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    json = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))) as typeof json;
  } catch (err) {
    throw invalidArgument('the X-Registry-Auth header is not base64-encoded JSON', err);
  }
  if (json && typeof json === 'object' && json.username && json.password !== undefined) return { username: json.username, password: json.password };
  // An empty object is what the CLI sends when it has no credentials.
  return undefined;
}
