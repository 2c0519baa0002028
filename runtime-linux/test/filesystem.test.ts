/** File systems: the overlay root, volumes, binds, tmpfs, read-only roots, layers with whiteouts, export. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTar, type TarHeader } from '@skiff/sdk';
import { LinuxBackend } from '../src/index.js';
import { busyboxLayer, CI, makeImage, makeTar, missingPrerequisite, shSpec, tempDir } from './fixtures.js';
import { Harness, startAndWait } from './harness.js';

const why = missingPrerequisite();
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);

const T = 1700000000;
const d = (path: string, mode = 0o755): [TarHeader] => [{ path, type: 'directory', mode, uid: 0, gid: 0, size: 0, mtime: T }];
const f = (path: string, text: string, mode = 0o644): [TarHeader, Uint8Array] => [{ path, type: 'file', mode, uid: 0, gid: 0, size: Buffer.byteLength(text), mtime: T }, Buffer.from(text)];

describe.skipIf(!!why)('linux backend: file systems', () => {
  let h: Harness;
  let base: Uint8Array;
  let hostDir: string;
  beforeAll(async () => {
    base = await busyboxLayer();
    // Layer 2 adds files; layer 3 deletes one (whiteout), replaces a directory's contents (opaque) and adds a device and a hard link.
    const l2 = await makeTar([d('data'), f('data/keep', 'keep\n'), f('data/gone', 'gone\n'), d('data/opaque'), f('data/opaque/old', 'old\n'), f('etc/motd', 'hello\n')]);
    const l3 = await makeTar([
      f('data/.wh.gone', ''), d('data/opaque'), f('data/opaque/.wh..wh..opq', ''), f('data/opaque/new', 'new\n'),
      [{ path: 'data/null', type: 'char', mode: 0o666, uid: 0, gid: 0, size: 0, mtime: T, devmajor: 1, devminor: 3 }],
      [{ path: 'data/fifo', type: 'fifo', mode: 0o600, uid: 0, gid: 0, size: 0, mtime: T }],
      f('data/keep2', 'two\n'),
      [{ path: 'data/keep-link', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: T, linkname: 'data/keep2' }],
    ] as Array<[TarHeader, Uint8Array?]>);
    h = await Harness.open({}, [base, l2, l3]);
    hostDir = tempDir('skiff-host-');
  });
  afterAll(async () => {
    rmSync(hostDir, { recursive: true, force: true });
    const leaks = await h?.close();
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
  });

  it('stacks layers with overlayfs: whiteouts delete, opaque directories hide what was below', async () => {
    const r = await h.run('ls /data; echo ---; ls /data/opaque; cat /etc/motd; ls -l /data/null | cut -c1; test -p /data/fifo && echo fifo; stat -c %h /data/keep-link');
    expect(r.stdout).toBe('fifo\nkeep\nkeep-link\nkeep2\nnull\nopaque\n---\nnew\nhello\nc\nfifo\n2\n');
  });

  it("drops a container's writes on removal; another container never sees them", async () => {
    const a = await h.create('echo secret > /tmp/mine; rm /data/keep; echo changed > /etc/motd');
    expect((await startAndWait(a)).exitCode).toBe(0);
    const upper = join(h.state, 'containers', a.id, 'upper');
    expect(readFileSync(join(upper, 'tmp/mine'), 'utf8')).toBe('secret\n');
    const b = await h.run('cat /tmp/mine; cat /data/keep; cat /etc/motd');
    expect(b.stdout).toBe('keep\nhello\n');
    await a.remove();
    expect(existsSync(join(h.state, 'containers', a.id))).toBe(false);
    // The shared layers are untouched.
    expect((await h.run('cat /data/keep')).stdout).toBe('keep\n');
  });

  it('exports what a container changed as a tar with OCI whiteouts', async () => {
    const c = await h.create('mkdir -p /new/dir && echo x > /new/dir/f; rm /data/keep; rm -rf /data/opaque; mkdir /data/opaque; echo fresh > /data/opaque/only');
    expect((await startAndWait(c)).exitCode).toBe(0);
    const entries: Array<{ path: string; type: string; text?: string }> = [];
    for await (const e of readTar(c.exportChanges())) {
      const text = e.header.type === 'file' ? Buffer.from(await e.bytes()).toString() : undefined;
      entries.push({ path: e.header.path.replace(/\/$/, ''), type: e.header.type, ...(text !== undefined ? { text } : {}) });
    }
    await c.remove();
    const paths = entries.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['new', 'new/dir', 'new/dir/f', 'data/.wh.keep', 'data/opaque', 'data/opaque/.wh..wh..opq', 'data/opaque/only']));
    expect(entries.find((e) => e.path === 'new/dir/f')?.text).toBe('x\n');
    // Mount points the runtime made for itself stay out.
    expect(paths.some((p) => p.startsWith('proc') || p.startsWith('dev') || p.startsWith('sys') || p === 'etc/hostname' || p === 'etc/hosts')).toBe(false);
  });

  it('keeps volume data after the container is removed', async () => {
    const vol = join(hostDir, 'vol');
    mkdirSync(vol);
    const w = await h.run('echo persisted > /vol/file', { mounts: [{ type: 'volume', volume: { name: 'v1', hostPath: vol }, target: '/vol', readOnly: false }] });
    expect(w.exitCode).toBe(0);
    expect(readFileSync(join(vol, 'file'), 'utf8')).toBe('persisted\n');
    const r = await h.run('cat /vol/file', { mounts: [{ type: 'volume', volume: { name: 'v1', hostPath: vol }, target: '/vol', readOnly: true }] });
    expect(r.stdout).toBe('persisted\n');
  });

  it('bind-mounts read-write and read-only (EROFS)', async () => {
    const dir = join(hostDir, 'bind');
    mkdirSync(dir);
    writeFileSync(join(dir, 'from-host'), 'host data\n');
    const rw = await h.run('cat /mnt/from-host; echo hi > /mnt/from-container', { mounts: [{ type: 'bind', source: dir, target: '/mnt', readOnly: false }] });
    expect(rw.stdout).toBe('host data\n');
    expect(readFileSync(join(dir, 'from-container'), 'utf8')).toBe('hi\n');
    const ro = await h.run('echo x > /mnt/denied; echo "rc=$?"', { mounts: [{ type: 'bind', source: dir, target: '/mnt', readOnly: true }] });
    expect(ro.stdout).toBe('rc=1\n');
    expect(ro.stderr).toContain('Read-only file system');
    expect(existsSync(join(dir, 'denied'))).toBe(false);
    // A single file can be bound too.
    const file = await h.run('cat /etc/from-host', { mounts: [{ type: 'bind', source: join(dir, 'from-host'), target: '/etc/from-host', readOnly: true }] });
    expect(file.stdout).toBe('host data\n');
  });

  it('mounts tmpfs; --read-only makes the root read-only but not the mounts', async () => {
    const r = await h.run('touch /x; echo "root=$?"; touch /tmp/x; echo "tmp=$?"; echo ok > /scratch/f && cat /scratch/f; grep " /scratch " /proc/mounts | cut -d" " -f3', {
      readOnlyRootfs: true,
      mounts: [{ type: 'tmpfs', target: '/scratch', readOnly: false, sizeBytes: 1 << 20 }],
    });
    expect(r.stdout).toBe('root=1\ntmp=1\nok\ntmpfs\n');
    expect(r.stderr).toContain('Read-only file system');
  });

  it('never follows an image symlink out of the root for a mount target', async () => {
    const escape = join(hostDir, 'escape-target');
    const img = await makeImage([base, await makeTar([[{ path: 'evil', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: T, linkname: escape }]])]);
    const b = new LinuxBackend();
    const state = tempDir();
    await b.init({ content: img.layout, stateDir: state });
    const c = await b.create(shSpec(img.image, 'ls /evil', { mounts: [{ type: 'tmpfs', target: '/evil/sub', readOnly: false }] }));
    const r = await startAndWait(c);
    await c.remove();
    await b.close();
    rmSync(state, { recursive: true, force: true });
    expect(r.stdout).toBe('sub\n');
    expect(existsSync(escape)).toBe(false); // made inside the container's root, not on the host
  });

  it('unpacks each layer once and shares it between containers and images', async () => {
    const layersDir = join(h.state, 'layers');
    const before = readdirSync(layersDir).filter((n) => !n.startsWith('.'));
    const ino = statSync(join(layersDir, before[0]!)).ino;
    const c = await h.create('true');
    await c.remove();
    const after = readdirSync(layersDir).filter((n) => !n.startsWith('.'));
    expect(after.sort()).toEqual(before.sort());
    expect(statSync(join(layersDir, before[0]!)).ino).toBe(ino);
    expect(after.length).toBe(3);
  });

  it('refuses a layer whose content does not match its diff_id (DATA_LOSS), leaving nothing behind', async () => {
    const img = await makeImage([await makeTar([f('a', 'a\n')])]);
    img.image.layers[0]!.diffId = `sha256:${'0'.repeat(64)}`;
    const b = new LinuxBackend();
    const state = tempDir();
    try {
      await b.init({ content: img.layout, stateDir: state });
      await expect(b.create(shSpec(img.image, 'true'))).rejects.toMatchObject({ code: 'DATA_LOSS' });
      expect(readdirSync(join(state, 'layers'))).toEqual([]);
    } finally {
      await b.close();
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('refuses a layer blob that is not valid gzip (DATA_LOSS)', async () => {
    const img = await makeImage([await makeTar([f('a', 'a\n')])]);
    const bad = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8]);
    const info = await img.layout.writeBytes(bad);
    img.image.layers[0]!.descriptor = { ...img.image.layers[0]!.descriptor, digest: info.digest, size: info.size };
    const b = new LinuxBackend();
    const state = tempDir();
    try {
      await b.init({ content: img.layout, stateDir: state });
      await expect(b.create(shSpec(img.image, 'true'))).rejects.toMatchObject({ code: 'DATA_LOSS' });
      expect(readdirSync(join(state, 'layers'))).toEqual([]);
    } finally {
      await b.close();
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('refuses a layer that writes through its own symlink', async () => {
    const outside = join(hostDir, 'outside');
    mkdirSync(outside);
    const img = await makeImage([await makeTar([[{ path: 'link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: T, linkname: outside }], f('link/pwned', 'x')])]);
    const b = new LinuxBackend();
    const state = tempDir();
    try {
      await b.init({ content: img.layout, stateDir: state });
      await expect(b.create(shSpec(img.image, 'true'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      await b.close();
      rmSync(state, { recursive: true, force: true });
    }
  });
});
