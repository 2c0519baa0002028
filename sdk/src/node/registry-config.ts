import { join } from 'node:path';
import type { RegistryOptions } from '../registry/types.js';
import { CredentialStore } from './credentials.js';

/** Credentials live in `<root>/auth.json` (or $SKIFF_CONFIG/auth.json), with Docker's config.json as a fallback. */
export function credentialStore(root: string, env: NodeJS.ProcessEnv = process.env): CredentialStore {
  return new CredentialStore({ file: env.SKIFF_CONFIG ? join(env.SKIFF_CONFIG, 'auth.json') : join(root, 'auth.json') });
}

/**
 * Registry options for a root: its credentials; $SKIFF_INSECURE_REGISTRIES
 * (comma-separated hosts that may use http); and $SKIFF_REGISTRY_ENDPOINTS
 * (comma-separated DOMAIN=URL pairs: where a registry's API is served when that
 * is not https://DOMAIN, e.g. a mirror, or Docker Hub's API host).
 */
export function registryOptions(root: string, env: NodeJS.ProcessEnv = process.env): RegistryOptions {
  const store = credentialStore(root, env);
  const insecure = (env.SKIFF_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const endpoints: Record<string, string> = {};
  for (const pair of (env.SKIFF_REGISTRY_ENDPOINTS ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i > 0) endpoints[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return { credentials: (r) => store.get(r), insecure, endpoints };
}
