import { describe, expect, it } from 'vitest';
import { Directory, File, Inode, OpenDirectory, PreopenDirectory, wasi } from '@bjorn3/browser_wasi_shim';
import { namesChanged, newWalkCache, resolvePath, type Resolution } from './resolve.js';
import { Errno } from './defs.js';

class Link extends Inode {
  constructor(readonly target: string) {
    super();
  }
  override path_open() {
    return { ret: Errno.LOOP, fd_obj: null };
  }
  override stat() {
    return new wasi.Filestat(this.ino, wasi.FILETYPE_SYMBOLIC_LINK, 0n);
  }
}
class LDir extends Directory {
  override path_open() {
    return { ret: 0, fd_obj: new LOpen(this) };
  }
}
class LOpen extends OpenDirectory {
  override path_readlink(name: string) {
    const e = this.dir.contents.get(name);
    return e instanceof Link ? { ret: 0, data: e.target } : { ret: Errno.INVAL, data: null };
  }
}
class Root extends LOpen {
  constructor(contents: Map<string, Inode>) {
    super(new LDir(contents));
  }
}

// /a/b/file, /a/up -> .., /abs -> /a/b, /loop -> loop, /dangling -> nowhere, /f (file)
const tree = () => new Root(new Map<string, Inode>([
  ['a', new LDir(new Map<string, Inode>([['b', new LDir(new Map([['file', new File(new Uint8Array([1]))]]))], ['up', new Link('..')]]))],
  ['abs', new Link('/a/b')],
  ['loop', new Link('loop')],
  ['dangling', new Link('nowhere')],
  ['f', new File(new Uint8Array())],
]));

const name = (r: ReturnType<typeof resolvePath>) => (r.ok ? (r.value.kind === 'self' ? '.' : r.value.name) : `errno ${r.errno}`);

describe('resolvePath', () => {
  it('walks components, cleaning . and .. without climbing above the start', () => {
    const root = tree();
    expect(name(resolvePath(root, 'a/./b//file', false))).toBe('file');
    expect(name(resolvePath(root, 'a/b/../b/file', false))).toBe('file');
    expect(name(resolvePath(root, 'a/..', false))).toBe('.');
    expect(resolvePath(root, 'a/../../f', false)).toEqual({ ok: false, errno: Errno.PERM });
    expect(resolvePath(root, '/a', false)).toEqual({ ok: false, errno: Errno.PERM });
  });

  it('keeps `..` at the container root, as a chroot, when starting from the root', () => {
    const root = tree();
    expect(name(resolvePath(root, '../../f', false, root))).toBe('f');
    expect(name(resolvePath(root, 'a/up/../../a/b/file', false, root))).toBe('file');
    // From another directory fd, climbing above it stays an escape.
    const a = root.path_open(0, 'a', 2, 0n, 0n, 0).fd_obj!;
    expect(resolvePath(a, '../f', false, root)).toEqual({ ok: false, errno: Errno.PERM });
  });

  it('refuses empty paths and NULs, and a file used as a directory', () => {
    const root = tree();
    expect(resolvePath(root, '', false)).toEqual({ ok: false, errno: Errno.NOENT });
    expect(resolvePath(root, 'f\0', false)).toEqual({ ok: false, errno: Errno.INVAL });
    expect(resolvePath(root, 'f/x', false)).toEqual({ ok: false, errno: Errno.NOTDIR });
    expect(resolvePath(root, 'no/x', false)).toEqual({ ok: false, errno: Errno.NOENT });
  });

  it('follows symlinks in the middle always and at the end when asked or with a trailing slash', () => {
    const root = tree();
    expect(name(resolvePath(root, 'a/up/a/b/file', false))).toBe('file');
    const last = resolvePath(root, 'a/up', false);
    expect(last.ok && last.value.kind === 'entry' && last.value.inode instanceof Link).toBe(true);
    expect(name(resolvePath(root, 'a/up', true))).toBe('.');
    expect(name(resolvePath(root, 'a/up/', false))).toBe('.');
  });

  it('starts absolute targets at the root when it has one, and refuses them otherwise', () => {
    const root = tree();
    expect(name(resolvePath(root, 'abs/file', false, root))).toBe('file');
    expect(resolvePath(root, 'abs/file', false)).toEqual({ ok: false, errno: Errno.PERM });
  });

  it('stops symlink loops with ELOOP and reports dangling links as missing', () => {
    const root = tree();
    expect(resolvePath(root, 'loop', true)).toEqual({ ok: false, errno: Errno.LOOP });
    const d = resolvePath(root, 'dangling', true);
    expect(d.ok && d.value.kind === 'entry' && d.value.inode === null && d.value.name === 'nowhere').toBe(true);
  });

  it('works over the shim plain directories too', () => {
    const plain = new PreopenDirectory('/', new Map<string, Inode>([['d', new Directory(new Map([['x', new File(new Uint8Array())]]))]]));
    expect(name(resolvePath(plain, 'd/x', true))).toBe('x');
  });
});

