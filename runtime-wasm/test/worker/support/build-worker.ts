/**
 * Builds the Node container worker (src/worker/node-entry.ts) for tests: a
 * worker thread cannot load TypeScript, and dist/ may be stale. The bundle
 * goes to a temporary directory; `dispose` removes it.
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

export async function buildNodeWorker(): Promise<{ url: URL; dispose: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-worker-'));
  const outfile = join(dir, 'worker-node.mjs');
  await build({
    entryPoints: [join(root, 'runtime-wasm/src/worker/node-entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    alias: { '@skiff/sdk': join(root, 'sdk/src/index.ts') },
    banner: { js: "import { createRequire as __skiffRequire } from 'node:module'; const require = __skiffRequire(import.meta.url);" },
  });
  return { url: new URL(`file://${outfile}`), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
