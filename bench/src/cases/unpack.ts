/**
 * Unpacking a ~100 MB gzip layer (thousands of files of mixed sizes, made once
 * in a temp dir) into a fresh directory: skiff vs GNU `tar -xzf` vs
 * `umoci raw unpack` (the rootfs only, without umoci's mtree bookkeeping).
 * skiff is runtime-linux's unpackLayer (what its snapshots use) fed by the
 * sdk's gunzip; where the Linux backend cannot run (not root, no helper) a
 * stand-in of the same sdk pieces is measured instead and named as such.
 */
import { createReadStream, mkdirSync, rmSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { decompressLayer, MediaType } from '@skiff/sdk';
import { findHelper, unpackLayer, whyUnavailable } from '@skiff/runtime-linux';
import type { BenchCase, Contender } from '../harness.js';
import { makeFileTree } from '../peers/file-tree.js';
import { layoutAroundLayer } from '../peers/oci-layout.js';
import { standInUnpack } from '../peers/stand-in-unpacker.js';
import { exec, missingTool, which } from '../peers/tools.js';

const MiB = 1 << 20;

/** The native helper runtime-linux's unpacker needs (for whiteouts), or why there is none. */
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
      rmSync(join(work, 'src'), { recursive: true, force: true });
      const gz = statSync(layer).size;
      let n = 0;
      const fresh = () => join(work, `out-${n++}`);
      const timed = async (make: (dir: string) => Promise<unknown>) => {
        const dir = fresh();
        const t0 = performance.now();
        await make(dir);
        const ms = performance.now() - t0;
        rmSync(dir, { recursive: true, force: true });
        return ms;
      };
      const unavailable: Record<string, string> = {};
      const contenders: Contender[] = [];
      const helper = skiffHelper();
      if (typeof helper === 'string') {
        const blob = () => Readable.toWeb(createReadStream(layer, { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>;
        contenders.push({ name: 'skiff', run: () => timed(async (dir) => { mkdirSync(dir); await unpackLayer(decompressLayer(blob(), MediaType.OciLayerGzip), dir, helper); }) });
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
