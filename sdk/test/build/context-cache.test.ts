/**
 * The warm path of a build from a directory: context files are hashed once
 * and then known by their stamp (device, inode, size, mtime, ctime), so an
 * unchanged rebuild reads no COPY source, while any change to a source, even
 * one that keeps its size and mtime, rebuilds from that step.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, statSync, utimesSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/runtime/engine.js';
import { Builder, type BuildEvent } from '../../src/build/builder.js';
import { DirectoryContext } from '../../src/node/build-context.js';
import { FsBuildCache } from '../../src/node/build-cache.js';
import { FsImageLayout } from '../../src/node/fs-layout.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A directory context that counts the files it reads. */
class CountingContext extends DirectoryContext {
  reads: string[] = [];
  override async read(path: string): Promise<Uint8Array> {
    this.reads.push(path);
    return super.read(path);
  }
}

const made: string[] = [];
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

async function setup() {
  const base = mkdtempSync(join(tmpdir(), 'skiff-build-cache-'));
  made.push(base);
  const ctx = join(base, 'ctx');
  mkdirSync(join(ctx, 'src', 'lib'), { recursive: true });
  writeFileSync(join(ctx, 'src', 'a.txt'), 'alpha\n');
  writeFileSync(join(ctx, 'src', 'lib', 'b.txt'), 'bravo\n');
  writeFileSync(join(ctx, 'config.txt'), 'one\n');
  // A whole-second mtime, so the test can put it back exactly.
  utimesSync(join(ctx, 'config.txt'), 1_600_000_000, 1_600_000_000);
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY src/ /app/src/\nENV X=1\nCOPY config.txt /app/\nCMD ["/app/x"]\n');
  const layout = await FsImageLayout.open(join(base, 'images'));
  const open = () => new Builder(new Engine({ layout, backends: [] }), new FsBuildCache(join(base, 'build-cache.json')));
  return { ctx, open, context: new CountingContext(ctx) };
}

async function build(builder: Builder, context: DirectoryContext) {
  const cached: number[] = [];
  const r = await builder.build({ context, tags: ['cache-test:1'], platform: 'linux/amd64', onProgress: (e: BuildEvent) => { if (e.type === 'cached') cached.push(e.step); } });
  return { ...r, cachedSteps: cached };
}

describe('build cache over a directory context', () => {
  it('reuses file digests by stamp across builders, and rebuilds from a changed source', async () => {
    const { ctx, open, context } = await setup();
    const cold = await build(open(), context);
    expect(cold.cached).toBe(0);
    // Files younger than the settle time are not trusted by stamp yet.
    await sleep(150);
    await build(open(), context);
    context.reads = [];
    // A new Builder (as a new `skiff build` process) over the same cache files.
    const warm = await build(open(), context);
    expect(warm.manifest.digest).toBe(cold.manifest.digest);
    expect(warm.cachedSteps).toEqual([2, 3, 4, 5]);
    expect(context.reads).toEqual(['Dockerfile']);

    // Same size and same mtime, new content: the ctime in the stamp still tells.
    const file = join(ctx, 'config.txt');
    const st = statSync(file);
    writeFileSync(file, 'two\n');
    utimesSync(file, 1_600_000_000, 1_600_000_000);
    expect(statSync(file).mtimeMs).toBe(st.mtimeMs);
    const changed = await build(open(), context);
    expect(changed.cachedSteps).toEqual([2, 3]);
    expect(changed.manifest.digest).not.toBe(cold.manifest.digest);
    expect(readFileSync(file, 'utf8')).toBe('two\n');

    // A change in the first COPY's sources rebuilds from that step only: nothing before it to reuse, everything after it rebuilt.
    writeFileSync(join(ctx, 'src', 'lib', 'b.txt'), 'bravo two\n');
    const first = await build(open(), context);
    expect(first.cachedSteps).toEqual([]);
    expect(first.steps).toBe(5);
  });
});
