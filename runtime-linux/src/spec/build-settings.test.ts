/** buildOciConfig for docker's process settings: host namespaces, rlimits, /dev/shm, OOM score, groups. */
import { describe, expect, it } from 'vitest';
import type { ContainerSpec } from '@skiff/sdk';
import { buildOciConfig, type BundleOptions } from './build.js';
import { addGroups } from './user.js';

const spec = (extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  id: 'abcdef0123456789',
  image: { id: 'sha256:x', config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, layers: [] },
  process: { args: ['sh'], env: [], cwd: '/' },
  mounts: [],
  ...extra,
});
const opts = (s: ContainerSpec): BundleOptions => ({
  spec: s,
  user: { uid: 0, gid: 0, additionalGids: [] },
  rootfs: { layersDir: '/l', lowerDirs: ['a'], upperDir: '/u', workDir: '/w' },
  deviceCgroup: true,
});
const shm = (s: ContainerSpec) => buildOciConfig(opts(s)).mounts.find((m) => m.destination === '/dev/shm');

describe('buildOciConfig: process settings', () => {
  it('leaves out the namespaces shared with the host, and the hostname with the UTS one', () => {
    const c = buildOciConfig(opts(spec({ hostNamespaces: ['pid', 'ipc', 'uts', 'cgroup'] })));
    expect(c.linux.namespaces.map((n) => n.type).sort()).toEqual(['mount', 'network']);
    expect(c.hostname).toBeUndefined();
    expect(buildOciConfig(opts(spec())).hostname).toBe('abcdef012345');
    expect(buildOciConfig(opts(spec({ domainname: 'example.com' }))).domainname).toBe('example.com');
  });

  it('--ulimit becomes process.rlimits; --oom-score-adj process.oomScoreAdj', () => {
    const c = buildOciConfig(opts(spec({ ulimits: [{ name: 'nofile', soft: 100, hard: 200 }, { name: 'core', soft: 0, hard: 0 }], oomScoreAdj: 500 })));
    expect(c.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 200, soft: 100 }, { type: 'RLIMIT_CORE', hard: 0, soft: 0 }]);
    expect(c.process.oomScoreAdj).toBe(500);
    const plain = buildOciConfig(opts(spec()));
    expect(plain.process.rlimits).toBeUndefined();
    expect(plain.process.oomScoreAdj).toBeUndefined();
  });

  it('/dev/shm is 64m by default, --shm-size sized, and the host\'s own with --ipc host', () => {
    expect(shm(spec())?.options).toContain('size=65536k');
    expect(shm(spec({ shmSizeBytes: 8 * 1024 * 1024 }))?.options).toContain('size=8388608');
    expect(shm(spec({ hostNamespaces: ['ipc'] }))).toMatchObject({ type: 'bind', source: '/dev/shm' });
  });

  it('--group-add adds groups by number or by the image\'s group names', () => {
    const user = { uid: 0, gid: 0, additionalGids: [1] };
    expect(addGroups(user, ['10', 'audio', '1'], 'root:x:0:\naudio:x:29:\n').additionalGids).toEqual([0, 1, 10, 29]);
    expect(addGroups(user, [], '').additionalGids).toEqual([1]);
    expect(() => addGroups(user, ['nosuch'], 'root:x:0:\n')).toThrow(/unable to find group nosuch/);
  });
});
