/** An image holding the worker test program (programs/spin.c) as /bin/spin, built in memory. */
import { readFileSync } from 'node:fs';
import { MemoryImageLayout } from '../../../../sdk/src/content/memory.js';
import { ImageStore } from '../../../../sdk/src/image/store.js';
import { layerFromFiles } from '../../../../sdk/src/build/layer-io.js';
import type { ImageConfig } from '../../../../sdk/src/image/types.js';
import type { ImageSpec } from '../../../../sdk/src/runtime/backend.js';

export const spinBytes = new Uint8Array(readFileSync(new URL('../programs/spin.wasm', import.meta.url)));

export async function spinImage(layout = new MemoryImageLayout()): Promise<{ layout: MemoryImageLayout; name: string; spec: ImageSpec }> {
  const layer = await layerFromFiles(layout, [
    { path: '/bin/spin', type: 'file', mode: 0o755, data: spinBytes },
    { path: '/tmp', type: 'directory', mode: 0o1777 },
    { path: '/etc/motd', type: 'file', mode: 0o644, data: new TextEncoder().encode('from the image\n') },
  ]);
  const config: ImageConfig = {
    os: 'wasip1',
    architecture: 'wasm',
    config: { Entrypoint: ['/bin/spin'], Cmd: ['spin'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
  };
  const name = 'spin:latest';
  const resolved = await new ImageStore(layout).putImage(name, config, [layer.descriptor]);
  return { layout, name, spec: { id: resolved.id, config, layers: [{ descriptor: layer.descriptor, diffId: layer.diffId }] } };
}
