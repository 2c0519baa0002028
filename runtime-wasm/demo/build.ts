/**
 * Builds the browser bundle and the demo page into one directory:
 *
 *   skiff.js          @skiff/sdk + @skiff/runtime-wasm (+ its browser side), one ES module
 *   skiff-worker.js   the container worker (a module Web Worker)
 *   app.js            the demo page's script (imports ./skiff.js)
 *   index.html, style.css
 *   images/           an OCI image layout with the sample images, written by the
 *                     code behind `skiff save --format oci-dir`
 *
 * Every bundle is built for platform=browser; a `node:` import (or a bare
 * Node builtin) anywhere in them fails the build.
 */
import { build, type Plugin } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { MemoryImageLayout } from '../../sdk/src/content/memory.js';
import { ImageStore } from '../../sdk/src/image/store.js';
import { formatReference, parseReference } from '../../sdk/src/image/reference.js';
import { layerFromFiles } from '../../sdk/src/build/layer-io.js';
import { exportDirectory } from '../../sdk/src/node/transfer.js';
import { buildSample, type SampleName } from '../src/samples.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const pkg = join(here, '..');
const root = join(pkg, '..');

const NODE_BUILTINS = /^node:|^(assert|buffer|child_process|cluster|crypto|dgram|dns|events|fs|fs\/promises|http|http2|https|module|net|os|path|perf_hooks|process|querystring|readline|stream|string_decoder|timers|tls|tty|url|util|v8|vm|worker_threads|zlib)$/;

/** Fails the build on any Node builtin, naming who imported it. */
export function noNodeBuiltins(found: string[]): Plugin {
  return {
    name: 'no-node-builtins',
    setup(b) {
      b.onResolve({ filter: NODE_BUILTINS }, (args) => {
        found.push(`${args.path} (imported by ${args.importer.replace(root, '')})`);
        return { errors: [{ text: `${args.path} is a Node builtin: the browser bundle must not import it (from ${args.importer.replace(root, '')})` }] };
      });
    },
  };
}

const alias = {
  '@skiff/sdk': join(root, 'sdk/src/index.ts'),
  '@skiff/runtime-wasm': join(pkg, 'src/index.ts'),
};

export interface BundleFile {
  path: string;
  bytes: number;
  gzipBytes: number;
}

export interface BrowserBundle {
  bundle: BundleFile;
  worker: BundleFile;
}

function sizeOf(path: string): BundleFile {
  const data = readFileSync(path);
  return { path, bytes: data.length, gzipBytes: gzipSync(data, { level: 9 }).length };
}

/** skiff.js and skiff-worker.js into `outDir`, minified, with their sizes. */
export async function buildBrowserBundle(outDir: string, options: { minify?: boolean } = {}): Promise<BrowserBundle> {
  mkdirSync(outDir, { recursive: true });
  const found: string[] = [];
  const common = {
    bundle: true, format: 'esm' as const, platform: 'browser' as const, target: 'es2022', minify: options.minify ?? true,
    sourcemap: true, logLevel: 'silent' as const, alias, plugins: [noNodeBuiltins(found)], legalComments: 'none' as const,
  };
  await build({ ...common, entryPoints: [join(pkg, 'src/browser/bundle.ts')], outfile: join(outDir, 'skiff.js') });
  await build({ ...common, entryPoints: [join(pkg, 'src/worker/browser-entry.ts')], outfile: join(outDir, 'skiff-worker.js') });
  if (found.length) throw new Error(`the browser bundle imports Node builtins: ${found.join(', ')}`);
  return { bundle: sizeOf(join(outDir, 'skiff.js')), worker: sizeOf(join(outDir, 'skiff-worker.js')) };
}

/** The demo's images: the samples that are built, plus a runaway guest for the time limit. */
export async function buildDemoImages(outDir: string): Promise<string[]> {
  const layout = new MemoryImageLayout();
  const names: string[] = [];
  const bin = join(pkg, 'samples/bin');
  for (const sample of ['hello', 'toolbox', 'sqlite'] as SampleName[]) {
    if (!existsSync(join(bin, `${sample}.wasm`))) continue;
    names.push(await buildSample(layout, sample, async (n) => new Uint8Array(readFileSync(join(bin, `${n}.wasm`)))));
  }
  const spin = new Uint8Array(readFileSync(join(pkg, 'test/worker/programs/spin.wasm')));
  const layer = await layerFromFiles(layout, [{ path: '/bin/spin', type: 'file', mode: 0o755, data: spin }, { path: '/tmp', type: 'directory', mode: 0o1777 }], 946684800);
  const runaway = formatReference(parseReference('demo/runaway'));
  await new ImageStore(layout).putImage(runaway, {
    created: '2000-01-01T00:00:00.000Z',
    os: 'wasip1',
    architecture: 'wasm',
    config: { Entrypoint: ['/bin/spin'], Cmd: ['spin'], Env: ['PATH=/bin'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created: '2000-01-01T00:00:00.000Z', created_by: 'COPY spin.wasm /bin/spin (spins, allocates, ticks, echoes)' }],
  }, [layer.descriptor]);
  names.push(runaway);
  rmSync(outDir, { recursive: true, force: true });
  await exportDirectory(layout, names, outDir);
  return names;
}

export interface DemoBuild extends BrowserBundle {
  dir: string;
  app: BundleFile;
  images: string[];
}

/** The whole demo into `outDir` (emptied first). */
export async function buildDemo(outDir: string): Promise<DemoBuild> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const bundle = await buildBrowserBundle(outDir);
  const found: string[] = [];
  await build({
    entryPoints: [join(here, 'src/app.ts')], outfile: join(outDir, 'app.js'), bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    minify: true, sourcemap: true, logLevel: 'silent',
    plugins: [
      noNodeBuiltins(found),
      {
        // The page loads skiff from the bundle beside it, not a second copy of its own.
        name: 'skiff-from-bundle',
        setup(b) {
          b.onResolve({ filter: /src\/browser\/bundle\.js$/ }, () => ({ path: './skiff.js', external: true }));
        },
      },
    ],
  });
  if (found.length) throw new Error(`the demo page imports Node builtins: ${found.join(', ')}`);
  cpSync(join(here, 'static'), outDir, { recursive: true });
  const images = await buildDemoImages(join(outDir, 'images'));
  return { ...bundle, dir: outDir, app: sizeOf(join(outDir, 'app.js')), images };
}

export function describeBuild(b: DemoBuild): string {
  const f = (x: BundleFile) => `${(x.bytes / 1024).toFixed(1)} KiB (${(x.gzipBytes / 1024).toFixed(1)} KiB gzipped)`;
  const blobs = join(b.dir, 'images/blobs/sha256');
  const imageBytes = existsSync(blobs) ? readdirSync(blobs).reduce((n, name) => n + statSync(join(blobs, name)).size, 0) : 0;
  return [
    `skiff.js         ${f(b.bundle)}`,
    `skiff-worker.js  ${f(b.worker)}`,
    `app.js           ${f(b.app)}`,
    `images/          ${b.images.length} images (${b.images.join(', ')}), ${(imageBytes / 1024).toFixed(1)} KiB of blobs`,
  ].join('\n');
}
