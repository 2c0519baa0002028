import { describe, expect, it } from 'vitest';
import { childImageConfig, commitConfig, commitReference, containerConfig, mergeConfig, storeChanges } from './commit.js';
import { MemoryImageLayout } from '../content/memory.js';
import { TarWriter } from '../layers/tar-writer.js';
import type { ContainerRecord } from './records.js';

const record = (over: Partial<ContainerRecord> = {}): ContainerRecord => ({
  id: 'c'.repeat(64), name: 'c', image: 'img', imageId: 'sha256:' + 'a'.repeat(64), manifestDigest: 'sha256:' + 'b'.repeat(64), backend: 'x', created: '',
  path: 'sh', args: ['-c', 'echo hi > /f'], env: ['PATH=/bin', 'FROM_RUN=1'], workingDir: '/w', user: '', cmd: ['sh', '-c', 'echo hi > /f'], tty: false, openStdin: false,
  labels: { img: '1' }, mounts: [], resources: {}, readOnlyRootfs: false, network: 'none', privileged: false, capAdd: [], capDrop: [], autoRemove: false,
  state: { status: 'exited', exitCode: 0, oomKilled: false }, anonymousVolumes: [], ...over,
});

describe('docker commit config', () => {
  const image = { Entrypoint: ['/entry'], Cmd: ['default'], ExposedPorts: { '80/tcp': {} }, Volumes: { '/data': {} }, StopSignal: 'SIGQUIT' };

  it('the container config: its own command, env, labels; the image entrypoint, volumes, stop signal; published ports exposed', () => {
    const c = containerConfig(record({ ports: [{ containerPort: 53, protocol: 'udp', hostIp: '', hostPort: 0 }] }), image);
    expect(c).toMatchObject({ Entrypoint: ['/entry'], Cmd: ['sh', '-c', 'echo hi > /f'], Env: ['PATH=/bin', 'FROM_RUN=1'], WorkingDir: '/w', Labels: { img: '1' }, Volumes: { '/data': {} }, StopSignal: 'SIGQUIT', ExposedPorts: { '80/tcp': {}, '53/udp': {} } });
    // dockerd's order: variables given at create first; the Engine's default PATH is not the config's.
    expect(containerConfig(record({ env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'IMG=1', 'MINE=2'] }), { Env: ['IMG=1'] }).Env).toEqual(['MINE=2', 'IMG=1']);
    expect(containerConfig(record({ env: ['PATH=/bin', 'MINE=2'] }), { Env: ['PATH=/bin'] }).Env).toEqual(['MINE=2', 'PATH=/bin']);
    expect(containerConfig(record(), image, ['8080', '9/udp']).ExposedPorts).toEqual({ '80/tcp': {}, '8080/tcp': {}, '9/udp': {} });
    const anon = record({ mounts: [{ type: 'volume', source: 'v1', target: '/anon', readOnly: false }, { type: 'volume', source: 'named', target: '/named', readOnly: false }], anonymousVolumes: ['v1'] });
    expect(containerConfig(anon, image).Volumes).toEqual({ '/data': {}, '/anon': {} });
    // --entrypoint at create: the image command is not used.
    expect(containerConfig(record({ entrypoint: ['/other'], cmd: undefined }), image)).toMatchObject({ Entrypoint: ['/other'], Cmd: null });
  });

  it("dockerd's merge: the user config's fields win, the container's fill the rest", () => {
    const own = containerConfig(record(), image);
    const m = mergeConfig({ Env: ['FROM_RUN=2', 'NEW=1'], Labels: { extra: 'x' }, ExposedPorts: { '8080/tcp': {} } }, own);
    expect(m.Env).toEqual(['FROM_RUN=2', 'NEW=1', 'PATH=/bin']);
    expect(m.Labels).toEqual({ img: '1', extra: 'x' });
    expect(m.ExposedPorts).toEqual({ '8080/tcp': {}, '80/tcp': {} });
    expect(m.Cmd).toEqual(own.Cmd);
    expect(m.Entrypoint).toEqual(['/entry']);
    expect(commitConfig(own, { changes: ['CMD ["cat", "/f"]'] })).toMatchObject({ Cmd: ['cat', '/f'], Entrypoint: ['/entry'], Env: own.Env });
  });

  it('the child image: one more layer and a history entry, or an empty_layer one; the parent author kept without a new one; the container and its config', () => {
    const parent = { architecture: 'amd64', os: 'linux', author: 'base', rootfs: { type: 'layers' as const, diff_ids: ['sha256:1'] }, history: [{ created_by: 'base' }] };
    const a = childImageConfig(parent, { diffId: 'sha256:2', config: {}, createdBy: 'sh -c x', comment: 'msg', author: 'me', created: 'T', container: 'c1', containerConfig: { Cmd: ['sh', '-c', 'x'] } });
    expect(a.rootfs.diff_ids).toEqual(['sha256:1', 'sha256:2']);
    // As dockerd writes them (its graph driver store; API >= 1.45 inspect hides them).
    expect(a).toMatchObject({ container: 'c1', container_config: { Cmd: ['sh', '-c', 'x'] } });
    expect(a.history?.[1]).toEqual({ created: 'T', created_by: 'sh -c x', author: 'me', comment: 'msg' });
    const b = childImageConfig(parent, { config: {}, createdBy: '', created: 'T', container: 'c2', containerConfig: {} });
    expect(b.rootfs.diff_ids).toEqual(['sha256:1']);
    expect(b.author).toBe('base');
    expect(b.history?.[1]?.empty_layer).toBe(true);
  });

  it('names: repo and tag, latest by default, none without a repo; digests refused', () => {
    expect(commitReference('img', '1')).toMatch(/img:1$/);
    expect(commitReference('img', undefined)).toMatch(/img:latest$/);
    expect(commitReference(undefined, undefined)).toBeUndefined();
    expect(() => commitReference('img@sha256:' + 'a'.repeat(64), undefined)).toThrow(/digest/);
    expect(() => commitReference(undefined, 'x')).toThrow(/needs a repository/);
  });

  it('storeChanges: an empty tar adds no layer; a tar with entries is stored gzipped with its diffID', async () => {
    const layout = new MemoryImageLayout();
    const empty = new TarWriter();
    const none = storeChanges(layout, empty.readable);
    await empty.finish();
    expect(await none).toBeUndefined();
    const w = new TarWriter();
    const some = storeChanges(layout, w.readable);
    await w.add({ path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 2, mtime: 0 }, new TextEncoder().encode('hi'));
    await w.finish();
    const layer = await some;
    expect(layer?.diffId).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await layout.info(layer!.descriptor.digest)).toBeTruthy();
  });
});
