/**
 * Renames the top of a tar, as docker cp does when the destination gets a
 * new name (`docker cp dir CTR:/new-name`): entries named `from` or under
 * `from/` are renamed to `to`, and so are hard-link targets. `from` may be `.`
 * (a `dir/.` source: every entry is under the new name).
 */
import { readTar } from './tar-reader.js';
import { TarWriter } from './tar-writer.js';

function rename(name: string, from: string, to: string): string {
  if (from === '.') {
    const rest = name.replace(/^\.\/?/, '').replace(/^\/+/, '');
    return rest === '' ? to : `${to}/${rest}`;
  }
  const n = name.replace(/^\.\//, '');
  if (n === from || n === `${from}/`) return to;
  if (n.startsWith(`${from}/`)) return `${to}${n.slice(from.length)}`;
  return name;
}

export function rebaseTar(tar: ReadableStream<Uint8Array>, from: string, to: string): ReadableStream<Uint8Array> {
  const w = new TarWriter();
  void (async () => {
    for await (const e of readTar(tar)) {
      const h = { ...e.header, path: rename(e.header.path, from, to) };
      if (h.type === 'hardlink' && h.linkname) h.linkname = rename(h.linkname, from, to);
      await w.add(h, h.type === 'file' && h.size > 0 ? e.stream() : undefined);
    }
    await w.finish();
  })().catch((err) => w.abort(err));
  return w.readable;
}
