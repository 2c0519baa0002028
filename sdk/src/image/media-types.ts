/** OCI and Docker media types (image-spec media-types.md). */
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
} as const;

export function isIndexMediaType(t: string | undefined): boolean {
  return t === MediaType.OciIndex || t === MediaType.DockerManifestList;
}

export function isManifestMediaType(t: string | undefined): boolean {
  return t === MediaType.OciManifest || t === MediaType.DockerManifest;
}

export type LayerCompression = 'none' | 'gzip' | 'zstd';

/** How a layer blob is compressed, from its media type. */
export function layerCompression(mediaType: string): LayerCompression {
  if (mediaType.endsWith('+gzip') || mediaType === MediaType.DockerLayerGzip || mediaType.endsWith('.tar.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd')) return 'zstd';
  return 'none';
}
