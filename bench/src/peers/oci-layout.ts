/** A one-layer OCI image layout on disk around an existing layer file, for umoci. */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, copyFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';

async function sha256Of(file: string, gunzip = false): Promise<string> {
  const h = createHash('sha256');
  const src = createReadStream(file, { highWaterMark: 1 << 20 });
  for await (const chunk of gunzip ? src.pipe(createGunzip()) : src) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

function putBlob(dir: string, data: string | Buffer): { digest: string; size: number } {
  const buf = Buffer.from(data);
  const digest = `sha256:${createHash('sha256').update(buf).digest('hex')}`;
  writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), buf);
  return { digest, size: buf.length };
}

/** Writes `dir` as an OCI layout whose image `tag` has the one gzip layer `layerFile`. */
export async function layoutAroundLayer(dir: string, layerFile: string, tag: string): Promise<void> {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const digest = await sha256Of(layerFile);
  const diffId = await sha256Of(layerFile, true);
  copyFileSync(layerFile, join(dir, 'blobs', 'sha256', digest.slice(7)));
  const { size } = statSync(layerFile);
  const config = putBlob(dir, JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } }));
  const manifest = putBlob(dir, JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size }],
  }));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
}
