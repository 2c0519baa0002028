/**
 * Unpacking a ~100 MB gzip layer (thousands of files of mixed sizes, made once
 * in a temp dir) into a fresh directory: skiff vs GNU `tar -xzf` vs
 * `umoci raw unpack` (the rootfs only, without umoci's mtree bookkeeping).
 */
import { mkdirSync, rmSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaType } from '@skiff/sdk';
import type { BenchCase, Contender } from '../harness.js';
import { makeFileTree } from '../peers/file-tree.js';
import { layoutAroundLayer } from '../peers/oci-layout.js';
import { standInUnpack } from '../peers/stand-in-unpacker.js';
import { exec, missingTool, which } from '../peers/tools.js';

const MiB = 1 << 20;

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
      const contenders: Contender[] = [
        // A stand-in until the sdk has a Node unpacker: see peers/stand-in-unpacker.ts.
        { name: 'skiff (readTar stand-in)', run: () => timed((dir) => standInUnpack(layer, MediaType.OciLayerGzip, dir)) },
        { name: 'tar -xzf', run: () => timed(async (dir) => { mkdirSync(dir); await exec(tar, ['-xzf', layer, '-C', dir]); }) },
      ];
      const unavailable: Record<string, string> = {};
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
