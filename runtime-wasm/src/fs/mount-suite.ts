/**
 * One test suite for host-directory mounts, run over node:fs (bind mounts,
 * runtime-wasm/test/fs) and over a memfs Volume (in-memory volumes, here):
 * reading and writing through the mount, read-only mounts, and every way out
 * of the mount we know of, which must all fail and leave the host untouched.
 */
import { describe, expect, it } from 'vitest';
import type { FsLike, Mount } from '@skiff/sdk';
import { Filetype, Oflags } from '../wasi/defs.js';
import { createContainerFs } from './container.js';
import type { DirFd } from './dir-fd.js';
import { dir, errno, file, layer, names, open, read, READ, RW, write } from './test-fixtures.js';

export interface MountFixture {
  fs: FsLike;
  /** A host directory: `<parent>/src` is mounted; nothing else under `parent` may change. */
  parent: string;
  /** The mount of `source` at `target`. */
  mount(source: string, target: string, readOnly: boolean): Mount;
  /** node:fs for bind mounts. */
  hostFs?: FsLike;
  cleanup?(): void;
}

/** Everything under `dir` but `skip`: path -> kind and content. */
function snapshot(fs: FsLike, dir: string, skip: string, out: Record<string, string> = {}): Record<string, string> {
  for (const name of (fs.readdirSync(dir) as unknown[]).map(String).sort()) {
    const p = `${dir}/${name}`;
    if (p === skip) continue;
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) out[p] = `link:${String(fs.readlinkSync(p))}`;
    else if (st.isDirectory()) {
      out[p] = `dir:${(st.mode & 0o7777).toString(8)}`;
      snapshot(fs, p, skip, out);
    } else out[p] = `file:${String(fs.readFileSync(p, 'utf8'))}:${st.mtimeMs}`;
  }
  return out;
}

