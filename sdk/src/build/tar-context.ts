/** A build context sent as a tar (the Docker API's POST /build body). */
import { readTar } from '../layers/tar-reader.js';
import { cleanEntryPath } from '../layers/paths.js';
import { MemoryContext } from './context.js';

export async function contextFromTar(stream: ReadableStream<Uint8Array>): Promise<MemoryContext> {
  const ctx = new MemoryContext();
  for await (const e of readTar(stream)) {
    const path = cleanEntryPath(e.header.path);
    if (path === '') continue;
    const t = e.header.type;
    if (t === 'file' || t === 'hardlink') {
      ctx.addEntry({ path, type: 'file', mode: e.header.mode, size: e.header.size, mtime: e.header.mtime }, t === 'file' ? await e.bytes() : new Uint8Array());
    } else if (t === 'directory') ctx.addEntry({ path, type: 'directory', mode: e.header.mode, size: 0, mtime: e.header.mtime });
    else if (t === 'symlink') ctx.addEntry({ path, type: 'symlink', mode: e.header.mode, size: 0, linkname: e.header.linkname ?? '', mtime: e.header.mtime });
  }
  return ctx;
}
