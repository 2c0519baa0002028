/**
 * The browser bundle: skiff.js (@skiff/sdk + @skiff/runtime-wasm + its browser
 * side) and skiff-worker.js build for platform=browser with no Node builtin,
 * and their sizes are reported (test-artifacts/bundle-size.txt).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBrowserBundle, noNodeBuiltins } from '../../demo/build.js';
import { artifactPath } from './support/chromium.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the browser bundle', () => {
  it('builds skiff.js and skiff-worker.js without a node: import, and reports their sizes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-bundle-'));
    dirs.push(dir);
    const b = await buildBrowserBundle(dir);
    const report = [
      `skiff.js         ${b.bundle.bytes} bytes (${(b.bundle.bytes / 1024).toFixed(1)} KiB), ${b.bundle.gzipBytes} gzipped (${(b.bundle.gzipBytes / 1024).toFixed(1)} KiB)`,
      `skiff-worker.js  ${b.worker.bytes} bytes (${(b.worker.bytes / 1024).toFixed(1)} KiB), ${b.worker.gzipBytes} gzipped (${(b.worker.gzipBytes / 1024).toFixed(1)} KiB)`,
    ].join('\n');
    writeFileSync(artifactPath('bundle-size.txt'), `${report}\n`);
    console.log(report);
    // Big enough to hold the runtime, small enough for a page.
    expect(b.bundle.bytes).toBeGreaterThan(100_000);
    expect(b.bundle.gzipBytes).toBeLessThan(200_000);
    expect(b.worker.gzipBytes).toBeLessThan(100_000);
  });

  it('fails the build when a node: import sneaks in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-bundle-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'entry.ts'), "import { readFileSync } from 'node:fs';\nimport * as path from 'path';\nexport const f = [readFileSync, path];\n");
    const found: string[] = [];
    await expect(build({ entryPoints: [join(dir, 'entry.ts')], bundle: true, write: false, platform: 'browser', format: 'esm', logLevel: 'silent', plugins: [noNodeBuiltins(found)] })).rejects.toThrow(/node:fs is a Node builtin/);
    expect(found.map((f) => f.split(' ')[0])).toEqual(['node:fs', 'path']);
  });
});
