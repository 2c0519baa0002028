/** docker update on Linux: new limits reach the container's cgroup at once, running or not. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroupSetup } from '../src/cgroups/index.js';
import { CI, leftoverCgroups, missingPrerequisite } from './fixtures.js';
import { Harness, startAndWait, startRunning } from './harness.js';

const why = missingPrerequisite();
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);
const v2 = !why && detectCgroupSetup() === 'v2';

/** A cgroup file of the container, read on the host (v1: in the controller's own hierarchy). */
function cgroupFile(id: string, controller: string, file: string): string {
  const dirs = leftoverCgroups([id]);
  const dir = v2 ? dirs[0] : dirs.find((d) => d.includes(`/${controller}/`));
  if (!dir) throw new Error(`no ${controller} cgroup for ${id} among ${dirs.join(', ')}`);
  return readFileSync(join(dir, file), 'utf8').trim();
}

const cpusAllowed = (pid: number) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

describe.skipIf(!!why)('linux backend: updateResources (docker update)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.open();
  });
  afterAll(async () => {
    const leaks = await h?.close();
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
  });

  it('gives a running container new limits at once and keeps them for its next start', async () => {
    const c = await h.create('sleep 30', { resources: { memoryBytes: 64 << 20, pidsLimit: 100 } });
    try {
      const { done } = await startRunning(c);
      await c.updateResources!({ memoryBytes: 32 << 20, pidsLimit: 50, cpus: 0.5, cpuShares: 512, cpusetCpus: '0' });
      expect(cgroupFile(c.id, 'memory', v2 ? 'memory.max' : 'memory.limit_in_bytes')).toBe(String(32 << 20));
      expect(cgroupFile(c.id, 'pids', 'pids.max')).toBe('50');
      if (v2) {
        expect(cgroupFile(c.id, 'cpu', 'cpu.max')).toBe('50000 100000');
        expect(cgroupFile(c.id, 'cpu', 'cpu.weight')).toBe('20');
      } else {
        expect(cgroupFile(c.id, 'cpu', 'cpu.cfs_quota_us')).toBe('50000');
        expect(cgroupFile(c.id, 'cpu', 'cpu.shares')).toBe('512');
      }
      expect(cgroupFile(c.id, 'cpuset', 'cpuset.cpus')).toBe('0');
      // The running process itself moved into the cpuset.
      expect(cpusAllowed(c.pid!)).toBe('0');
      expect((await c.stats()).memoryLimitBytes).toBe(32 << 20);
      await c.kill('SIGKILL');
      expect((await done).exitCode).toBe(137);

      // Stopped: the pids limit goes (unlimited again); the next run starts inside the new limits.
      await c.updateResources!({ memoryBytes: 48 << 20, cpus: 0.5, cpuShares: 512, cpusetCpus: '0' });
      expect(cgroupFile(c.id, 'pids', 'pids.max')).toBe('max');
      expect(cgroupFile(c.id, 'memory', v2 ? 'memory.max' : 'memory.limit_in_bytes')).toBe(String(48 << 20));
    } finally {
      await c.remove();
    }
  });

  it('a container created with --cpuset-cpus runs its processes on those CPUs only', async () => {
    const r = await h.run('grep Cpus_allowed_list /proc/self/status', { resources: { cpusetCpus: '0' } });
    expect(r.stdout.trim()).toMatch(/^Cpus_allowed_list:\s+0$/);
  });

  it.runIf(!v2)('v1: a memory limit below what the container uses is refused (EBUSY, no swap to reclaim into) and nothing changes', async () => {
    // tmpfs pages are charged to the container and cannot be reclaimed without swap.
    const c = await h.create('head -c 40000000 /dev/zero > /data/fill && sleep 30', { mounts: [{ type: 'tmpfs', target: '/data', readOnly: false }], resources: { memoryBytes: 64 << 20 } });
    try {
      const { done } = await startRunning(c);
      for (let i = 0; i < 200 && ((await c.stats()).memoryBytes ?? 0) < 40_000_000; i++) await new Promise((res) => setTimeout(res, 25));
      const err = await c.updateResources!({ memoryBytes: 16 << 20 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'FAILED_PRECONDITION' });
      expect((err as Error).message).toMatch(/cannot lower the memory limit to 16777216 bytes: the container uses more \(\d+ bytes\).*EBUSY/);
      expect(cgroupFile(c.id, 'memory', 'memory.limit_in_bytes')).toBe(String(64 << 20));
      await c.kill('SIGKILL');
      await done;
    } finally {
      await c.remove();
    }
  });

  it('a removed limit on a created container is unlimited at its first start', async () => {
    const c = await h.create('cat /proc/self/status >/dev/null; echo ran', { resources: { pidsLimit: 5 } });
    await c.updateResources!({});
    expect(cgroupFile(c.id, 'pids', 'pids.max')).toBe('max');
    const r = await startAndWait(c).finally(() => c.remove());
    expect(r.stdout).toBe('ran\n');
  });
});
