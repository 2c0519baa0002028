/** A pull in its own process, for the kill test: `node pull-child.mjs LAYOUT_DIR REFERENCE`. Prints progress events as JSON lines. */
import { FsImageLayout } from '../../src/node/fs-layout.js';
import { installNodeHasher } from '../../src/node/hasher.js';
import { pullImage } from '../../src/registry/pull.js';

installNodeHasher();
const [dir, reference] = process.argv.slice(2) as [string, string];
const layout = await FsImageLayout.open(dir);
await pullImage({ layout, reference, concurrency: 4, onProgress: (e) => process.stdout.write(`${JSON.stringify(e)}\n`) });
process.stdout.write('"pulled"\n');
