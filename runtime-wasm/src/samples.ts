/**
 * The sample images that ship with runtime-wasm, made from the committed
 * sample programs (samples/bin/*.wasm). They are assembled on first use,
 * deterministically (fixed times, sorted entries), so every machine gets the
 * same digests, and nothing but the .wasm files is committed.
 *
 *   skiff/hello     /hello.wasm as the entrypoint
 *   skiff/toolbox   /bin/toolbox.wasm with sh, echo, cat, ls, ... linked to it; Cmd sh
 *   skiff/sqlite    the toolbox plus /bin/sqlite3 (SQLite compiled to WASI)
 */
import { formatReference, parseReference, type ImageConfig, type ImageLayout, type ImageSource, type Platform, ImageStore, layerFromFiles, type FileSpec } from '@skiff/sdk';

/** Applets of the toolbox, each a symlink to /bin/toolbox.wasm. */
export const TOOLBOX_APPLETS = ['sh', 'echo', 'cat', 'ls', 'wc', 'env', 'mkdir', 'rm', 'rmdir', 'touch', 'cp', 'mv', 'ln', 'pwd', 'true', 'false', 'sleep', 'seq', 'stat', 'head', 'tee', 'test', '['];

/** 2000-01-01T00:00:00Z: the time of every sample file and config. */
const EPOCH = 946684800;
const CREATED = new Date(EPOCH * 1000).toISOString();
const WASI: Platform = { os: 'wasip1', architecture: 'wasm' };

export type SampleName = 'hello' | 'toolbox' | 'sqlite';
export const SAMPLE_NAMES: Record<string, SampleName> = {
  [formatReference(parseReference('skiff/hello'))]: 'hello',
  [formatReference(parseReference('skiff/toolbox'))]: 'toolbox',
  [formatReference(parseReference('skiff/sqlite'))]: 'sqlite',
};

/** Reads a sample program's bytes (`hello`, `toolbox`, `sqlite`); Node reads samples/bin, a browser fetches. */
export type ProgramReader = (name: SampleName) => Promise<Uint8Array>;

const dir = (path: string): FileSpec => ({ path, type: 'directory', mode: 0o755 });

function baseFiles(): FileSpec[] {
  const enc = new TextEncoder();
  return [
    dir('/bin'), dir('/etc'), dir('/home'), dir('/root'), dir('/tmp'), dir('/var'),
    { path: '/etc/passwd', type: 'file', mode: 0o644, data: enc.encode('root:x:0:0:root:/root:/bin/sh\n') },
    { path: '/etc/group', type: 'file', mode: 0o644, data: enc.encode('root:x:0:\n') },
    { path: '/etc/os-release', type: 'file', mode: 0o644, data: enc.encode('NAME="skiff samples"\nID=skiff\n') },
  ];
}

function toolboxFiles(toolbox: Uint8Array): FileSpec[] {
  return [
    { path: '/bin/toolbox.wasm', type: 'file', mode: 0o755, data: toolbox },
    ...TOOLBOX_APPLETS.map((a): FileSpec => ({ path: `/bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'toolbox.wasm' })),
  ];
}

function config(layers: Array<{ diffId: string }>, defaults: ImageConfig['config'], history: string[]): ImageConfig {
  return {
    created: CREATED,
    architecture: WASI.architecture,
    os: WASI.os,
    config: { Env: ['PATH=/bin'], WorkingDir: '/', ...defaults },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: history.map((h) => ({ created: CREATED, created_by: h })),
  };
}

/** Puts one sample image into `layout` under its name. */
export async function buildSample(layout: ImageLayout, name: SampleName, read: ProgramReader): Promise<string> {
  const store = new ImageStore(layout);
  const ref = formatReference(parseReference(`skiff/${name}`));
  if (name === 'hello') {
    const l = await layerFromFiles(layout, [{ path: '/hello.wasm', type: 'file', mode: 0o755, data: await read('hello') }], EPOCH);
    await store.putImage(ref, config([l], { Entrypoint: ['/hello.wasm'] }, ['COPY hello.wasm /hello.wasm']), [l.descriptor]);
    return ref;
  }
  const base = await layerFromFiles(layout, baseFiles(), EPOCH);
  const tools = await layerFromFiles(layout, toolboxFiles(await read('toolbox')), EPOCH);
  if (name === 'toolbox') {
    await store.putImage(ref, config([base, tools], { Cmd: ['sh'] }, ['base directories', 'COPY toolbox.wasm /bin/ (+ applet links)']), [base.descriptor, tools.descriptor]);
    return ref;
  }
  const sqlite = await layerFromFiles(layout, [{ path: '/bin/sqlite3', type: 'file', mode: 0o755, data: await read('sqlite') }, dir('/data')], EPOCH);
  await store.putImage(ref, config([base, tools, sqlite], { Cmd: ['sqlite3'] }, ['base directories', 'COPY toolbox.wasm /bin/ (+ applet links)', 'COPY sqlite.wasm /bin/sqlite3']), [base.descriptor, tools.descriptor, sqlite.descriptor]);
  return ref;
}

/** An Engine image source that makes a sample image when it is asked for by name. */
export class SampleImageSource implements ImageSource {
  readonly name = 'bundled samples';
  constructor(private readonly read: ProgramReader) {}

  async provide(reference: string, platforms: Platform[], layout: ImageLayout): Promise<boolean> {
    let normalized: string;
    try {
      normalized = formatReference(parseReference(reference));
    } catch {
      return false;
    }
    const sample = SAMPLE_NAMES[normalized];
    if (!sample || !platforms.some((p) => p.os === WASI.os && p.architecture === WASI.architecture)) return false;
    await buildSample(layout, sample, this.read);
    return true;
  }
}