describe('resolvePath with a walk cache', () => {
  // Directories walks may remember: each open gives a fresh Fd, as a kept walk Fd would be reused.
  class CDir extends LDir {
    override path_open() {
      return { ret: 0, fd_obj: new COpen(this) };
    }
  }
  class COpen extends LOpen {
    readonly walk_cacheable = true;
  }
  const cachedTree = () => {
    const b = new CDir(new Map<string, Inode>([['file', new File(new Uint8Array([1]))], ['sub', new CDir(new Map())]]));
    const a = new CDir(new Map<string, Inode>([['b', b], ['up', new Link('..')]]));
    return { root: new COpen(new CDir(new Map<string, Inode>([['a', a], ['abs', new Link('/a/b')], ['f', new File(new Uint8Array())]]))), a };
  };
  // What a walk found, by names (Fds differ between walks, nodes do not).
  const summary = (r: Resolution) => (r.ok
    ? { kind: r.value.kind, name: r.value.kind === 'entry' ? r.value.name : '.', found: r.value.kind === 'entry' ? r.value.inode !== null : true, slash: r.value.trailingSlash, depth: r.value.chain.length }
    : { errno: r.errno });

  it('gives what a walk without it gives, for every path after any other', () => {
    const paths = ['a/b/file', 'a/b//', 'a/b/', 'a/b', 'a/b/.', 'a/b/..', 'a/b/../b/file', 'a/b//file', 'a/b/sub/', 'a/b/sub/x', 'a/b/missing', 'a/b/missing/x',
      'a/b/file/', 'a/b/file/x', 'a/up/b/file', 'abs/file', 'a/b/../../f', 'a/../a/b/file', 'f', '.', 'a/b/sub/../file'];
    const { root } = cachedTree();
    for (const first of paths) {
      for (const second of paths) {
        const cache = newWalkCache();
        resolvePath(root, first, false, root, true, cache);
        const withCache = resolvePath(root, second, false, root, true, cache);
        expect(summary(withCache), `${first} then ${second}`).toEqual(summary(resolvePath(root, second, false, root)));
      }
    }
  });

  it('remembers only walks whose directories may be remembered, and forgets them when names change', () => {
    const { root, a } = cachedTree();
    const cache = newWalkCache();
    resolvePath(root, 'a/b/file', false, root, true, cache);
    expect(cache.prefix).toBe('a/b/');
    // The walked directory goes away without this walk seeing it: the epoch says so.
    a.contents.delete('b');
    namesChanged();
    expect(resolvePath(root, 'a/b/file', false, root, true, cache)).toEqual({ ok: false, errno: Errno.NOENT });
    // Plain shim directories are never remembered.
    const plain = tree();
    const other = newWalkCache();
    resolvePath(plain, 'a/b/file', false, plain, true, other);
    expect(other.prefix).toBe('');
    // Nor a walk that followed a symlink.
    resolvePath(root, 'abs/file', false, root, true, other);
    expect(other.prefix).toBe('');
  });
});
