import { describe, expect, it } from 'vitest';
import { readTar } from '@skiff/sdk';
import { createContainerFs } from './container.js';
import { indexLayer } from './layer-index.js';
import { bytes, dir, file, hardlink, layer, open, read, RW, symlink, tree, whiteout, write } from './test-fixtures.js';

async function base() {
  return [
    await layer([
      dir('etc'), file('etc/a', 'a'), file('etc/b', 'b'), dir('opt/app/lib'), file('opt/app/lib/x', 'x'), file('opt/app/run', 'run'),
      dir('data'), file('data/keep', 'k'), file('data/drop', 'd'), file('h1', 'hard'), hardlink('h2', 'h1'),
    ]),
    await layer([file('etc/b', 'b2'), whiteout('etc/.wh.a'), file('etc/c', 'c'), symlink('etc/link', 'c')]),
  ];
}

async function entriesOf(stream: ReadableStream<Uint8Array>) {
  const out: Array<{ path: string; type: string; body: string }> = [];
  for await (const e of readTar(stream)) out.push({ path: e.header.path, type: e.header.type, body: new TextDecoder().decode(await e.bytes()) });
  return out;
}

describe('exportChanges', () => {
  it('is empty for a container that changed nothing, even after reads and lookups', async () => {
    const fs = createContainerFs({ layers: await base() });
    read(fs.root, 'etc/b');
    tree(fs.root);
    open(fs.root, 'dev/null', 0, RW).fd_write(bytes('x'));
    expect(await entriesOf(fs.exportChanges())).toEqual([]);
  });

  it('writes changed files, whiteouts, opaque markers and moved subtrees, and applies back to the same view', async () => {
    const layers = await base();
    const fs = createContainerFs({ layers });
    const root = fs.root;
    write(root, 'etc/b', 'changed');
    write(root, 'etc/new', 'new');
    root.path_unlink_file('etc/c'); // whiteout
    root.path_create_directory('etc/sub');
    write(root, 'etc/sub/deep', 'deep');
    // a lower directory removed and made again: opaque
    root.path_unlink_file('data/keep');
    root.path_unlink_file('data/drop');
    root.path_remove_directory('data');
    root.path_create_directory('data');
    write(root, 'data/fresh', 'fresh');
    // a lower directory renamed: written whole at its new place, whited out at the old one
    root.rename('opt/app', root, 'srv');
    write(root, 'srv/lib/y', 'y');
    // a write through one name of a hard-linked pair
    write(root, 'h2', 'HARD', 0);
    root.path_symlink('/etc/new', 'abs');
    write(root, 'tmp/scratch', 's'); // /tmp is skiff's, its contents are the container's

    const got = await entriesOf(fs.exportChanges());
    const paths = got.map((e) => `${e.type} ${e.path}`);
    expect(paths).toContain('file opt/.wh.app');
    expect(paths).toContain('file etc/.wh.c');
    expect(paths).toContain('file data/.wh..wh..opq');
    expect(paths).toContain('directory srv/');
    expect(paths).toContain('file srv/lib/x'); // unchanged, but in a moved directory
    expect(paths).toContain('directory tmp/');
    expect(paths).not.toContain('file etc/a'); // untouched
    expect(paths.filter((p) => p.endsWith(' h1') || p.endsWith(' h2')).sort()).toEqual(['file h1', 'hardlink h2']);
    expect(paths.some((p) => p.includes('dev'))).toBe(false);
    // parents come before their children
    expect(paths.indexOf('directory srv/')).toBeLessThan(paths.indexOf('file srv/lib/x'));

    const exported = await indexLayer(readTar(fs.exportChanges()));
    const applied = createContainerFs({ layers: [...layers, exported] });
    expect(tree(applied.root)).toEqual(tree(root));
    expect(read(applied.root, 'h1')).toBe('HARD');
    expect(applied.root.path_filestat_get(0, 'h1').filestat!.nlink).toBe(2n);
  });

  it('takes the changes at the call: later writes do not leak into the stream or the export', async () => {
    const fs = createContainerFs({ layers: await base() });
    write(fs.root, 'etc/b', 'first');
    const stream = fs.exportChanges();
    const fd = open(fs.root, 'etc/b', 0, RW);
    fd.fd_pwrite(bytes('XXXXX'), 0n);
    const got = await entriesOf(stream);
    expect(got.find((e) => e.path === 'etc/b')!.body).toBe('first');
    expect(read(fs.root, 'etc/b')).toBe('XXXXX');
  });
});
