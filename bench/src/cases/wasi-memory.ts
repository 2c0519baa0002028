/**
 * Peak RSS of a process holding 100 idle (created, not started) WASI
 * containers of one image with about 32 MiB of files: skiff's Engine vs the
 * plain browser_wasi_shim with a tree per container. "skiff, 1 container" is
 * the same process with one container: skiff's ratio to it shows what 99 more
 * containers cost (the goal: the image's files held once, not 100 times).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsImageLayout } from '@skiff/sdk/node';
import type { BenchCase, Contender } from '../harness.js';
import { makeWasiImage } from '../peers/images.js';
import { peakRssMiB } from '../peers/memory-probe.js';
import { skiffSubject } from '../peers/wasi-subjects.js';
import { programBytes } from '../peers/wasm-programs.js';

const MiB = 1 << 20;
const COUNT = 100;

export const wasiMemoryCase: BenchCase = {
  name: 'wasi-memory',
  description: `peak RSS of a Node process holding ${COUNT} idle WASI containers of one image (each measured in a fresh child process)`,
  goal: 'the image\'s files held once: skiff with 100 containers close to skiff with 1 (ratio near 1x), far below the plain shim',
  rounds: { quick: 1, full: 3 },
  async setup({ quick }) {
    const work = mkdtempSync(join(tmpdir(), 'skiff-bench-memory-'));
    try {
      const dataBytes = quick ? 8 * MiB : 32 * MiB;
      const files: Record<string, Uint8Array> = { 'bin/wasibench.wasm': programBytes('wasibench'), 'bin/sqlitebench.wasm': programBytes('sqlitebench') };
      for (let i = 0; i * 512 * 1024 < dataBytes; i++) files[`data/blob${i}.bin`] = new Uint8Array(randomBytes(512 * 1024));
      const layoutDir = join(work, 'layout');
      await makeWasiImage(await FsImageLayout.open(layoutDir), 'bench/memory:1', files, ['/bin/wasibench.wasm']);
      const probe = { layout: layoutDir, image: 'bench/memory:1' };
      const contenders: Contender[] = [];
      const unavailable: Record<string, string> = {};
      const skiff = await skiffSubject();
      if (typeof skiff === 'string') unavailable.skiff = skiff;
      else {
        await skiff.dispose();
        contenders.push(
          { name: `skiff, ${COUNT} containers`, run: () => peakRssMiB('skiff', { ...probe, count: COUNT }) },
          { name: 'skiff, 1 container', run: () => peakRssMiB('skiff', { ...probe, count: 1 }) },
        );
      }
      contenders.push({ name: `browser_wasi_shim, ${COUNT} containers`, run: () => peakRssMiB('shim', { ...probe, count: COUNT }) });
      unavailable['node:wasi'] = 'its files live in host directories, not in the process: nothing to compare in memory';
      return {
        contenders,
        unavailable,
        unit: `MiB peak RSS (image with ${Math.round(dataBytes / MiB)} MiB of files)`,
        teardown: async () => rmSync(work, { recursive: true, force: true }),
      };
    } catch (err) {
      rmSync(work, { recursive: true, force: true });
      throw err;
    }
  },
};
