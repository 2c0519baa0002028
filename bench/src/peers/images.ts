/**
 * Test images made on the spot for the benchmarks: each layer a tar+gzip of
 * random files (random data, so no layer is smaller than its size says).
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { digestOf, ImageStore, MediaType, normalizeName, type Descriptor, type ImageConfig, type ImageLayout, type ImageManifest } from '@skiff/sdk';

const enc = new TextEncoder();

/** A ustar header block for a regular file or directory (names up to 100 bytes). */
export function ustarHeader(name: string, size: number, mode = 0o644, type: '0' | '5' = '0', mtime = 1_700_000_000): Uint8Array {
  const h = new Uint8Array(512);
  const put = (off: number, len: number, s: string) => h.set(enc.encode(s).subarray(0, len), off);
  if (enc.encode(name).length > 100) throw new Error(`ustarHeader: name too long: ${name}`);
  put(0, 100, name);
  put(100, 8, `${mode.toString(8).padStart(7, '0')}\0`);
  put(108, 8, '0000000\0');
  put(116, 8, '0000000\0');
  put(124, 12, `${size.toString(8).padStart(11, '0')}\0`);
  put(136, 12, `${mtime.toString(8).padStart(11, '0')}\0`);
  h.fill(0x20, 148, 156);
  put(156, 1, type);
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/**
 * A tar of files given as [name, data, mode?]; a name ending in `/` with empty
 * data is a directory (parents must come first when they matter).
 */
export function tarOfFiles(files: Array<[string, Uint8Array, number?]>): Uint8Array {
  let n = 1024;
  for (const [, d] of files) n += 512 + Math.ceil(d.length / 512) * 512;
  const out = new Uint8Array(n);
  let o = 0;
  for (const [name, d, mode] of files) {
    const dir = name.endsWith('/');
    out.set(ustarHeader(name, d.length, mode ?? (dir ? 0o755 : 0o644), dir ? '5' : '0'), o);
    out.set(d, o + 512);
    o += 512 + Math.ceil(d.length / 512) * 512;
  }
  return out;
}

/**
 * A single-layer WASI image (os wasip1, architecture wasm) under `name`,
 * holding `files` (path without the leading slash -> bytes) and a /tmp.
 */
export async function makeWasiImage(layout: ImageLayout, name: string, files: Record<string, Uint8Array>, entrypoint: string[]): Promise<{ id: string }> {
  const tar = tarOfFiles([['tmp/', new Uint8Array(), 0o1777], ...Object.entries(files).map(([p, d]): [string, Uint8Array, number] => [p, d, 0o755])]);
  const gz = new Uint8Array(gzipSync(tar, { level: 6 }));
  await layout.writeBytes(gz);
  const layer: Descriptor = { mediaType: MediaType.OciLayerGzip, digest: digestOf(gz), size: gz.length };
  const cfg: ImageConfig = {
    os: 'wasip1', architecture: 'wasm',
    config: { Entrypoint: entrypoint, Env: ['PATH=/bin'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [digestOf(tar)] },
  };
  const r = await new ImageStore(layout).putImage(name, cfg, [layer]);
  return { id: r.id };
}

export interface MadeImage {
  manifest: Descriptor;
  layers: Descriptor[];
  /** Bytes of all blobs. */
  bytes: number;
}

/**
 * Writes an image of `layerCount` gzip layers of about `layerBytes` each
 * (random files of 1 MiB) into `layout` under `name`.
 */
export async function makeRandomImage(layout: ImageLayout, name: string, o: { layerCount: number; layerBytes: number }): Promise<MadeImage> {
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  let bytes = 0;
  for (let i = 0; i < o.layerCount; i++) {
    const files: Array<[string, Uint8Array]> = [];
    for (let left = o.layerBytes, j = 0; left > 0; j++) {
      const size = Math.min(left, 1 << 20);
      files.push([`layer${i}/file${j}.bin`, new Uint8Array(randomBytes(size))]);
      left -= size;
    }
    const tar = tarOfFiles(files);
    diffIds.push(digestOf(tar));
    const gz = new Uint8Array(gzipSync(tar, { level: 1 }));
    await layout.writeBytes(gz);
    layers.push({ mediaType: MediaType.OciLayerGzip, digest: digestOf(gz), size: gz.length });
    bytes += gz.length;
  }
  const cfg: ImageConfig = { architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: diffIds } };
  const cfgBytes = enc.encode(JSON.stringify(cfg));
  await layout.writeBytes(cfgBytes);
  const config = { mediaType: MediaType.OciConfig, digest: digestOf(cfgBytes), size: cfgBytes.length };
  const man: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers };
  const manBytes = enc.encode(JSON.stringify(man));
  await layout.writeBytes(manBytes);
  const manifest = { mediaType: MediaType.OciManifest, digest: digestOf(manBytes), size: manBytes.length };
  await layout.setRef(normalizeName(name), manifest);
  return { manifest, layers, bytes: bytes + cfgBytes.length + manBytes.length };
}
