/**
 * The registry as an Engine image source: `run` and `create` of an image that
 * is not in the store pull it, for the platforms the engine can run.
 */
import type { ImageLayout } from '../content/types.js';
import type { Platform } from '../image/types.js';
import type { ImageSource, ProgressEvent } from '../runtime/engine.js';
import { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import { pullImage } from './pull.js';
import type { RegistryOptions } from './types.js';

export class RegistryImageSource implements ImageSource {
  readonly name = 'registry';
  private readonly client: RegistryClient;

  constructor(options: RegistryOptions = {}) {
    this.client = new RegistryClient(options);
  }

  async provide(reference: string, platforms: Platform[], layout: ImageLayout, options: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void } = {}): Promise<boolean> {
    try {
      await pullImage({
        layout,
        reference,
        platforms,
        client: this.client,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      return true;
    } catch (err) {
      // Not in the registry: let the next source try. Anything else (auth, network, no such platform) is the user's to see.
      if (err instanceof RegistryError && (err.registryCode === 'MANIFEST_UNKNOWN' || err.registryCode === 'NAME_UNKNOWN')) return false;
      throw err;
    }
  }
}
