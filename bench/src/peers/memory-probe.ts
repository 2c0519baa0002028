/**
 * Peak memory of many idle WASI containers, each measured in a child Node
 * process of its own (so one measurement's garbage never counts in another):
 * skiff's Engine with the wasm backend creating N containers of one image,
 * and the plain browser_wasi_shim building N containers the way its users do,
 * a writable in-memory tree per container made from the image's files.
 * The child reports its peak RSS (getrusage maxrss) as JSON on stdout.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { exec } from './tools.js';

const require = createRequire(import.meta.url);

function url(spec: string): string {
  return pathToFileURL(require.resolve(spec)).href;
}

const SKIFF_CHILD = `
const [cfg] = [JSON.parse(process.argv[1])];
const { Engine } = await import(cfg.urls.sdk);
const { FsImageLayout } = await import(cfg.urls.sdkNode);
const { createNodeWasmBackend } = await import(cfg.urls.wasm);
const layout = await FsImageLayout.open(cfg.layout);
const engine = new Engine({ layout, backends: [createNodeWasmBackend()] });
const held = [];
for (let i = 0; i < cfg.count; i++) held.push(await engine.create({ image: cfg.image, cmd: ['hello'] }));
globalThis.gc?.();
console.log(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, containers: held.length }));
`;

const SHIM_CHILD = `
const [cfg] = [JSON.parse(process.argv[1])];
const { ImageStore, readTar, decompressLayer, WASI_PLATFORM } = await import(cfg.urls.sdk);
const { FsImageLayout } = await import(cfg.urls.sdkNode);
const { WASI, File, Directory, OpenFile, ConsoleStdout, PreopenDirectory } = await import(cfg.urls.shim);
const layout = await FsImageLayout.open(cfg.layout);
const img = await new ImageStore(layout).resolve(cfg.image, [WASI_PLATFORM]);
// The image's files, read once.
const files = [];
for (const l of img.manifest.layers) {
  for await (const e of readTar(decompressLayer(layout.readStream(l.digest), l.mediaType))) {
    if (e.header.type === 'file') files.push([e.header.path.replace(/^\\.?\\//, ''), await e.bytes()]);
  }
}
function tree() {
  const root = new Map();
  for (const [path, data] of files) {
    const parts = path.split('/');
    let dir = root;
    for (const p of parts.slice(0, -1)) {
      let d = dir.get(p);
      if (!d) { d = new Directory(new Map()); dir.set(p, d); }
      dir = d.contents;
    }
    dir.set(parts[parts.length - 1], new File(data));
  }
  return root;
}
const held = [];
for (let i = 0; i < cfg.count; i++) {
  const fds = [new OpenFile(new File([])), new ConsoleStdout(() => {}), new ConsoleStdout(() => {}), new PreopenDirectory('/', tree())];
  held.push(new WASI(['hello'], [], fds, { debug: false }));
}
globalThis.gc?.();
console.log(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, containers: held.length }));
`;

export type MemoryProbeKind = 'skiff' | 'shim';

/** Runs one probe child and returns its peak RSS in MiB. */
export async function peakRssMiB(kind: MemoryProbeKind, o: { layout: string; image: string; count: number }): Promise<number> {
  const urls = { sdk: url('@skiff/sdk'), sdkNode: url('@skiff/sdk/node'), wasm: url('@skiff/runtime-wasm/node'), shim: url('@bjorn3/browser_wasi_shim') };
  const r = await exec(process.execPath, ['--expose-gc', '--no-warnings', '--input-type=module', '-e', kind === 'skiff' ? SKIFF_CHILD : SHIM_CHILD, JSON.stringify({ ...o, urls })]);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { maxRssKiB: number; containers: number };
  if (out.containers !== o.count) throw new Error(`the ${kind} memory probe held ${out.containers} containers, expected ${o.count}`);
  return out.maxRssKiB / 1024;
}
