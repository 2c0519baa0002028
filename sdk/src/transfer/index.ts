// Image import and export: OCI image layouts and `docker save` archives (isomorphic).
export { importArchive, importFiles, loadedMessages } from './import.js';
export { exportArchive, resolveExportImages, type ExportedImage } from './export.js';
export { tarFiles } from './tar-files.js';
export { imageBlobs, type ImageBlobs } from './walk.js';
export { CONTAINERD_NAME_ANNOTATION } from './names.js';
export type { ArchiveFile, ArchiveFormat, ExportOptions, ImportedImage, ImportOptions, ImportProgress, ImportResult } from './types.js';
