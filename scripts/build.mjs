// Builds every package with esbuild: Node entries as ESM for node20, the browser
// entries with platform=browser so a stray `node:` import fails the build.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = { bundle: true, splitting: true, format: 'esm', sourcemap: true, logLevel: 'warning', target: 'node20' };
// Workspace packages stay external so each backend is loaded once, by name.
const external = ['@skiff/*', '@bjorn3/browser_wasi_shim', 'comlink', 'memfs', 'yaml', 'esbuild'];

const entries = [
  { pkg: 'sdk', in: { index: 'src/index.ts', node: 'src/node/index.ts', memory: 'src/memory.ts', cli: 'src/cli/main.ts', testing: 'src/testing/index.ts' }, platform: 'node', external: [...external, 'vitest'] },
  { pkg: 'runtime-wasm', in: { index: 'src/index.ts', node: 'src/node.ts', worker: 'src/worker.ts', browser: 'src/browser/index.ts', 'worker-node': 'src/worker/node-entry.ts' }, platform: 'node' },
  { pkg: 'runtime-linux', in: { index: 'src/index.ts' }, platform: 'node' },
  { pkg: 'bench', in: { run: 'src/run.ts' }, platform: 'node' },
];

for (const e of entries) {
  const entryPoints = {};
  for (const [out, src] of Object.entries(e.in)) {
    const p = join(root, e.pkg, src);
    if (existsSync(p)) entryPoints[out] = p;
  }
  if (Object.keys(entryPoints).length === 0) continue;
  await build({ ...common, entryPoints, outdir: join(root, e.pkg, 'dist'), platform: e.platform, external: e.external ?? external });
}
