import { join } from 'node:path';
import type { RegistryOptions } from '../registry/types.js';
import { CredentialStore } from './credentials.js';

/** Credentials live in `<root>/auth.json` (or $SKIFF_CONFIG/auth.json), with Docker's config.json as a fallback. */
export function credentialStore(root: string, env: NodeJS.ProcessEnv = process.env): CredentialStore {
  return new CredentialStore({ file: env.SKIFF_CONFIG ? join(env.SKIFF_CONFIG, 'auth.json') : join(root, 'auth.json') });
}

/** Registry options for a root: its credentials, and $SKIFF_INSECURE_REGISTRIES (comma-separated hosts that may use http). */
export function registryOptions(root: string, env: NodeJS.ProcessEnv = process.env): RegistryOptions {
  const store = credentialStore(root, env);
  const insecure = (env.SKIFF_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return { credentials: (r) => store.get(r), insecure };
}
