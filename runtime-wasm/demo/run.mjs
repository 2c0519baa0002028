// Runs demo/main.ts without a TypeScript loader: esbuild bundles it (with the
// sdk and runtime sources it imports) into runtime-wasm/node_modules/.cache, then imports it.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Under node_modules, so the packages it imports resolve as from here.
const tmp = join(here, '..', 'node_modules', '.cache', 'skiff-demo');
mkdirSync(tmp, { recursive: true });
const out = join(tmp, 'main.mjs');
await build({
  entryPoints: [join(here, 'main.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20',
  // esbuild stays a package (it has a native binary); the sdk is bundled from its sources.
  external: ['esbuild'], alias: { '@skiff/sdk': join(here, '../../sdk/src/index.ts') }, logLevel: 'warning',
  banner: { js: "import { createRequire as __skiffRequire } from 'node:module'; const require = __skiffRequire(import.meta.url);" },
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(here, 'main.ts')).href) },
});
process.on('SIGINT', () => process.exit(130));
await import(pathToFileURL(out).href);
