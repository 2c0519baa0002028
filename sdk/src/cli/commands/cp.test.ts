import { describe, expect, it } from 'vitest';
import { planCopy, sourceBase, splitCpArg } from './cp.js';
import { rebaseTar } from '../../layers/rebase.js';
import { TarWriter } from '../../layers/tar-writer.js';
import { readTar } from '../../layers/tar-reader.js';
import { bytesStream, collect } from '../../content/util.js';

describe('docker cp path rules', () => {
  it('splits CONTAINER:PATH unless the argument looks local', () => {
    expect(splitCpArg('web:/etc/motd')).toEqual({ container: 'web', path: '/etc/motd' });
    expect(splitCpArg('./a:b')).toEqual({ path: './a:b' });
    expect(splitCpArg('/abs:x')).toEqual({ path: '/abs:x' });
    expect(splitCpArg('plain')).toEqual({ path: 'plain' });
  });

  it('names the source by its base, `.` for DIR/.', () => {
    expect([sourceBase('a/b.txt'), sourceBase('dir/'), sourceBase('dir/.'), sourceBase('.')]).toEqual(['b.txt', 'dir', '.', '.']);
  });

  it('extracts into an existing directory, renames onto a file or a new name', () => {
    expect(planCopy({ path: 'f.txt', isDir: false }, { path: '/data', exists: true, isDir: true })).toEqual({ dir: '/data' });
    expect(planCopy({ path: 'f.txt', isDir: false }, { path: '/data/g.txt', exists: true, isDir: false })).toEqual({ dir: '/data', rename: { from: 'f.txt', to: 'g.txt' } });
    expect(planCopy({ path: 'dir', isDir: true }, { path: '/data/new', exists: false, isDir: false })).toEqual({ dir: '/data', rename: { from: 'dir', to: 'new' } });
    expect(planCopy({ path: 'dir/.', isDir: true }, { path: '/new', exists: false, isDir: false })).toEqual({ dir: '/', rename: { from: '.', to: 'new' } });
    expect(planCopy({ path: 'f', isDir: false }, { path: 'out', exists: false, isDir: false })).toEqual({ dir: '.', rename: { from: 'f', to: 'out' } });
  });

  it('refuses a directory onto a file and a file into a missing DEST/', () => {
    expect(() => planCopy({ path: 'dir', isDir: true }, { path: '/etc/motd', exists: true, isDir: false })).toThrow(/cannot copy directory/);
    expect(() => planCopy({ path: 'f', isDir: false }, { path: '/nope/', exists: false, isDir: false })).toThrow(/no such directory/);
  });

  it('rebases the top of an archive and its hard links', async () => {
    const w = new TarWriter();
    const out = collect(w.readable);
    const h = { mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0 };
    await w.add({ ...h, path: 'dir', type: 'directory' });
    await w.add({ ...h, path: 'dir/a', type: 'file', size: 1 }, new Uint8Array([65]));
    await w.add({ ...h, path: 'dir/b', type: 'hardlink', linkname: 'dir/a' });
    await w.finish();
    const names: string[] = [];
    for await (const e of readTar(rebaseTar(bytesStream(await out), 'dir', 'new'))) names.push(`${e.header.path}${e.header.linkname ? `->${e.header.linkname}` : ''}`);
    expect(names).toEqual(['new/', 'new/a', 'new/b->new/a']);
  });
});
