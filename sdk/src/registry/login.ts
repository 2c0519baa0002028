/** Checking credentials the way `docker login` does: GET /v2/ with them, through any auth challenge. */
import { RegistryClient } from './client.js';
import type { Credentials, RegistryOptions } from './types.js';

/** Resolves when `registry` accepts `credentials`; fails with UNAUTHENTICATED when it does not. */
export async function checkCredentials(registry: string, credentials: Credentials, options: Omit<RegistryOptions, 'credentials'> & { signal?: AbortSignal } = {}): Promise<void> {
  const client = new RegistryClient({ ...options, credentials });
  await client.ping(registry, options.signal);
}
