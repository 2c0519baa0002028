import { describe, it, expect, afterEach } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCgroupManager, detectCgroupSetup, listCgroupIds, v1Mounts } from './index.js';
import { removeCgroupDir } from './remove.js';

// Managers on a fake tree of plain files: what each version writes and reads.
const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const fakeRoot = () => { const d = mkdtempSync(join(tmpdir(), 'cg-')); dirs.push(d); return d; };
const read = (p: string) => readFileSync(p, 'utf8');

describe('cgroups', () => {
  it('removes a cgroup\'s children first, deepest first (a privileged container may make its own)', async () => {
    const root = fakeRoot();
    for (const d of ['c/sub/deeper', 'c/other']) mkdirSync(join(root, d), { recursive: true });
    await removeCgroupDir(join(root, 'c'));
    expect(existsSync(join(root, 'c'))).toBe(false);
    await removeCgroupDir(join(root, 'c')); // gone already: nothing to do
  });

  it('detects one of the three layouts on this host', () => {
    expect(['v1', 'hybrid', 'v2']).toContain(detectCgroupSetup());
  });

  it('finds v1 controller mounts in mountinfo (co-mounted cpu,cpuacct too)', () => {
    const info = [
      '30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory',
      '31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct',
      '32 25 0:28 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
      '33 25 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
    ].join('\n');
    expect(v1Mounts(info)).toEqual({ memory: '/sys/fs/cgroup/memory', cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct', pids: '/sys/fs/cgroup/pids' });
  });

  it('v1: one directory per hierarchy, limits in each controller file, stats and OOM kills read back', async () => {
    const root = fakeRoot();
    const mounts = { memory: `${root}/memory`, cpu: `${root}/cpu`, cpuacct: `${root}/cpu`, pids: `${root}/pids` };
    const m = createCgroupManager('c1', { setup: 'v1', mounts });
    await m.create();
    expect(m.joinPaths).toEqual([`${root}/memory/skiff/c1`, `${root}/cpu/skiff/c1`, `${root}/pids/skiff/c1`]);
    writeFileSync(`${root}/memory/skiff/c1/memory.memsw.limit_in_bytes`, '');
    await m.apply({ memoryBytes: 64 << 20, cpus: 1.5, pidsLimit: 30 });
    expect(read(`${root}/memory/skiff/c1/memory.limit_in_bytes`)).toBe(String(64 << 20));
    expect(read(`${root}/memory/skiff/c1/memory.memsw.limit_in_bytes`)).toBe(String(64 << 20));
    expect(read(`${root}/cpu/skiff/c1/cpu.cfs_quota_us`)).toBe('150000');
    expect(read(`${root}/cpu/skiff/c1/cpu.cfs_period_us`)).toBe('100000');
    expect(read(`${root}/pids/skiff/c1/pids.max`)).toBe('30');
    writeFileSync(`${root}/memory/skiff/c1/memory.usage_in_bytes`, '12345\n');
    writeFileSync(`${root}/cpu/skiff/c1/cpuacct.usage`, '987654321\n');
    writeFileSync(`${root}/pids/skiff/c1/pids.current`, '4\n');
    writeFileSync(`${root}/memory/skiff/c1/memory.oom_control`, 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    expect(await m.stats()).toEqual({ memoryBytes: 12345, memoryLimitBytes: 64 << 20, cpuNanos: 987654321, pids: 4 });
    expect(await m.oomKills()).toBe(2);
    expect(listCgroupIds({ setup: 'v1', mounts })).toEqual(['c1']);
  });

  it('v1: a limit whose controller is not mounted is refused as UNAVAILABLE', async () => {
    const root = fakeRoot();
    const m = createCgroupManager('c2', { setup: 'v1', mounts: { memory: `${root}/memory` } });
    await m.create();
    await expect(m.apply({ pidsLimit: 5 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('v1: device rules (deny all, allow Docker\'s defaults) go on the parent; --privileged stays out', async () => {
    const root = fakeRoot();
    const m = createCgroupManager('c3', { setup: 'v1', mounts: { devices: `${root}/devices` }, parent: 'skiff/k3' });
    await m.create();
    // A plain file keeps only the last write; the deny came first.
    expect(read(`${root}/devices/skiff/k3/devices.deny`)).toBe('a');
    expect(read(`${root}/devices/skiff/k3/devices.allow`)).toBe('c 10:200 rwm');
    expect(existsSync(`${root}/devices/skiff/k3/c3`)).toBe(true);
    expect(existsSync(`${root}/devices/skiff/k3/c3/devices.deny`)).toBe(false);
    const p = createCgroupManager('c4', { setup: 'v1', mounts: { devices: `${root}/devices` }, parent: 'skiff/k3', allowAllDevices: true });
    expect(p.joinPaths).toEqual([]);
  });

  it('v2: enables controllers down the tree, writes memory.max, cpu.max, pids.max, reads stats', async () => {
    const root = fakeRoot();
    writeFileSync(`${root}/cgroup.controllers`, 'cpuset cpu io memory pids\n');
    writeFileSync(`${root}/cgroup.subtree_control`, 'cpu\n');
    const m = createCgroupManager('c4', { setup: 'v2', root });
    await m.create();
    expect(read(`${root}/cgroup.subtree_control`)).toBe('+memory +pids');
    expect(read(`${root}/skiff/cgroup.subtree_control`)).toBe('+memory +cpu +pids');
    expect(m.joinPaths).toEqual([`${root}/skiff/c4`]);
    writeFileSync(`${root}/skiff/c4/cgroup.controllers`, 'cpu memory pids\n');
    writeFileSync(`${root}/skiff/c4/memory.swap.max`, 'max\n');
    await m.apply({ memoryBytes: 32 << 20, cpus: 0.25, pidsLimit: 10 });
    expect(read(`${root}/skiff/c4/memory.max`)).toBe(String(32 << 20));
    expect(read(`${root}/skiff/c4/memory.swap.max`)).toBe('0');
    expect(read(`${root}/skiff/c4/cpu.max`)).toBe('25000 100000');
    expect(read(`${root}/skiff/c4/pids.max`)).toBe('10');
    writeFileSync(`${root}/skiff/c4/memory.current`, '4096\n');
    writeFileSync(`${root}/skiff/c4/cpu.stat`, 'usage_usec 1500\nuser_usec 1000\n');
    writeFileSync(`${root}/skiff/c4/pids.current`, '2\n');
    writeFileSync(`${root}/skiff/c4/memory.events`, 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    expect(await m.stats()).toEqual({ memoryBytes: 4096, memoryLimitBytes: 32 << 20, cpuNanos: 1_500_000, pids: 2 });
    expect(await m.oomKills()).toBe(1);
  });

  it('v1 update: memsw stays at or above the limit at every step; swap, reservation, shares, quota and period', async () => {
    const root = fakeRoot();
    const mounts = { memory: `${root}/memory`, cpu: `${root}/cpu`, pids: `${root}/pids` };
    const m = createCgroupManager('u1', { setup: 'v1', mounts });
    await m.create();
    const dir = `${root}/memory/skiff/u1`;
    writeFileSync(`${dir}/memory.memsw.limit_in_bytes`, String(32 << 20));
    await m.apply({ memoryBytes: 64 << 20, memorySwapBytes: 128 << 20, memoryReservationBytes: 16 << 20, cpuShares: 512, cpuQuotaUs: 50_000, cpuPeriodUs: 20_000 });
    expect(read(`${dir}/memory.limit_in_bytes`)).toBe(String(64 << 20));
    expect(read(`${dir}/memory.memsw.limit_in_bytes`)).toBe(String(128 << 20));
    expect(read(`${dir}/memory.soft_limit_in_bytes`)).toBe(String(16 << 20));
    expect(read(`${root}/cpu/skiff/u1/cpu.shares`)).toBe('512');
    expect(read(`${root}/cpu/skiff/u1/cpu.cfs_quota_us`)).toBe('50000');
    expect(read(`${root}/cpu/skiff/u1/cpu.cfs_period_us`)).toBe('20000');
    await m.apply({ memoryBytes: 16 << 20, memorySwapBytes: -1, pidsLimit: -1 });
    expect(read(`${dir}/memory.memsw.limit_in_bytes`)).toBe('-1');
    expect(read(`${root}/pids/skiff/u1/pids.max`)).toBe('max');
    await m.apply({ memoryBytes: 8 << 20 });
    expect(read(`${dir}/memory.limit_in_bytes`)).toBe(String(8 << 20));
    expect(read(`${dir}/memory.memsw.limit_in_bytes`)).toBe(String(8 << 20));
    await expect(createCgroupManager('u2', { setup: 'v1', mounts: { memory: `${root}/memory` } }).apply({ cpuShares: 100 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // No swap accounting (no memsw file): a memory+swap limit is refused, not dropped; -1 and none are fine.
    const plain = createCgroupManager('u4', { setup: 'v1', mounts });
    await plain.create();
    await expect(plain.apply({ memoryBytes: 64 << 20, memorySwapBytes: 128 << 20 })).rejects.toThrow(/does not account swap.*swapaccount=1/);
    await plain.apply({ memoryBytes: 64 << 20, memorySwapBytes: -1 });
    expect(read(`${root}/memory/skiff/u4/memory.limit_in_bytes`)).toBe(String(64 << 20));
  });

  it('v2 update: swap.max is the swap alone, memory.low the reservation, cpu.weight from shares, cpu.max from quota and period', async () => {
    const root = fakeRoot();
    writeFileSync(`${root}/cgroup.controllers`, 'cpu memory pids\n');
    const m = createCgroupManager('u3', { setup: 'v2', root });
    await m.create();
    const dir = `${root}/skiff/u3`;
    writeFileSync(`${dir}/cgroup.controllers`, 'cpu memory pids\n');
    writeFileSync(`${dir}/memory.swap.max`, 'max\n');
    await m.apply({ memoryBytes: 64 << 20, memorySwapBytes: 96 << 20, memoryReservationBytes: 16 << 20, cpuShares: 1024, cpuQuotaUs: 50_000 });
    expect(read(`${dir}/memory.max`)).toBe(String(64 << 20));
    expect(read(`${dir}/memory.swap.max`)).toBe(String(32 << 20));
    expect(read(`${dir}/memory.low`)).toBe(String(16 << 20));
    expect(read(`${dir}/cpu.weight`)).toBe('39');
    expect(read(`${dir}/cpu.max`)).toBe('50000 100000');
    await m.apply({ memoryBytes: 64 << 20, memorySwapBytes: -1, cpuQuotaUs: -1, cpuPeriodUs: 250_000 });
    expect(read(`${dir}/memory.swap.max`)).toBe('max');
    expect(read(`${dir}/cpu.max`)).toBe('max 250000');
  });

  it('v1 cpuset: made only when asked, each level given its parent\'s CPUs and memory nodes, then joined', async () => {
    const root = fakeRoot();
    const mounts = { memory: `${root}/memory`, cpuset: `${root}/cpuset` };
    mkdirSync(`${root}/cpuset`);
    writeFileSync(`${root}/cpuset/cpuset.cpus`, '0-3\n');
    writeFileSync(`${root}/cpuset/cpuset.mems`, '0\n');
    const m = createCgroupManager('s1', { setup: 'v1', mounts, parent: 'skiff/k' });
    await m.create();
    expect(m.joinPaths).toEqual([`${root}/memory/skiff/k/s1`]);
    expect(existsSync(`${root}/cpuset/skiff`)).toBe(false);
    await m.apply({ cpusetCpus: '1' });
    expect(read(`${root}/cpuset/skiff/cpuset.cpus`)).toBe('0-3');
    expect(read(`${root}/cpuset/skiff/k/cpuset.mems`)).toBe('0');
    expect(read(`${root}/cpuset/skiff/k/s1/cpuset.mems`)).toBe('0');
    expect(read(`${root}/cpuset/skiff/k/s1/cpuset.cpus`)).toBe('1');
    expect(m.joinPaths).toEqual([`${root}/memory/skiff/k/s1`, `${root}/cpuset/skiff/k/s1`]);
    // Another process's manager for the same container finds it.
    expect(createCgroupManager('s1', { setup: 'v1', mounts, parent: 'skiff/k' }).joinPaths).toContain(`${root}/cpuset/skiff/k/s1`);
    await expect(createCgroupManager('s2', { setup: 'v1', mounts: { memory: `${root}/memory` } }).apply({ cpusetCpus: '0' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('v2 cpuset: the controller is enabled down the tree only for a container that asks', async () => {
    const root = fakeRoot();
    writeFileSync(`${root}/cgroup.controllers`, 'cpuset cpu memory pids\n');
    const m = createCgroupManager('s3', { setup: 'v2', root });
    await m.create();
    expect(read(`${root}/skiff/cgroup.subtree_control`)).toBe('+memory +cpu +pids');
    writeFileSync(`${root}/skiff/s3/cgroup.controllers`, 'cpu memory pids\n');
    await m.apply({ cpusetCpus: '0-1' });
    expect(read(`${root}/skiff/cgroup.subtree_control`)).toBe('+cpuset');
    expect(read(`${root}/skiff/s3/cpuset.cpus`)).toBe('0-1');
  });

  it('v2: a controller the host does not delegate is UNAVAILABLE', async () => {
    const root = fakeRoot();
    writeFileSync(`${root}/cgroup.controllers`, 'memory\n');
    const m = createCgroupManager('c5', { setup: 'v2', root });
    await m.create();
    writeFileSync(`${root}/skiff/c5/cgroup.controllers`, 'memory\n');
    await expect(m.apply({ pidsLimit: 3 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(existsSync(`${root}/skiff/c5`)).toBe(true);
    mkdirSync(`${root}/skiff/other`);
    expect(listCgroupIds({ setup: 'v2', root }).sort()).toEqual(['c5', 'other']);
  });
  it('v1 pause: a freezer cgroup where there is no v2 side, FROZEN and THAWED written to it; hybrid uses cgroup.freeze instead', async () => {
    const root = fakeRoot();
    const mounts = { memory: `${root}/memory`, freezer: `${root}/freezer` };
    const m = createCgroupManager('f1', { setup: 'v1', mounts });
    await m.create();
    expect(m.joinPaths).toEqual([`${root}/memory/skiff/f1`, `${root}/freezer/skiff/f1`]);
    await m.freeze(true);
    expect(read(`${root}/freezer/skiff/f1/freezer.state`)).toBe('FROZEN');
    await m.freeze(false);
    expect(read(`${root}/freezer/skiff/f1/freezer.state`)).toBe('THAWED');
    // Hybrid: no freezer cgroup (one directory less per start); cgroup.freeze on the unified side.
    const h = createCgroupManager('f2', { setup: 'hybrid', root, mounts });
    await h.create();
    expect(h.joinPaths).toEqual([`${root}/memory/skiff/f2`, `${root}/unified/skiff/f2`]);
    writeFileSync(`${root}/unified/skiff/f2/cgroup.events`, 'populated 1\nfrozen 1\n');
    await h.freeze(true);
    expect(read(`${root}/unified/skiff/f2/cgroup.freeze`)).toBe('1');
    expect(existsSync(`${root}/freezer/skiff/f2`)).toBe(false);
  });

  it('v1 pause without a freezer: UNSUPPORTED, naming what to mount; a container started before it was mounted: UNSUPPORTED too', async () => {
    const root = fakeRoot();
    const m = createCgroupManager('f3', { setup: 'v1', mounts: { memory: `${root}/memory` } });
    await m.create();
    await expect(m.freeze(true)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/freezer/) });
    const old = createCgroupManager('f4', { setup: 'v1', mounts: { memory: `${root}/memory`, freezer: `${root}/freezer` } });
    await expect(old.freeze(true)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/restart it/) });
  });
});
