/**
 * docker update through `skiff daemon`: new limits on a running Linux
 * container reach its cgroup, inspect and stats; a new restart policy acts on
 * the next exit; dockerd's refusals with its messages; dockerode's
 * container.update(); and on the WASI backend a running guest's memory limit
 * is refused while a stopped one's changes.
 */
import { mkdtempSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxContext, docker, dockerBinary, shutdownDaemon, startDaemon, type DaemonProcess, startWorkerDaemon, until } from './support/harness.js';

const IMAGE = 'skiff-update/bb:1';
const V2 = (() => { try { return statfsSync('/sys/fs/cgroup').type === 0x63677270; } catch { return false; } })();

/** A cgroup file of a container, read on the host: <hierarchy>/skiff/<key>/<id>/<file> (v1: the controller's hierarchy). */
function cgroupFile(id: string, controller: string, file: string): string {
  const base = V2 ? '/sys/fs/cgroup/skiff' : `/sys/fs/cgroup/${controller}/skiff`;
  for (const key of readdirSync(base)) {
    try {
      return readFileSync(join(base, key, id, file), 'utf8').trim();
    } catch { /* another engine's directory */ }
  }
  throw new Error(`no ${controller} cgroup for ${id} under ${base}`);
}

describe('docker update on the Linux backend', () => {
  let d: DaemonProcess;
  let tmp: string;
  const run = (args: string[]) => docker(d.url, args, { env: { DOCKER_BUILDKIT: '0' } });
  const inspect = async (format: string, name: string) => (await run(['inspect', '--format', format, name])).stdout.trim();

  beforeAll(async () => {
    dockerBinary();
    tmp = mkdtempSync(join(tmpdir(), 'skiff-update-'));
    const ctx = busyboxContext(join(tmp, 'ctx'), ['sh', 'sleep', 'touch', 'test', 'rm', 'cat', 'head']);
    d = await startDaemon({ backends: ['linux'] });
    const built = await run(['build', '-q', '-t', IMAGE, ctx]);
    if (built.code !== 0) throw new Error(`docker build failed: ${built.stderr}`);
  }, 120_000);

  afterAll(() => shutdownDaemon(d, tmp));

  it('--memory and --pids-limit on a running container: the cgroup, inspect and docker stats show the new limits', async () => {
    expect((await run(['run', '-d', '--name', 'upd', '-m', '64m', IMAGE, 'sleep', '300'])).code).toBe(0);
    const id = await inspect('{{.Id}}', 'upd');
    const r = await run(['update', '--memory', '32m', '--pids-limit', '50', 'upd']);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'upd\n' });
    expect(await inspect('{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}}', 'upd')).toBe(`${32 << 20} ${32 << 20} 50`);
    expect(cgroupFile(id, 'memory', V2 ? 'memory.max' : 'memory.limit_in_bytes')).toBe(String(32 << 20));
    expect(cgroupFile(id, 'pids', 'pids.max')).toBe('50');
    const stats = await run(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'upd']);
    expect(stats.stdout).toMatch(/ \/ 32MiB/);

    // CPU: --cpus, then shares and a cpuset; CFS quota cannot follow --cpus (dockerd's rule).
    expect((await run(['update', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0', 'upd'])).code).toBe(0);
    expect(await inspect('{{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}}', 'upd')).toBe('500000000 512 0');
    expect(cgroupFile(id, 'cpu', V2 ? 'cpu.max' : 'cpu.cfs_quota_us')).toBe(V2 ? '50000 100000' : '50000');
    expect(cgroupFile(id, 'cpuset', 'cpuset.cpus')).toBe('0');
    const quota = await run(['update', '--cpu-quota', '80000', 'upd']);
    expect(quota.code).toBe(1);
    expect(quota.stderr).toContain(`Error response from daemon: Cannot update container ${id}: Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set`);
    // A new process (exec) joins the same limits.
    const exec = await run(['exec', 'upd', 'cat', '/proc/self/status']);
    expect(exec.stdout).toMatch(/Cpus_allowed_list:\s+0\n/);
    expect((await run(['rm', '-f', 'upd'])).code).toBe(0);
  }, 60_000);

  it('CFS quota, period, shares, cpuset, swap and reservation given at run are kept as given, applied, and updated', async () => {
    const r = await run(['run', '-d', '--name', 'upd-cfs', '--cpu-quota', '50000', '--cpu-period', '100000', '--cpu-shares', '256', '--cpuset-cpus', '0', '-m', '64m', '--memory-swap', '128m', '--memory-reservation', '16m', IMAGE, 'sleep', '300']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    expect(await inspect('{{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}} {{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}} {{.HostConfig.MemorySwap}} {{.HostConfig.MemoryReservation}}', 'upd-cfs'))
      .toBe(`0 50000 100000 256 0 ${128 << 20} ${16 << 20}`);
    if (V2) {
      expect(cgroupFile(id, 'cpu', 'cpu.max')).toBe('50000 100000');
      expect(cgroupFile(id, 'memory', 'memory.low')).toBe(String(16 << 20));
    } else {
      expect(cgroupFile(id, 'cpu', 'cpu.cfs_quota_us')).toBe('50000');
      expect(cgroupFile(id, 'cpu', 'cpu.shares')).toBe('256');
      expect(cgroupFile(id, 'memory', 'memory.soft_limit_in_bytes')).toBe(String(16 << 20));
    }
    expect(cgroupFile(id, 'cpuset', 'cpuset.cpus')).toBe('0');
    // dockerd lets a quota given as a quota change; --cpus cannot follow it.
    expect((await run(['update', '--cpu-quota', '80000', 'upd-cfs'])).code).toBe(0);
    expect(cgroupFile(id, 'cpu', V2 ? 'cpu.max' : 'cpu.cfs_quota_us')).toBe(V2 ? '80000 100000' : '80000');
    const cpus = await run(['update', '--cpus', '1', 'upd-cfs']);
    expect(cpus.stderr).toContain(`Cannot update container ${id}: Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set`);
    // Past the memory+swap limit only together with it.
    const big = await run(['update', '--memory', '256m', 'upd-cfs']);
    expect(big.stderr).toContain(`Cannot update container ${id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`);
    expect((await run(['update', '--memory', '256m', '--memory-swap', '512m', 'upd-cfs'])).code).toBe(0);
    expect(cgroupFile(id, 'memory', V2 ? 'memory.max' : 'memory.limit_in_bytes')).toBe(String(256 << 20));
    // v1 with swap accounting: memory+swap is the total asked for (without it the file is absent).
    const memsw = V2 ? undefined : (() => { try { return cgroupFile(id, 'memory', 'memory.memsw.limit_in_bytes'); } catch { return undefined; } })();
    if (memsw !== undefined) expect(memsw).toBe(String(512 << 20));
    expect((await run(['rm', '-f', 'upd-cfs'])).code).toBe(0);
  }, 60_000);

  it.runIf(!V2)('cgroup v1: a memory limit below what the container uses is refused clearly (EBUSY) and the old one stays', async () => {
    expect((await run(['run', '-d', '--name', 'upd-full', '-m', '64m', '--tmpfs', '/data', IMAGE, 'sh', '-c', 'cat /dev/zero | head -c 40000000 > /data/fill; touch /tmp/full; sleep 300'])).code).toBe(0);
    await until(async () => (await run(['exec', 'upd-full', 'test', '-f', '/tmp/full'])).code, (c) => c === 0, 'the tmpfs filled');
    const r = await run(['update', '--memory', '16m', 'upd-full']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Error response from daemon: cannot lower the memory limit to 16777216 bytes: the container uses more \(\d+ bytes\) and the kernel could not reclaim enough \(EBUSY from \S+\/memory.limit_in_bytes\)/);
    expect(await inspect('{{.HostConfig.Memory}}', 'upd-full')).toBe(String(64 << 20));
    expect(cgroupFile(await inspect('{{.Id}}', 'upd-full'), 'memory', 'memory.limit_in_bytes')).toBe(String(64 << 20));
    expect((await run(['rm', '-f', 'upd-full'])).code).toBe(0);
  }, 60_000);

  it('refuses what dockerd refuses, with its messages; a missing container is 404', async () => {
    expect((await run(['create', '--name', 'upd-bad', '-m', '64m', IMAGE, 'sleep', '1'])).code).toBe(0);
    const small = await run(['update', '--memory', '4m', 'upd-bad']);
    expect(small.code).toBe(1);
    expect(small.stderr).toContain('Error response from daemon: Minimum memory limit allowed is 6MB');
    const swap = await run(['update', '--memory', '64m', '--memory-swap', '32m', 'upd-bad']);
    expect(swap.code).toBe(1);
    expect(swap.stderr).toContain('Minimum memoryswap limit should be larger than memory limit');
    const none = await run(['update', '--memory', '32m', 'no-such-container']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No such container: no-such-container');
    expect(await inspect('{{.HostConfig.Memory}}', 'upd-bad')).toBe(String(64 << 20));
    // Swap and a reservation, on a created container: its first run has them.
    expect((await run(['update', '--memory', '96m', '--memory-swap', '-1', '--memory-reservation', '16m', 'upd-bad'])).code).toBe(0);
    expect(await inspect('{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.MemoryReservation}}', 'upd-bad')).toBe(`${96 << 20} -1 ${16 << 20}`);
    expect((await run(['rm', 'upd-bad'])).code).toBe(0);

    expect((await run(['create', '--rm', '--name', 'upd-rm', IMAGE, 'true'])).code).toBe(0);
    const rm = await run(['update', '--restart', 'always', 'upd-rm']);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain('Restart policy cannot be updated because AutoRemove is enabled for the container');
    expect((await run(['rm', 'upd-rm'])).code).toBe(0);
  }, 60_000);

  it('--restart always on a running container: its next exit is followed by a restart', async () => {
    const script = 'while [ ! -f /tmp/stop ]; do sleep 0.1; done; rm /tmp/stop; exit 3';
    expect((await run(['run', '-d', '--name', 'upd-flaky', IMAGE, 'sh', '-c', script])).code).toBe(0);
    const r = await run(['update', '--restart', 'always', 'upd-flaky']);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'upd-flaky\n' });
    expect(await inspect('{{.HostConfig.RestartPolicy.Name}}', 'upd-flaky')).toBe('always');
    expect((await run(['exec', 'upd-flaky', 'touch', '/tmp/stop'])).code).toBe(0);
    const state = await until(() => inspect('{{.RestartCount}} {{.State.Status}}', 'upd-flaky'), (s) => s === '1 running', 'restart after the exit');
    expect(state).toBe('1 running');
    // Back to no: the next exit stays an exit.
    expect((await run(['update', '--restart', 'no', 'upd-flaky'])).code).toBe(0);
    expect((await run(['exec', 'upd-flaky', 'touch', '/tmp/stop'])).code).toBe(0);
    expect(await until(() => inspect('{{.State.Status}} {{.State.ExitCode}}', 'upd-flaky'), (s) => s === 'exited 3', 'the exit')).toBe('exited 3');
    await new Promise((res) => setTimeout(res, 500));
    expect(await inspect('{{.RestartCount}} {{.State.Status}}', 'upd-flaky')).toBe('1 exited');
    expect((await run(['rm', '-f', 'upd-flaky'])).code).toBe(0);
  }, 60_000);

  it('dockerode: container.update() answers with Warnings and changes the limits', async () => {
    const client = new Docker({ socketPath: d.socket });
    const c = await client.createContainer({ Image: IMAGE, Cmd: ['sleep', '300'], HostConfig: { Memory: 64 << 20 } });
    await c.start();
    try {
      const answer = await c.update({ Memory: 48 << 20, PidsLimit: 20 });
      expect(answer).toEqual({ Warnings: [] });
      const info = await c.inspect();
      expect(info.HostConfig).toMatchObject({ Memory: 48 << 20, PidsLimit: 20 });
      expect(cgroupFile(info.Id, 'memory', V2 ? 'memory.max' : 'memory.limit_in_bytes')).toBe(String(48 << 20));
      // Block I/O weight is not applied: dockerd's warning, the rest goes through.
      expect(await c.update({ BlkioWeight: 300 })).toEqual({ Warnings: ['skiff does not support Block I/O weight. Weight discarded.'] });
      await expect(c.update({ KernelMemory: 64 << 20 })).rejects.toThrow(/skiff cannot update KernelMemory \(--kernel-memory\)/);
      await expect(c.update({ Bogus: 1 })).rejects.toThrow(/unknown field "Bogus"/);
    } finally {
      await c.remove({ force: true });
    }
  }, 60_000);
});

describe('docker update on the WASI backend (worker mode)', () => {
  let wd: Awaited<ReturnType<typeof startWorkerDaemon>> | undefined;
  const run = (args: string[]) => docker(wd!.url, args);

  beforeAll(async () => {
    dockerBinary();
    wd = await startWorkerDaemon();
  }, 120_000);

  afterAll(() => wd?.close());

  it('a running guest keeps its memory limit; its restart policy changes; stopped, the limit changes for the next start', async () => {
    expect((await run(['run', '-d', '--name', 'wupd', '-m', '32m', 'skiff/toolbox', 'sleep', '30'])).code).toBe(0);
    const refused = await run(['update', '--memory', '64m', 'wupd']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the wasm backend cannot change the memory limit of running container [0-9a-f]+: a guest's memory maximum is fixed when it starts; stop it, update it, and start it again/);
    const pids = await run(['update', '--pids-limit', '10', 'wupd']);
    expect(pids.stderr).toContain('the wasm backend does not support process limits (--pids-limit)');
    expect((await run(['update', '--restart', 'on-failure:2', 'wupd'])).code).toBe(0);
    expect((await run(['inspect', '--format', '{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'wupd'])).stdout.trim()).toBe(`${32 << 20} on-failure:2`);
    expect((await run(['kill', 'wupd'])).code).toBe(0);
    const later = await run(['update', '--memory', '64m', 'wupd']);
    expect(later, later.stderr).toMatchObject({ code: 0, stdout: 'wupd\n' });
    expect((await run(['inspect', '--format', '{{.HostConfig.Memory}}', 'wupd'])).stdout.trim()).toBe(String(64 << 20));
    expect((await run(['rm', '-f', 'wupd'])).code).toBe(0);
  }, 60_000);

  it('the new limit caps the guest at its next start', async () => {
    // 40 MB of text in one SQLite value: more than a 24 MiB guest can hold.
    const sql = "SELECT length(group_concat(hex(zeroblob(1000)))) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<20000) SELECT x FROM c)";
    expect((await run(['pull', 'skiff/sqlite'])).code).toBe(0);
    expect((await run(['create', '--name', 'wgrow', '-m', '24m', 'skiff/sqlite', 'sqlite3', ':memory:', sql])).code).toBe(0);
    expect(await run(['start', '-a', 'wgrow'])).toMatchObject({ code: 1, stderr: 'Error: out of memory\n' });
    expect((await run(['update', '--memory', '256m', 'wgrow'])).code).toBe(0);
    expect(await run(['start', '-a', 'wgrow'])).toMatchObject({ code: 0, stdout: '40019999\n' });
    expect((await run(['rm', '-f', 'wgrow'])).code).toBe(0);
  }, 60_000);
});
