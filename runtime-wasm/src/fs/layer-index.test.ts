import { describe, expect, it } from 'vitest';
import { TarWriter, type TarHeader } from '@skiff/sdk';
import { createContainerFs } from './container.js';
import { LayerIndexCache } from './layer-cache.js';
import { indexLayer, lookupInLayer, type LDir, type LFile } from './layer-index.js';
import { LayeredFsProvider } from './provider.js';
import { dir, file, hardlink, layer, read, RW, open, symlink, whiteout, write } from './test-fixtures.js';

const h = (path: string, type: TarHeader['type'], extra: Partial<TarHeader> = {}): TarHeader => ({ path, type, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000, ...extra });

async function tarOf(entries: Array<[TarHeader, string?]>): Promise<ReadableStream<Uint8Array>> {
  const w = new TarWriter();
  void (async () => {
    for (const [header, body] of entries) {
      const b = body === undefined ? undefined : new TextEncoder().encode(body);
      await w.add(b ? { ...header, size: b.length } : header, b);
    }
    await w.finish();
  })();
  return w.readable;
}

describe('layer index', () => {
  it('records files, directories, symlinks, hard links, devices, whiteouts and opaque markers', async () => {
    const idx = await layer([
      dir('a', 0o700), file('a/f', 'F', 0o600), symlink('a/l', 'f'), hardlink('a/h', 'a/f'), file('b/c/deep', 'D'),
      whiteout('a/.wh.gone'), whiteout('b/.wh..wh..opq'), { path: 'dev/zero', type: 'char' },
    ], 'sha256:x');
    const a = lookupInLayer(idx.root, 'a') as LDir;
    expect(a).toMatchObject({ kind: 'dir', mode: 0o700, implicit: false });
    expect([...a.whiteouts!]).toEqual(['gone']);
    const f = lookupInLayer(idx.root, 'a/f') as LFile;
    expect(lookupInLayer(idx.root, 'a/h')).toBe(f); // one node, two names
    expect(f.nlink).toBe(2);
    expect(f.paths).toEqual(['a/f', 'a/h']);
    expect(lookupInLayer(idx.root, 'a/l')).toMatchObject({ kind: 'symlink', target: 'f' });
    expect(lookupInLayer(idx.root, 'b')).toMatchObject({ kind: 'dir', opaque: true, implicit: true });
    expect(lookupInLayer(idx.root, 'dev/zero')).toMatchObject({ kind: 'char' });
    expect(idx).toMatchObject({ diffId: 'sha256:x', files: 2, bytes: 2 });
  });

  it('keeps the metadata of a lower directory when a layer only implies the directory', async () => {
    const fs = createContainerFs({ layers: [await layer([dir('d', 0o700), file('d/x', 'x')]), await layer([file('d/y', 'y')])] });
    const node = fs.root.path_lookup('d', 0).inode_obj as unknown as { mode: number };
    expect(node.mode).toBe(0o700);
  });

  it('lets a later entry replace an earlier one, and resolves a hard link into a lower layer', async () => {
    const fs = createContainerFs({
      layers: [
        await layer([file('lib/base', 'from below')]),
        await layer([file('x', 'first'), file('x', 'second'), dir('y'), file('y', 'now a file'), hardlink('lib/copy', 'lib/base')]),
      ],
    });
    expect(read(fs.root, 'x')).toBe('second');
    expect(read(fs.root, 'y')).toBe('now a file');
    expect(read(fs.root, 'lib/copy')).toBe('from below');
    expect(fs.root.path_filestat_get(0, 'lib/copy').filestat!.ino).toBe(fs.root.path_filestat_get(0, 'lib/base').filestat!.ino);
  });

  it('refuses entries that climb out of the layer', async () => {
    await expect(layer([file('../escape', 'x')])).rejects.toThrow(/outside/);
  });

  it('reads a real tar stream (pax, long names) through the sdk reader', async () => {
    const long = `${'d'.repeat(120)}/${'n'.repeat(120)}`;
    const p = new LayeredFsProvider();
    const idx = await p.indexLayer('sha256:t', await tarOf([[h('etc/', 'directory', { mode: 0o755 })], [h('etc/f', 'file'), 'body'], [h(long, 'file'), 'long'], [h('etc/s', 'symlink', { linkname: 'f' })]]));
    const fs = createContainerFs({ layers: [idx] });
    expect(read(fs.root, 'etc/s')).toBe('body');
    expect(read(fs.root, long)).toBe('long');
  });
});

describe('LayeredFsProvider and the index cache', () => {
  it('indexes each diffID once and shares the index between containers', async () => {
    const cache = new LayerIndexCache();
    const p = new LayeredFsProvider(cache);
    const one = await p.indexLayer('sha256:a', await tarOf([[h('bin/app', 'file'), 'wasm']]));
    let cancelled = false;
    const unread = new ReadableStream<Uint8Array>({ cancel: () => void (cancelled = true) });
    const two = await p.indexLayer('sha256:a', unread);
    expect(two).toBe(one);
    expect(cancelled).toBe(true);
    expect(cache.built).toBe(1);
    const a = p.create({ layers: [one], mounts: [], readOnly: false });
    const b = p.create({ layers: [one], mounts: [], readOnly: false });
    const fa = a.preopens[0]!.fd;
    const fb = b.preopens[0]!.fd;
    const lookup = (fd: typeof fa) => ({ inode: fd.path_lookup('bin/app', 0).inode_obj! });
    // the compiled-module key is the layer's file, the same for both containers, until one writes it
    expect(a.moduleKey!(lookup(fa) as never)).toBe(b.moduleKey!(lookup(fb) as never));
    expect(a.moduleKey!(lookup(fa) as never)).toBeDefined();
    write(fa as never, 'bin/app', 'changed', 0);
    expect(a.moduleKey!(lookup(fa) as never)).toBeUndefined();
    expect(b.moduleKey!(lookup(fb) as never)).toBeDefined();
  });

  it('forgets a failed indexing so the next try starts over', async () => {
    const cache = new LayerIndexCache();
    await expect(cache.get('d', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await Promise.resolve();
    const idx = await cache.get('d', () => indexLayer((async function* () {})()));
    expect(idx.files).toBe(0);
    expect(cache.built).toBe(2);
  });

  it('rejects rights it does not grant: a file opened read-only stays so', async () => {
    const fs = createContainerFs({ layers: [await layer([file('f', 'x')])] });
    const fd = open(fs.root, 'f', 0, RW & ~(1n << 6n));
    expect(fd.fd_write(new Uint8Array(1)).ret).toBe(8);
  });
});
