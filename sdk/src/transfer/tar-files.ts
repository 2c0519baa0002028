/** A tar stream as a sequence of archive files, with clear errors for input that is not a tar. */
import { invalidArgument, isSkiffError } from '../errors/index.js';
import { autoDecompress } from '../layers/compression.js';
import { readTar } from '../layers/tar-reader.js';
import type { ArchiveFile } from './types.js';

/** Reads a (possibly gzip-compressed) tar. An empty input or one that is not a tar fails with INVALID_ARGUMENT. */
export async function* tarFiles(input: ReadableStream<Uint8Array>): AsyncGenerator<ArchiveFile> {
  const stream = await autoDecompress(input);
  let count = 0;
  try {
    for await (const entry of readTar(stream)) {
      count++;
      const h = entry.header;
      const type = h.type === 'file' || h.type === 'directory' || h.type === 'symlink' || h.type === 'hardlink' ? h.type : 'other';
      const file: ArchiveFile = { path: h.path, type, size: h.size, stream: () => entry.stream() };
      if (h.linkname !== undefined) file.linkname = h.linkname;
      yield file;
    }
  } catch (err) {
    if (count === 0 && isSkiffError(err, 'DATA_LOSS')) {
      throw invalidArgument(`the input is not a tar archive (${err.message}); give a file made by \`docker save\`, \`skiff save\` or an OCI layout tar`, err);
    }
    throw err;
  }
  if (count === 0) throw invalidArgument('the archive is empty: it holds no files');
}
