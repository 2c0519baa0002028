/**
 * Pull of a ~100 MB image (several random gzip layers) from a local
 * docker-registry on loopback into a fresh OCI layout on disk: skiff's
 * pullImage (in-process) vs `skopeo copy docker://... oci:DIR`.
 *
 * The same work on both sides (checked with strace): every blob streamed
 * into a temp file, its digest checked as it arrives, fsynced and renamed
 * into blobs/sha256. skiff also fsyncs the blob directory and writes
 * index.json atomically (fsync, rename); skopeo writes index.json in place.
 * skopeo's time includes starting its process (tens of ms); skiff's is a warm
 * in-process call, as an Engine or the daemon makes it. Both use both cores:
 * skopeo's Go runtime hashes and writes on its own threads, skiff hashes and
 * writes large blobs on a worker thread (sdk/src/node/blob-sink-worker.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryImageLayout, pullImage, pushImage } from '@skiff/sdk';
import { FsImageLayout } from '@skiff/sdk/node';
import type { BenchCase, Contender } from '../harness.js';
import { makeRandomImage } from '../peers/images.js';
import { startLocalRegistry } from '../peers/registry.js';
import { exec, missingTool, which } from '../peers/tools.js';

const MiB = 1 << 20;

export const pullCase: BenchCase = {
  name: 'pull',
  description: 'pull a ~100 MB image (4 random gzip layers) from a local docker-registry into a fresh OCI layout on disk',
  goal: 'skiff faster than skopeo copy',
  rounds: { quick: 2, full: 7 },
  async setup({ quick }) {
    const noRegistry = missingTool('docker-registry');
    if (noRegistry) throw new Error(`the pull benchmark needs a local registry: ${noRegistry}`);
    const layerBytes = quick ? 4 * MiB : 25 * MiB;
    const registry = await startLocalRegistry();
    const work = mkdtempSync(join(tmpdir(), 'skiff-bench-pull-'));
    try {
      const src = new MemoryImageLayout();
      const reference = `${registry.domain}/bench/pull:1`;
      const img = await makeRandomImage(src, reference, { layerCount: 4, layerBytes });
      await pushImage({ layout: src, reference });
      let n = 0;
      const fresh = () => join(work, `round-${n++}`);
      const contenders: Contender[] = [{
        name: 'skiff',
        async run() {
          const dir = fresh();
          const t0 = performance.now();
          const layout = await FsImageLayout.open(dir);
          const r = await pullImage({ layout, reference });
          const ms = performance.now() - t0;
          if (r.target.digest !== img.manifest.digest) throw new Error(`skiff pulled ${r.target.digest}, expected ${img.manifest.digest}`);
          rmSync(dir, { recursive: true, force: true });
          return ms;
        },
      }];
      const unavailable: Record<string, string> = {};
      const skopeo = which('skopeo');
      if (skopeo) {
        contenders.push({
          name: 'skopeo copy',
          async run() {
            const dir = fresh();
            const t0 = performance.now();
            await exec(skopeo, ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${reference}`, `oci:${dir}:img`]);
            const ms = performance.now() - t0;
            rmSync(dir, { recursive: true, force: true });
            return ms;
          },
        });
      } else unavailable['skopeo copy'] = missingTool('skopeo')!;
      return {
        contenders,
        unavailable,
        unit: `ms per ${Math.round(img.bytes / MiB)} MiB image`,
        async teardown() {
          await registry.stop();
          rmSync(work, { recursive: true, force: true });
        },
      };
    } catch (err) {
      await registry.stop();
      rmSync(work, { recursive: true, force: true });
      throw err;
    }
  },
};