export function mountSuite(title: string, make: () => MountFixture): void {
  describe(title, () => {
    async function setup(readOnly = false) {
      const fx = make();
      const { fs, parent } = fx;
      fs.mkdirSync(`${parent}/src/sub`, { recursive: true });
      fs.writeFileSync(`${parent}/src/hello`, 'hello from the host');
      fs.writeFileSync(`${parent}/src/sub/inner`, 'inner');
      fs.writeFileSync(`${parent}/outside-secret`, 'secret');
      fs.mkdirSync(`${parent}/outside-dir`);
      // Symlinks a host user planted in the source, pointing out of it.
      fs.symlinkSync('../outside-secret', `${parent}/src/evil-rel`);
      fs.symlinkSync(`${parent}/outside-secret`, `${parent}/src/evil-abs`);
      fs.symlinkSync(`${parent}/outside-dir`, `${parent}/src/evil-dir`);
      const layers = [await layer([dir('etc'), file('etc/passwd', 'container passwd'), file('outside-secret', 'the container\'s own')])];
      const c = createContainerFs({ layers, mounts: [fx.mount(`${parent}/src`, '/data', readOnly)], ...(fx.hostFs ? { hostFs: fx.hostFs } : {}) });
      const before = snapshot(fs, parent, `${parent}/src`);
      const mnt = c.preopens.find((p) => p.name === '/data')!.fd;
      return { fx, fs, parent, c, root: c.root, mnt, before, after: () => snapshot(fs, parent, `${parent}/src`) };
    }

    it('reads and writes through the mount, at its path and as its own preopen', async () => {
      const { fs, parent, c, root, mnt } = await setup();
      try {
        expect(c.preopens.map((p) => p.name)).toEqual(['/', '/data']);
        expect(read(root, 'data/hello')).toBe('hello from the host');
        expect(read(mnt, 'sub/inner')).toBe('inner');
        write(root, 'data/new', 'from the guest');
        expect(String(fs.readFileSync(`${parent}/src/new`, 'utf8'))).toBe('from the guest');
        write(mnt, 'new', 'more', 0, 1 /* APPEND */);
        expect(read(root, 'data/new')).toBe('from the guestmore');
        expect(names(root, 'data')).toEqual(['.', '..', 'evil-abs', 'evil-dir', 'evil-rel', 'hello', 'new', 'sub']);
        expect(errno(mnt.path_create_directory('made'))).toBe('SUCCESS');
        expect(errno(mnt.rename('new', mnt, 'made/moved'))).toBe('SUCCESS');
        expect(String(fs.readFileSync(`${parent}/src/made/moved`, 'utf8'))).toBe('from the guestmore');
        expect(errno(mnt.path_symlink('../hello', 'made/ln'))).toBe('SUCCESS');
        expect(read(mnt, 'made/ln')).toBe('hello from the host');
        const st = root.path_filestat_get(0, 'data/hello').filestat!;
        expect(st.filetype).toBe(Filetype.REGULAR_FILE);
        expect(st.dev).not.toBe(root.path_filestat_get(0, 'etc/passwd').filestat!.dev);
        expect(errno(mnt.path_remove_directory('made'))).toBe('NOTEMPTY');
        expect(errno(mnt.path_unlink_file('made/moved'))).toBe('SUCCESS');
        expect(errno(mnt.path_unlink_file('made/ln'))).toBe('SUCCESS');
        expect(errno(mnt.path_remove_directory('made'))).toBe('SUCCESS');
        const fd = open(mnt, 'hello', 0, RW);
        expect(fd.fd_filestat_set_size(5n)).toBe(0);
        expect(fd.fd_close()).toBe(0);
        expect(String(fs.readFileSync(`${parent}/src/hello`, 'utf8'))).toBe('hello');
        // the shim's rename protocol works on a host directory too
        const un = mnt.path_unlink('hello');
        expect(errno(mnt.path_link('hello2', un.inode_obj!, true))).toBe('SUCCESS');
        expect(fs.existsSync(`${parent}/src/hello2`)).toBe(true);
        expect(fs.existsSync(`${parent}/src/hello`)).toBe(false);
        // a mount is a mount point: not removable, not renamable
        expect(errno(root.path_remove_directory('data'))).toBe('BUSY');
        expect(errno(root.rename('data', root, 'elsewhere'))).toBe('BUSY');
        expect(root.path_filestat_get(0, 'data').filestat!.ino).toBe(mnt.fd_filestat_get().filestat!.ino);
      } finally {
        c.dispose();
        make().cleanup?.();
      }
    });

    it('refuses every write on a read-only mount with EROFS', async () => {
      const { fs, parent, c, root, mnt, before, after } = await setup(true);
      try {
        expect(read(root, 'data/hello')).toBe('hello from the host');
        expect(errno(root.path_open(0, 'data/hello', 0, RW, 0n, 0))).toBe('ROFS');
        expect(errno(root.path_open(0, 'data/hello', Oflags.TRUNC, READ, 0n, 0))).toBe('ROFS');
        expect(errno(root.path_open(0, 'data/x', Oflags.CREAT, RW, 0n, 0))).toBe('ROFS');
        expect(errno(mnt.path_unlink_file('hello'))).toBe('ROFS');
        expect(errno(mnt.path_create_directory('d'))).toBe('ROFS');
        expect(errno(mnt.path_remove_directory('sub'))).toBe('ROFS');
        expect(errno(mnt.path_symlink('x', 'l'))).toBe('ROFS');
        expect(errno(mnt.rename('hello', mnt, 'h'))).toBe('ROFS');
        expect(errno(mnt.path_filestat_set_times(0, 'hello', 0n, 0n, 8))).toBe('ROFS');
        const fd = open(mnt, 'hello', 0, READ);
        expect(errno(fd.fd_write(new Uint8Array(1)))).toBe('BADF');
        expect(errno(fd.fd_filestat_set_size(0n))).toBe('INVAL'); // not open for writing, as Linux
        // the root stays writable
        write(root, 'etc/ok', 'ok');
        expect(String(fs.readFileSync(`${parent}/src/hello`, 'utf8'))).toBe('hello from the host');
        expect(after()).toEqual(before);
      } finally {
        c.dispose();
        make().cleanup?.();
      }
    });

    it('lets nothing out: `..`, absolute paths, symlinks up and out, links and renames across mounts', async () => {
      const { fs, parent, c, root, mnt, before, after } = await setup();
      try {
        // `..` from the mount goes to the container's directories, never the host's
        expect(read(mnt, '../outside-secret')).toBe('the container\'s own');
        expect(read(mnt, '../../../../../../outside-secret')).toBe('the container\'s own');
        expect(read(root, 'data/../../../etc/passwd')).toBe('container passwd');
        expect(read(mnt, 'sub/../../etc/passwd')).toBe('container passwd');
        expect(errno(mnt.path_filestat_get(0, `${parent}/outside-secret`))).toBe('PERM');
        // symlinks the host planted are read in the container's view
        expect(read(mnt, 'evil-rel')).toBe('the container\'s own');
        expect(errno(mnt.path_open(1, 'evil-abs', 0, READ, 0n, 0))).toBe('NOENT');
        expect(errno(mnt.path_open(1, 'evil-dir/x', Oflags.CREAT, RW, 0n, 0))).toBe('NOENT');
        expect(errno(mnt.path_create_directory('evil-dir/y'))).toBe('NOENT');
        // symlinks the guest makes, up and out
        expect(errno(mnt.path_symlink('../../../../..', 'up'))).toBe('SUCCESS');
        expect(errno(mnt.path_symlink('/', 'rootlink'))).toBe('SUCCESS');
        expect(errno(mnt.path_symlink(parent, 'hostpath'))).toBe('SUCCESS');
        expect(read(mnt, 'up/etc/passwd')).toBe('container passwd');
        expect(read(mnt, 'rootlink/outside-secret')).toBe('the container\'s own');
        write(mnt, 'up/pwned', 'x');
        write(mnt, 'rootlink/pwned2', 'x');
        expect(read(root, 'pwned')).toBe('x'); // landed in the container's own layer
        expect(errno(mnt.path_open(1, 'hostpath/outside-secret', Oflags.CREAT | Oflags.TRUNC, RW, 0n, 0))).toBe('NOENT');
        // hard links and renames between the mount and the root
        const secret = root.path_lookup('outside-secret', 0).inode_obj!;
        expect(errno(mnt.path_link('stolen', secret, false))).toBe('XDEV');
        const hello = mnt.path_lookup('hello', 0).inode_obj!;
        expect(errno(root.path_link('hello-link', hello, false))).toBe('XDEV');
        expect(errno(root.rename('outside-secret', mnt, 'moved'))).toBe('XDEV');
        expect(errno(mnt.rename('hello', root, 'tmp/hello'))).toBe('XDEV');
        const un = mnt.path_unlink('hello'); // the shim's rename across: refused, then put back
        expect(errno(root.path_link('tmp/hello', un.inode_obj!, true))).toBe('XDEV');
        expect(errno(mnt.path_link('hello', un.inode_obj!, true))).toBe('SUCCESS');
        expect(read(mnt, 'hello')).toBe('hello from the host');
        // a directory fd whose path on the host is swapped for a symlink out
        const sub = open(mnt, 'sub', Oflags.DIRECTORY, READ) as DirFd;
        expect(errno(mnt.rename('sub', mnt, 'sub-moved'))).toBe('SUCCESS');
        fs.symlinkSync(`${parent}/outside-dir`, `${parent}/src/sub`);
        expect(errno(sub.path_open(0, 'planted', Oflags.CREAT, RW, 0n, 0))).not.toBe('SUCCESS');
        expect(errno(sub.path_create_directory('planted-dir'))).not.toBe('SUCCESS');
        expect(errno(sub.path_filestat_get(0, '.'))).toBe('SUCCESS');
        expect(sub.fd_readdir_single(2n).dirent).toBeNull();
        fs.unlinkSync(`${parent}/src/sub`);
        // nothing outside the source changed
        expect(after()).toEqual(before);
        expect(String(fs.readFileSync(`${parent}/outside-secret`, 'utf8'))).toBe('secret');
        expect((fs.readdirSync(`${parent}/outside-dir`) as unknown[]).length).toBe(0);
      } finally {
        c.dispose();
        make().cleanup?.();
      }
    });

    it('binds a single file onto a path', async () => {
      const fx = make();
      try {
        fx.fs.mkdirSync(`${fx.parent}/cfg`, { recursive: true });
        fx.fs.writeFileSync(`${fx.parent}/cfg/app.conf`, 'port=1');
        fx.fs.writeFileSync(`${fx.parent}/cfg/other`, 'not mounted');
        const layers = [await layer([dir('etc'), file('etc/app.conf', 'image default')])];
        const c = createContainerFs({ layers, mounts: [fx.mount(`${fx.parent}/cfg/app.conf`, '/etc/app.conf', false)], ...(fx.hostFs ? { hostFs: fx.hostFs } : {}) });
        expect(c.preopens.map((p) => p.name)).toEqual(['/']); // a file is no preopen
        expect(read(c.root, 'etc/app.conf')).toBe('port=1');
        write(c.root, 'etc/app.conf', 'port=2');
        expect(String(fx.fs.readFileSync(`${fx.parent}/cfg/app.conf`, 'utf8'))).toBe('port=2');
        expect(errno(c.root.path_unlink_file('etc/app.conf'))).toBe('BUSY');
        expect(errno(c.root.rename('etc/app.conf', c.root, 'etc/x'))).toBe('BUSY');
        expect(errno(c.root.path_open(0, 'etc/app.conf/../other', 0, READ, 0n, 0))).toBe('NOTDIR');
        expect(names(c.root, 'etc')).toEqual(['.', '..', 'app.conf']);
        c.dispose();
      } finally {
        fx.cleanup?.();
      }
    });

    it('mounts inside mounts, and a tmpfs', async () => {
      const fx = make();
      try {
        fx.fs.mkdirSync(`${fx.parent}/src`, { recursive: true });
        fx.fs.mkdirSync(`${fx.parent}/other`, { recursive: true });
        fx.fs.writeFileSync(`${fx.parent}/other/o`, 'o');
        const c = createContainerFs({
          layers: [],
          mounts: [
            { type: 'tmpfs', target: '/scratch', readOnly: false },
            fx.mount(`${fx.parent}/other`, '/data/nested/other', true),
            fx.mount(`${fx.parent}/src`, '/data', false),
          ],
          ...(fx.hostFs ? { hostFs: fx.hostFs } : {}),
        });
        expect(c.preopens.map((p) => p.name)).toEqual(['/', '/scratch', '/data/nested/other', '/data']); // the spec's order
        expect(read(c.root, 'data/nested/other/o')).toBe('o');
        expect(fx.fs.statSync(`${fx.parent}/src/nested`).isDirectory()).toBe(true); // made on the host, as Docker does
        write(c.root, 'scratch/t', 't');
        expect(read(c.preopens[1]!.fd, 't')).toBe('t');
        expect(errno(c.root.rename('scratch/t', c.root, 'tmp/t'))).toBe('XDEV');
        const exported = [];
        for await (const chunk of c.exportChanges() as unknown as AsyncIterable<Uint8Array>) exported.push(chunk);
        expect(exported.reduce((n, b) => n + b.length, 0)).toBe(1024); // only the end blocks: mounts are not the container's
        c.dispose();
      } finally {
        fx.cleanup?.();
      }
    });
  });
}
