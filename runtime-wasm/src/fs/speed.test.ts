/**
 * The file system alone against the shim's in-memory tree, through the same
 * Fd calls (no WASI layer to dilute the difference): 2,000 files created,
 * stat'ed, read and deleted, by single names and by two-component paths.
 */
import { describe, expect, it } from 'vitest';
import { Directory, PreopenDirectory, type Fd } from '@bjorn3/browser_wasi_shim';
import { Oflags } from '../wasi/defs.js';
import { createContainerFs } from './container.js';
import { file, layer, READ, RW } from './test-fixtures.js';

const N = 2000;
const data = new TextEncoder().encode('hello world, some file content\n');

function workload(dir: Fd, prefix: string): void {
  for (let i = 0; i < N; i++) {
    const fd = dir.path_open(0, `${prefix}f${i}`, Oflags.CREAT, RW, 0n, 0).fd_obj!;
    fd.fd_write(data);
    fd.fd_close();
  }
  for (let i = 0; i < N; i++) if (dir.path_filestat_get(0, `${prefix}f${i}`).filestat?.size !== BigInt(data.length)) throw new Error('stat');
  for (let i = 0; i < N; i++) {
    const fd = dir.path_open(0, `${prefix}f${i}`, 0, READ, 0n, 0).fd_obj!;
    if (fd.fd_read(100).data.length !== data.length) throw new Error('read');
    fd.fd_close();
  }
  for (let i = 0; i < N; i++) if (dir.path_unlink_file(`${prefix}f${i}`) !== 0) throw new Error('unlink');
}

/** Each run's time: runs of the variants alternate, so a busy machine slows them alike. */
function time(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

describe('speed', () => {
  it('creates, stats, reads and deletes 2,000 files within 1.2x of the shim\'s in-memory tree', async () => {
    const layers = [await layer(Array.from({ length: 500 }, (_, i) => file(`usr/share/f${i}`, 'x')))];
    let shim = Infinity, ours = Infinity, shimPath = Infinity, oursPath = Infinity;
    for (let round = 0; round < 25; round++) {
      shim = Math.min(shim, time(() => workload(new PreopenDirectory('/tmp', new Map()), '')));
      ours = Math.min(ours, time(() => {
        const fs = createContainerFs({ layers });
        workload(fs.root.path_open(0, 'tmp', Oflags.DIRECTORY, READ, 0n, 0).fd_obj!, '');
      }));
      shimPath = Math.min(shimPath, time(() => workload(new PreopenDirectory('/', new Map([['tmp', new Directory(new Map())]])), 'tmp/')));
      oursPath = Math.min(oursPath, time(() => workload(createContainerFs({ layers }).root, 'tmp/')));
    }
    console.log(`2000 files, by name: shim ${shim.toFixed(1)} ms, skiff ${ours.toFixed(1)} ms; by path: shim ${shimPath.toFixed(1)} ms, skiff ${oursPath.toFixed(1)} ms`);
    expect(ours / shim).toBeLessThanOrEqual(1.2);
    expect(oursPath / shimPath).toBeLessThanOrEqual(1.2);
  });
});
