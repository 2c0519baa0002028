/**
 * /sys/fs/cgroup inside a container, from the helper on a plain bundle (the
 * side-by-side test in sdk/test/daemon/cgroupfs.test.ts compares it with
 * dockerd): each hierarchy shows the container's own cgroup, read-only, and a
 * v1 hierarchy with combined controllers gets runc's links. That layout is
 * made here on a v1 host by binding a hierarchy at a "cpu,cpuacct" mount
 * point in a private mount namespace; on a v2 host the same test checks what
 * the host's cgroup namespace shows instead.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerSpec } from '@skiff/sdk';
import { buildOciConfig, detectCgroupSetup, findHelper, v1Mounts } from '../src/index.js';
import { CI, busyboxPath, missingPrerequisite, requireTool, tempDir } from './fixtures.js';

const why = missingPrerequisite() ?? (requireTool('unshare', 'util-linux') ? undefined : 'unshare (util-linux) is missing');
if (why && CI) throw new Error(`the cgroupfs tests cannot run on CI: ${why}`);

describe.skipIf(!!why)('/sys/fs/cgroup in a container (skiff-runtime run on a bundle)', () => {
  const setup = why ? 'v2' : detectCgroupSetup();
  const name = `skiff-cgfs-${process.pid}`;
  const made: string[] = [];
  let dir: string;

  beforeAll(() => {
    dir = tempDir('skiff-cgroupfs-');
    for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(dir, 'rootfs', d), { recursive: true });
    copyFileSync(busyboxPath()!, join(dir, 'rootfs/bin/busybox'));
  });
  afterAll(() => {
    for (const d of made.reverse()) rmdirSync(d);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The container's cgroup in the memory and cpu hierarchies (v1, and unified on a hybrid host), or one v2 directory, each with a 64 MiB memory limit. */
  let n = 0;
  function cgroups(): { dirs: string[]; memory: string; cpu: string; rel: string } {
    const rel = `/${name}-${n++}/c`;
    const mk = (base: string) => {
      for (const d of [base + rel.slice(0, -2), base + rel]) { mkdirSync(d); made.push(d); }
      return base + rel;
    };
    if (setup === 'v2') {
      const d = mk('/sys/fs/cgroup');
      writeFileSync(`${d}/memory.max`, String(64 << 20));
      return { dirs: [d], memory: d, cpu: d, rel };
    }
    const m = v1Mounts();
    const memory = mk(m.memory!);
    const cpu = mk(m.cpu!);
    writeFileSync(`${memory}/memory.limit_in_bytes`, String(64 << 20));
    return { dirs: [memory, cpu, ...(setup === 'hybrid' ? [mk('/sys/fs/cgroup/unified')] : [])], memory, cpu, rel };
  }

  function bundle(script: string, hostCgroupns: boolean): string {
    const spec = { id: `cgfs${process.pid}`, image: { id: 'x', config: {}, layers: [] }, process: { args: ['/bin/busybox', 'sh', '-c', script], env: ['PATH=/bin'], cwd: '/' }, mounts: [], ...(hostCgroupns ? { hostNamespaces: ['cgroup'] } : {}) } as unknown as ContainerSpec;
    const config = buildOciConfig({ spec, user: { uid: 0, gid: 0, additionalGids: [] }, rootfs: { layersDir: '/', lowerDirs: [], upperDir: '/', workDir: '/' }, deviceCgroup: true });
    delete config.annotations; // a plain root directory
    config.root = { path: join(dir, 'rootfs'), readonly: false };
    const b = join(dir, hostCgroupns ? 'host' : 'private');
    mkdirSync(b, { recursive: true });
    writeFileSync(join(b, 'config.json'), JSON.stringify(config));
    return b;
  }

  /** sh -c of the helper's run, in a private mount namespace after `prepare`. */
  function run(b: string, dirs: string[], prepare = ':'): string {
    const args = dirs.flatMap((d) => ['--cgroup', d]).map((a) => `'${a}'`).join(' ');
    return execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${prepare} && exec ${findHelper()} run --bundle ${b} ${args} </dev/null`], { encoding: 'utf8' });
  }

  it('in a private cgroup namespace, each hierarchy shows the container\'s cgroup as its root, read-only', () => {
    const cg = cgroups();
    const limit = setup === 'v2' ? '/sys/fs/cgroup/memory.max' : '/sys/fs/cgroup/memory/memory.limit_in_bytes';
    const sub = setup === 'v2' ? '/sys/fs/cgroup/sub' : '/sys/fs/cgroup/memory/sub';
    const out = run(bundle(`cat ${limit}; mkdir ${sub} 2>&1; echo "mkdir=$?"; grep " /sys/fs/cgroup" /proc/self/mountinfo | cut -d" " -f4-6`, false), cg.dirs);
    expect(out).toMatch(/^67108864\n.*Read-only file system\nmkdir=1\n/);
    const mounts = out.split('mkdir=1\n')[1]!.trim().split('\n');
    if (setup === 'v2') expect(mounts).toEqual(['/ /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime']);
    else expect(mounts).toEqual(['/ /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime', ...['memory', 'cpu'].map((h) => `/ /sys/fs/cgroup/${h} ro,nosuid,nodev,noexec,relatime`)].sort());
  });

  it('with the host\'s cgroup namespace, v1 binds the container\'s directories and links a combined hierarchy\'s controllers; v2 shows the whole tree', () => {
    const cg = cgroups();
    if (setup === 'v2') {
      const out = run(bundle(`cat /sys/fs/cgroup${cg.rel}/memory.max; cat /proc/self/cgroup`, true), cg.dirs);
      expect(out).toBe(`67108864\n0::${cg.rel}\n`);
      return;
    }
    // A "cpu,cpuacct" mount point of the cpu hierarchy, as hosts that combine the two have it.
    const combined = join(dir, 'h', 'cpu,cpuacct');
    mkdirSync(combined, { recursive: true });
    const cpuMount = v1Mounts().cpu!;
    const cpu = join(combined, cg.cpu.slice(cpuMount.length));
    writeFileSync(`${cg.cpu}/cpu.shares`, '512');
    const out = run(bundle('cd /sys/fs/cgroup && ls; readlink cpu; readlink cpuacct; cat cpu/cpu.shares memory/memory.limit_in_bytes; grep " /sys/fs/cgroup/" /proc/self/mountinfo | cut -d" " -f4-6', true),
      [cg.memory, cpu, ...cg.dirs.slice(2)], `mount --bind '${cpuMount}' '${combined}'`);
    expect(out.split('\n')).toEqual([
      'cpu', 'cpu,cpuacct', 'cpuacct', 'memory',
      'cpu,cpuacct', 'cpu,cpuacct',
      '512', '67108864',
      `${cg.rel} /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime`,
      `${cg.rel} /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime`,
      '',
    ]);
  });

  // A hybrid host has a cgroup2 tree beside its v1 hierarchies: mounted at
  // /sys/fs/cgroup in a private mount namespace, it is the view a v2-only host
  // gives the helper, so its v2 branch runs here too (without controllers).
  it.runIf(setup === 'hybrid')('on a v2 view (the hybrid host\'s cgroup2 tree at /sys/fs/cgroup): cgroup2 read-only, the container\'s cgroup its root in a private namespace', () => {
    const rel = `/${name}-${n++}/c`;
    for (const d of [`/sys/fs/cgroup/unified${rel.slice(0, -2)}`, `/sys/fs/cgroup/unified${rel}`]) { mkdirSync(d); made.push(d); }
    const v2 = 'mount -t cgroup2 cgroup2 /sys/fs/cgroup';
    const probe = 'grep " /sys/fs/cgroup" /proc/self/mountinfo | cut -d" " -f4-6; grep "^0::" /proc/self/cgroup; mkdir /sys/fs/cgroup/sub 2>&1; echo "mkdir=$?"';
    const own = run(bundle(probe, false), [`/sys/fs/cgroup${rel}`], v2).split('\n');
    expect(own.slice(0, 2)).toEqual(['/ /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime', '0::/']);
    expect(own.slice(2).join('\n')).toMatch(/Read-only file system\nmkdir=1\n$/);
    const host = run(bundle(probe, true), [`/sys/fs/cgroup${rel}`], v2).split('\n');
    expect(host.slice(0, 2)).toEqual(['/ /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime', `0::${rel}`]);
  });
});
