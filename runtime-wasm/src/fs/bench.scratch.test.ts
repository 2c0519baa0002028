import { it } from 'vitest';
import { Directory, PreopenDirectory, type Fd } from '@bjorn3/browser_wasi_shim';
import { createContainerFs } from './container.js';
import { layer, file, RW, READ } from './test-fixtures.js';

const N = 2000;
const data = new TextEncoder().encode('hello world, some file content\n');
function run(dir: Fd, prefix: string) {
  for (let i = 0; i < N; i++) {
    const r = dir.path_open(0, prefix + 'f' + i, 1, RW, 0n, 0);
    r.fd_obj!.fd_write(data); r.fd_obj!.fd_close();
  }
  for (let i = 0; i < N; i++) if (dir.path_filestat_get(0, prefix + 'f' + i).ret) throw new Error('stat');
  for (let i = 0; i < N; i++) {
    const r = dir.path_open(0, prefix + 'f' + i, 0, READ, 0n, 0);
    if (r.fd_obj!.fd_read(100).data.length !== data.length) throw new Error('read');
    r.fd_obj!.fd_close();
  }
  for (let i = 0; i < N; i++) if (dir.path_unlink_file(prefix + 'f' + i)) throw new Error('unlink');
}
function time(f: () => void, reps = 30) { const ts: number[] = []; for (let k = 0; k < reps; k++) { const t = performance.now(); f(); ts.push(performance.now() - t); } ts.sort((a, b) => a - b); return ts[Math.floor(reps / 2)]!; }

it('bench', async () => {
  const layers = [await layer(Array.from({ length: 200 }, (_, i) => file(`usr/share/f${i}`, 'x')))];
  for (let round = 0; round < 6; round++) {
    const shim = time(() => { const d = new PreopenDirectory('/', new Map([['tmp', new Directory(new Map())]])); run(d, 'tmp/'); });
    const shimFlat = time(() => { const d = new PreopenDirectory('/tmp', new Map()); run(d, ''); });
    const mine = time(() => { const c = createContainerFs({ layers }); run(c.root, 'tmp/'); });
    const mineFlat = time(() => { const c = createContainerFs({ layers }); const t = c.root.path_open(0, 'tmp', 2, READ, 0n, 0).fd_obj!; run(t, ''); });
    console.log(JSON.stringify({ shim: shim.toFixed(2), mine: mine.toFixed(2), ratio: (mine / shim).toFixed(2), shimFlat: shimFlat.toFixed(2), mineFlat: mineFlat.toFixed(2), ratioFlat: (mineFlat / shimFlat).toFixed(2) }));
  }
});
