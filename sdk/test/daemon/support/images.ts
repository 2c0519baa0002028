/** Test images for the daemon tests. */
import type { ImageLayout } from '../../../src/content/types.js';
import { ImageStore } from '../../../src/image/store.js';
import { layerFromFiles } from '../../../src/build/layer-io.js';
import type { ImageConfig } from '../../../src/image/types.js';
import { HOST_PLATFORM } from './host-backend.js';

export const HOST_IMAGE = 'skiff-test/host:latest';

const enc = new TextEncoder();

/**
 * `skiff-test/host`: an image for the host test backend. Its commands are the
 * host's (sh, echo, cat...); its layers hold /etc/motd, /etc/skiff/release and
 * a symlink /etc/link-to-motd, which `docker cp` reads back.
 */
export async function putHostImage(layout: ImageLayout, name = HOST_IMAGE): Promise<string> {
  const base = await layerFromFiles(layout, [
    { path: '/etc/motd', type: 'file', mode: 0o644, data: enc.encode('welcome to the host test image\n') },
    { path: '/etc/link-to-motd', type: 'symlink', mode: 0o777, linkname: 'motd' },
    { path: '/tmp', type: 'directory', mode: 0o1777 },
  ]);
  const top = await layerFromFiles(layout, [{ path: '/etc/skiff/release', type: 'file', mode: 0o644, data: enc.encode('skiff test 1\n') }]);
  const config: ImageConfig = {
    created: '2024-01-01T00:00:00Z',
    os: HOST_PLATFORM.os,
    architecture: HOST_PLATFORM.architecture,
    config: {
      Cmd: ['sh'],
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'FROM_IMAGE=yes'],
      Labels: { 'org.skiff.test': 'host' },
    },
    rootfs: { type: 'layers', diff_ids: [base.diffId, top.diffId] },
    history: [{ created: '2024-01-01T00:00:00Z', created_by: 'base layer' }, { created: '2024-01-01T00:00:00Z', created_by: 'release file' }],
  };
  const resolved = await new ImageStore(layout).putImage(name, config, [base.descriptor, top.descriptor]);
  return resolved.id;
}
