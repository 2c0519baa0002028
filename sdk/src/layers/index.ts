// The layer toolkit (isomorphic): tar reading and writing, compression,
// layer digests, entry paths and OCI whiteouts.
export { readTar, readTarBytes, type TarEntry, type TarBytesEntry, type ReadTarOptions } from './tar-reader.js';
export { TarWriter, tarBytes } from './tar-writer.js';
export type { TarHeader, TarEntryType } from './tar-types.js';
export { gzip, gunzip, decompressLayer, decompress, autoDecompress, sniffCompression, peek } from './compression.js';
export { compressLayer, measureLayer, type CompressedLayer, type LayerDigests } from './diff.js';
export { cleanEntryPath, resolveInside, parentOf } from './paths.js';
export { classifyWhiteout, isWhiteoutMeta, whiteoutPath, WHITEOUT_PREFIX, WHITEOUT_META_PREFIX, OPAQUE_MARKER, type Whiteout } from './whiteout.js';
export { extractTar, extractTarSync, type FileTree, type TreeEntryType, type TreeMeta, type ExtractOptions } from './extract.js';
export { FsTree, treeError } from './fs-tree.js';
export { MountedTree, type TreeMount } from './mount-tree.js';
export { rebaseTar } from './rebase.js';
