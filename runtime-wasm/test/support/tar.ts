/** A small uncompressed tar for copy-in tests: entries with defaults for mode, owner and mtime. */
import { TarWriter, type TarHeader } from '../../../sdk/src/layers/tar-writer.js';
import { collect } from '../../../sdk/src/content/util.js';

const enc = new TextEncoder();

export async function tarOf(entries: Array<[Partial<TarHeader> & { path: string; type: TarHeader['type'] }, string?]>): Promise<Uint8Array> {
  const w = new TarWriter();
  const out = collect(w.readable);
  for (const [h, body] of entries) {
    const data = body === undefined ? undefined : enc.encode(body);
    await w.add({ mode: 0o644, uid: 0, gid: 0, mtime: 1700000000, size: data?.length ?? 0, ...h }, data);
  }
  await w.finish();
  return out;
}
