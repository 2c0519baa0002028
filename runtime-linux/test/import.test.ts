/** docker cp into a Linux container (importFiles): created, running and exited; overlay, mounts, escapes, metadata. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TarHeader } from '@skiff/sdk';
import { busyboxLayer, CI, makeTar, missingPrerequisite, tempDir } from './fixtures.js';
import { Harness, startAndWait, startRunning } from './harness.js';

const why = missingPrerequisite();
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);

const T = 1600000000;
const h = (path: string, type: TarHeader['type'], extra: Partial<TarHeader> = {}): TarHeader => ({ path, type, mode: type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, size: 0, mtime: T, ...extra });
const f = (path: string, text: string, extra: Partial<TarHeader> = {}): [TarHeader, Uint8Array] => [h(path, 'file', { size: Buffer.byteLength(text), ...extra }), Buffer.from(text)];
const tarOf = async (entries: Array<[TarHeader, Uint8Array?]>) => {
  const bytes = await makeTar(entries);
  return new ReadableStream<Uint8Array>({ start: (c) => { c.enqueue(bytes); c.close(); } });
};

describe.skipIf(!!why)('linux backend: docker cp into a container', () => {
  let hs: Harness;
  let hostDir: string;
  beforeAll(async () => {
    const base = await busyboxLayer();
    // A second layer with a directory the container then deletes (its upper dir holds a whiteout).
    const l2 = await makeTar([[h('data', 'directory')], f('data/old', 'old\n'), f('etc/motd', 'from the image\n')]);
    hs = await Harness.open({}, [base, l2]);
    hostDir = tempDir('skiff-cp-host-');
  });
  afterAll(async () => {
    rmSync(hostDir, { recursive: true, force: true });
    const leaks = await hs?.close();
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
  });

  it('writes into a created container: mode, owner, time, symlinks and hard links; the image layers stay as they were', async () => {
    const c = await hs.create("stat -c '%a %u:%g %Y' /srv/app/run.sh; readlink /srv/app/link; stat -c %h /srv/app/run.sh; cat /srv/app/hard; cat /etc/motd");
    await c.importFiles!('/', await tarOf([
      [h('srv/app', 'directory', { mode: 0o750, uid: 1000, gid: 1000 })],
      f('srv/app/run.sh', 'echo hi\n', { mode: 0o4755, uid: 1000, gid: 100 }),
      [h('srv/app/link', 'symlink', { linkname: 'run.sh' })],
      [h('srv/app/hard', 'hardlink', { linkname: 'srv/app/run.sh' })],
      f('etc/motd', 'copied in\n'),
    ]));
    const r = await startAndWait(c);
    expect(r.stdout).toBe(`4755 1000:100 ${T}\nrun.sh\n2\necho hi\ncopied in\n`);
    // Only the container's upper dir changed.
    const upper = join(hs.state, 'containers', c.id, 'upper');
    expect(readFileSync(join(upper, 'etc/motd'), 'utf8')).toBe('copied in\n');
    await c.remove();
    expect((await hs.run('cat /etc/motd; ls /srv 2>&1 | head -1')).stdout).toBe('from the image\nls: /srv: No such file or directory\n');
  });

  it('a running container sees the new file at once; an exited one takes files for its next start', async () => {
    const c = await hs.create('while [ ! -f /tmp/go ]; do sleep 0.02; done; cat /tmp/go; cat /tmp/later 2>/dev/null || true');
    const run = await startRunning(c);
    await c.importFiles!('/tmp', await tarOf([f('go', 'seen while running\n')]));
    expect((await run.done).stdout).toBe('seen while running\n');
    await c.importFiles!('/tmp', await tarOf([f('later', 'after exit\n')]));
    expect((await startAndWait(c)).stdout).toBe('seen while running\nafter exit\n');
    await c.remove();
  });

  it('makes a directory the container deleted from a lower layer without bringing back its old contents', async () => {
    const c = await hs.create('if [ -f /tmp/second ]; then ls /data; else rm -rf /data; fi');
    expect((await startAndWait(c)).exitCode).toBe(0);
    await c.importFiles!('/', await tarOf([[h('data', 'directory')], f('data/new', 'new\n'), f('tmp/second', '')]));
    expect((await startAndWait(c)).stdout).toBe('new\n');
    expect((await hs.run('ls /data')).stdout).toBe('old\n'); // another container still has the image's /data
    await c.remove();
  });

  it('keeps a tar\'s symlinks and .. inside the container, and OCI whiteout names as plain files', async () => {
    const c = await hs.create('cat /escaped; ls -a /etc | grep -c wh; cat /etc/motd');
    await expect(c.importFiles!('/tmp', await tarOf([f('../../../../escaped', 'x')]))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await c.importFiles!('/tmp', await tarOf([[h('up', 'symlink', { linkname: '../../../../../../..' })], f('up/escaped', 'inside\n'), [h('abs', 'symlink', { linkname: '/' })], f('abs/etc/.wh.motd', '')]));
    const r = await startAndWait(c);
    expect(r.stdout).toBe('inside\n1\nfrom the image\n');
    expect(existsSync('/escaped')).toBe(false);
    await c.remove();
  });

  it('writes under a bind mount or volume to its source; read-only ones and --read-only roots refuse', async () => {
    const bind = join(hostDir, 'bind');
    const vol = join(hostDir, 'vol');
    mkdirSync(bind);
    mkdirSync(vol);
    const mounts = [
      { type: 'bind' as const, source: bind, target: '/mnt', readOnly: false },
      { type: 'volume' as const, volume: { name: 'v', hostPath: vol }, target: '/vol', readOnly: false },
      { type: 'bind' as const, source: hostDir, target: '/ro', readOnly: true },
    ];
    const c = await hs.create('cat /mnt/a /vol/b', { mounts });
    await c.importFiles!('/', await tarOf([f('mnt/a', 'bind\n'), f('vol/b', 'volume\n')]));
    expect(readFileSync(join(bind, 'a'), 'utf8')).toBe('bind\n');
    expect(readFileSync(join(vol, 'b'), 'utf8')).toBe('volume\n');
    expect(existsSync(join(hs.state, 'containers', c.id, 'upper', 'mnt', 'a'))).toBe(false);
    expect((await startAndWait(c)).stdout).toBe('bind\nvolume\n');
    await expect(c.importFiles!('/ro', await tarOf([f('x', 'x')]))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('mounted volume is marked read-only') });
    // While it runs, through /proc/PID/root: the kernel's own mounts.
    const live = await hs.create('while [ ! -f /mnt/stop ]; do sleep 0.02; done', { mounts });
    const run = await startRunning(live);
    await expect(live.importFiles!('/ro', await tarOf([f('x', 'x')]))).rejects.toMatchObject({ message: expect.stringContaining('read-only') });
    await live.importFiles!('/mnt', await tarOf([f('stop', '')]));
    expect((await run.done).exitCode).toBe(0);
    expect(existsSync(join(hostDir, 'x'))).toBe(false);
    await live.remove();
    await c.remove();
    const ro = await hs.create('true', { readOnlyRootfs: true, mounts });
    await expect(ro.importFiles!('/tmp', await tarOf([f('x', 'x')]))).rejects.toMatchObject({ message: expect.stringContaining('container rootfs is marked read-only') });
    await ro.importFiles!('/vol', await tarOf([f('c', 'c')]));
    expect(readFileSync(join(vol, 'c'), 'utf8')).toBe('c');
    await ro.remove();
  });

  it('answers NOT_FOUND for a missing directory and INVALID_ARGUMENT for a file; copyUIDGID gives the container user', async () => {
    const c = await hs.create('stat -c %u:%g /tmp/owned', { process: { user: '1234:5678' } });
    await expect(c.importFiles!('/nope', await tarOf([f('x', 'x')]))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.importFiles!('/etc/motd', await tarOf([f('x', 'x')]))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await c.importFiles!('/tmp', await tarOf([f('owned', 'x', { uid: 1, gid: 1 })]), { copyUIDGID: true });
    expect((await startAndWait(c)).stdout).toBe('1234:5678\n');
    await c.remove();
  });
});

