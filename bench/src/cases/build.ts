/**
 * Image build: a cold build (fresh store and cache) and an unchanged rebuild
 * (warm cache) of one Dockerfile: FROM scratch with COPY/ENV/WORKDIR/LABEL
 * steps over a context of a few MB, on disk as `skiff build` does it. The
 * first contender is the rebuild, so the ratio column is rebuild / cold. A
 * rebuild that does not give the cold build's digest fails the case. Both
 * open the store and the cache afresh each round, as a new `skiff build`
 * process would, so nothing is kept in memory between builds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, Engine } from '@skiff/sdk';
import { DirectoryContext, FsBuildCache, FsImageLayout } from '@skiff/sdk/node';
import type { BenchCase, Contender } from '../harness.js';
import { makeFileTree } from '../peers/file-tree.js';
import { exec, which } from '../peers/tools.js';

const MiB = 1 << 20;

const DOCKERFILE = `FROM scratch
ENV APP=/app MODE=bench
WORKDIR /app
COPY src/ ./src/
COPY assets/ ./assets/
COPY config.txt ./
ENV PATH=/app/bin
WORKDIR /app/data
COPY docs/ /usr/share/doc/app/
LABEL org.example.bench=1
CMD ["/app/bin/tool"]
`;

interface Store {
  dir: string;
  builder: Builder;
}

async function openStore(dir: string): Promise<Store> {
  const layout = await FsImageLayout.open(join(dir, 'layout'));
  const engine = new Engine({ layout, backends: [] });
  return { dir, builder: new Builder(engine, new FsBuildCache(join(dir, 'build-cache.json'))) };
}

/** Whether a Docker engine answers (then `docker build` is measured too). */
async function dockerEngine(): Promise<string | undefined> {
  const docker = which('docker');
  if (!docker) return undefined;
  const r = await exec(docker, ['info', '--format', '{{.ServerVersion}}'], { allowFail: true, timeout: 5000 });
  return r.code === 0 ? docker : undefined;
}

export const buildCase: BenchCase = {
  name: 'build',
  description: 'build a Dockerfile (FROM scratch, 4 COPY, 2 ENV, 2 WORKDIR, LABEL, CMD) over a context of a few MB: unchanged rebuild vs cold build',
  goal: 'rebuild under 5% of the cold build (ratio < 0.05x), same digest',
  rounds: { quick: 3, full: 9 },
  async setup({ quick }) {
    const work = mkdtempSync(join(tmpdir(), 'skiff-bench-build-'));
    try {
      const ctxDir = join(work, 'context');
      const size = quick ? 1 * MiB : 4 * MiB;
      makeFileTree(join(ctxDir, 'src'), size / 2);
      makeFileTree(join(ctxDir, 'assets'), size / 2);
      makeFileTree(join(ctxDir, 'docs'), 64 << 10);
      writeFileSync(join(ctxDir, 'config.txt'), 'mode=bench\n');
      writeFileSync(join(ctxDir, 'Dockerfile'), DOCKERFILE);
      writeFileSync(join(ctxDir, '.dockerignore'), '*.tmp\n');
      const context = new DirectoryContext(ctxDir);
      const tag = 'bench/build:1';

      // The rebuild's store: built cold once; every rebuild must give this digest.
      const warmDir = join(work, 'warm');
      const first = await (await openStore(warmDir)).builder.build({ context, tags: [tag], platform: 'linux/amd64' });
      let n = 0;
      const contenders: Contender[] = [
        {
          name: 'skiff rebuild (warm cache)',
          async run() {
            const t0 = performance.now();
            const warm = await openStore(warmDir);
            const r = await warm.builder.build({ context, tags: [tag], platform: 'linux/amd64' });
            const ms = performance.now() - t0;
            if (r.manifest.digest !== first.manifest.digest) {
              throw new Error(`an unchanged rebuild gave ${r.manifest.digest}, the cold build ${first.manifest.digest}: the build cache is not reproducible`);
            }
            if (r.cached !== r.steps - 1) throw new Error(`an unchanged rebuild reused ${r.cached} of ${r.steps} steps; expected every step after FROM`);
            return ms;
          },
        },
        {
          name: 'skiff cold build',
          async run() {
            const dir = join(work, `cold-${n++}`);
            const t0 = performance.now();
            const store = await openStore(dir);
            const r = await store.builder.build({ context, tags: [tag], platform: 'linux/amd64' });
            const ms = performance.now() - t0;
            if (r.cached !== 0) throw new Error(`a cold build reused ${r.cached} steps from a fresh cache`);
            rmSync(dir, { recursive: true, force: true });
            return ms;
          },
        },
      ];
      const unavailable: Record<string, string> = {};
      const docker = await dockerEngine();
      if (docker) {
        contenders.push(
          { name: 'docker build (warm cache)', run: async () => { await exec(docker, ['build', '-q', '-t', 'skiff-bench-build:1', ctxDir]); } },
          { name: 'docker build --no-cache', run: async () => { await exec(docker, ['build', '-q', '--no-cache', '-t', 'skiff-bench-build:1', ctxDir]); } },
        );
      } else unavailable['docker build'] = 'no Docker engine answers here (docker info fails)';
      return { contenders, unavailable, teardown: async () => rmSync(work, { recursive: true, force: true }) };
    } catch (err) {
      rmSync(work, { recursive: true, force: true });
      throw err;
    }
  },
};
