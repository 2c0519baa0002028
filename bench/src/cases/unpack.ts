/**
 * Unpacking a ~100 MB gzip layer (thousands of files of mixed sizes, made once
 * in a temp dir) into a fresh directory: skiff vs GNU `tar -xzf` vs
 * `umoci raw unpack` (the rootfs only, without umoci's mtree bookkeeping).
 * skiff is runtime-linux's LayerStore.ensure, exactly what a container's
 * first start does with a layer: read the blob, gunzip, check the diffID
 * while unpacking (work tar does not do), unpack for overlayfs and rename the
 * directory into place. Where the Linux backend cannot run (not root, no
 * helper) a stand-in of the sdk pieces is measured instead and named as such.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { MediaType, type Provider } from '@skiff/sdk';
import { ownChunksToWeb } from '@skiff/sdk/node';
import { findHelper, LayerStore, whyUnavailable } from '@skiff/runtime-linux';
import type { BenchCase, Contender } from '../harness.js';
import { makeFileTree } from '../peers/file-tree.js';
import { layoutAroundLayer } from '../peers/oci-layout.js';
import { standInUnpack } from '../peers/stand-in-unpacker.js';
import { exec, missingTool, which } from '../peers/tools.js';

const MiB = 1 << 20;

/** The sha256 of the whole file, and of its gunzipped content (the layer's diffID). */
async function digests(file: string): Promise<{ digest: string; diffId: string }> {
  const blob = createHash('sha256');
  const tar = createHash('sha256');
  await pipeline(createReadStream(file), async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) { blob.update(c); yield c; }
  }, createGunzip(), async (src: AsyncIterable<Buffer>) => { for await (const c of src) tar.update(c); });
  return { digest: `sha256:${blob.digest('hex')}`, diffId: `sha256:${tar.digest('hex')}` };
}

/** The native helper runtime-linux's layer store needs (for whiteouts), or why there is none. */
function skiffHelper(): string | { why: string } {
  const why = whyUnavailable();
  if (why) return { why };
  try {
    return findHelper();
  } catch (err) {
    return { why: (err as Error).message };
  }
}

export const unpackCase: BenchCase = {
  name: 'unpack',
  description: 'unpack a ~100 MB tar+gzip layer (thousands of files of mixed sizes, some symlinks) into a fresh directory',
  goal: 'skiff at least as fast as GNU tar -xzf',
  rounds: { quick: 2, full: 7 },
  async setup({ quick }) {
    const tar = which('tar');
    if (!tar) throw new Error(`the unpack benchmark makes its layer with GNU tar: ${missingTool('tar')}`);
    const work = mkdtempSync(join(tmpdir(), 'skiff-bench-unpack-'));
    try {
      const tree = makeFileTree(join(work, 'src'), quick ? 16 * MiB : 140 * MiB);
      const layer = join(work, 'layer.tar.gz');
      await exec(tar, ['-C', join(work, 'src'), '--numeric-owner', '-czf', layer, '.']);
      const gz = statSync(layer).size;
      let n = 0;
      const fresh = () => join(work, `out-${n++}`);
      // Every tree (the source one too) is kept until teardown. On ext4
      // without a journal, a file created within ~30 s of mass deletes scans
      // past every recently deleted inode of its group (the kernel's
      // recently_deleted()); removing each round's tree made every contender's
      // time mostly that scan, a cost of the round before, not of its own work.
      const timed = async (make: (dir: string) => Promise<unknown>) => {
        const dir = fresh();
        const t0 = performance.now();
        await make(dir);
        return performance.now() - t0;
      };
      const unavailable: Record<string, string> = {};
      const contenders: Contender[] = [];
      const helper = skiffHelper();
      if (typeof helper === 'string') {
        const { digest, diffId } = await digests(layer);
        // The layer blob as an image store holds it (FsImageLayout reads the same way).
        const content: Provider = {
          info: async () => ({ digest, size: gz }),
          readBytes: async () => { throw new Error('the unpack bench streams the layer'); },
          readStream: () => ownChunksToWeb(createReadStream(layer, { highWaterMark: 1 << 20 }), 1),
        };
        const ref = { descriptor: { mediaType: MediaType.OciLayerGzip, digest, size: gz }, diffId };
        contenders.push({ name: 'skiff', run: () => timed(async (dir) => { await new LayerStore(dir, () => helper).ensure(ref, content); }) });
      } else {
        unavailable.skiff = `runtime-linux's unpackLayer cannot run here (${helper.why}); its stand-in is measured instead`;
        contenders.push({ name: 'skiff stand-in (sdk readTar + node:fs)', run: () => timed((dir) => standInUnpack(layer, MediaType.OciLayerGzip, dir)) });
      }
      contenders.push({ name: 'tar -xzf', run: () => timed(async (dir) => { mkdirSync(dir); await exec(tar, ['-xzf', layer, '-C', dir]); }) });
      const umoci = which('umoci');
      if (umoci) {
        const layout = join(work, 'layout');
        await layoutAroundLayer(layout, layer, 'bench');
        contenders.push({ name: 'umoci raw unpack', run: () => timed((dir) => exec(umoci, ['raw', 'unpack', '--image', `${layout}:bench`, dir])) });
      } else unavailable['umoci raw unpack'] = missingTool('umoci')!;
      return {
        contenders,
        unavailable,
        unit: `ms per ${Math.round(gz / MiB)} MiB layer (${tree.files} files)`,
        teardown: async () => rmSync(work, { recursive: true, force: true }),
      };
    } catch (err) {
      rmSync(work, { recursive: true, force: true });
      throw err;
    }
  },
};
