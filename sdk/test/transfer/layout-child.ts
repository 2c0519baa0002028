/**
 * FsImageLayout work in a process of its own, for the crash and lock tests:
 *   node layout-child.mjs DIR setrefs PREFIX COUNT   names PREFIX-0..COUNT-1 one setRef at a time
 *   node layout-child.mjs DIR hang-write              streams 300 KiB of a blob, prints "writing", then waits to be killed
 */
import { FsImageLayout } from '../../src/node/fs-layout.js';
import { MediaType } from '../../src/image/media-types.js';

const [dir, mode, ...rest] = process.argv.slice(2) as [string, string, ...string[]];
const layout = await FsImageLayout.open(dir);

if (mode === 'setrefs') {
  const [prefix, count] = rest as [string, string];
  const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [], annotations: { who: prefix } }));
  const { digest, size } = await layout.writeBytes(bytes);
  for (let i = 0; i < Number(count); i++) await layout.setRef(`example.test/${prefix}:${i}`, { mediaType: MediaType.OciIndex, digest, size });
  process.stdout.write('done\n');
} else if (mode === 'hang-write') {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= 300 * 1024) {
        process.stdout.write('writing\n');
        return new Promise(() => {}); // never ends: the parent kills us here
      }
      sent += 64 * 1024;
      c.enqueue(new Uint8Array(64 * 1024).fill(7));
    },
  });
  await layout.writeStream(stream, { size: 1 << 20 });
}
