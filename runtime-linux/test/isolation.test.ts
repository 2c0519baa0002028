/** Isolation: what a container may not see or do, compared with docker's defaults. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxLayer, buildProbe, CI, leftoverCgroups, missingPrerequisite, parseProbe, probeLayer, requireTool, tempDir } from './fixtures.js';
import { Harness, startAndWait, startRunning } from './harness.js';

const why = missingPrerequisite() ?? (requireTool('cc', 'gcc') ? undefined : 'no C compiler for the probe (apt-get install gcc)');
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);

const EPERM = 1;

describe.skipIf(!!why)('linux backend: isolation', () => {
  let h: Harness;
  let scratch: string;
  beforeAll(async () => {
    scratch = tempDir('skiff-probe-');
    h = await Harness.open({}, [await busyboxLayer(), await probeLayer(buildProbe(scratch))]);
  });
  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    const leaks = await h?.close();
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
  });

  it('refuses mount, reboot, module loading, kexec, keyrings, bpf, perf, new namespaces', async () => {
    const r = await h.run('probe');
    expect(r.exitCode).toBe(0);
    const p = parseProbe(r.stdout);
    for (const name of ['mount', 'umount2', 'reboot', 'swapon', 'unshare_net', 'unshare_user', 'setns', 'keyctl', 'add_key', 'bpf', 'perf_event_open', 'init_module', 'finit_module', 'delete_module', 'kexec_load', 'open_by_handle_at', 'clock_settime']) {
      expect({ name, errno: p[name] }).toEqual({ name, errno: EPERM });
    }
    // What ordinary programs need still works, as under dockerd: raw and packet sockets with Docker's CAP_NET_RAW (ping), ptrace (strace, gdb).
    expect(p).toMatchObject({ udp: 0, netlink_raw: 0, unshare_files: 0, raw_inet: 0, raw_inet6: 0, packet: 0, packet_dgram: 0, ptrace: 0 });
  });

  it('--cap-drop NET_RAW: raw and packet sockets fail with EPERM (the kernel\'s check), and so does busybox ping', async () => {
    const ok = await h.run('ping -c1 -W2 127.0.0.1 >/dev/null && echo ping=ok');
    expect(ok.stdout).toBe('ping=ok\n');
    const r = await h.run('probe; ping -c1 -W2 127.0.0.1; echo "ping=$?"', { capDrop: ['NET_RAW'] });
    const p = parseProbe(r.stdout);
    for (const name of ['raw_inet', 'raw_inet6', 'packet', 'packet_dgram']) expect({ name, errno: p[name] }).toEqual({ name, errno: EPERM });
    expect(r.stdout).toMatch(/ping=[1-9]/);
    expect(r.stderr).toContain('permission denied');
    // Unprivileged ICMP echo sockets are open to every group, as Docker sets it.
    const range = await h.run('cat /proc/sys/net/ipv4/ping_group_range');
    expect(range.stdout).toBe('0\t2147483647\n');
  });

  it('refuses the same from the shell: mount, reboot -f, unshare', async () => {
    const r = await h.run('mount -t tmpfs tmpfs /mnt; echo "mount=$?"; reboot -f; echo "reboot=$?"; unshare -n true; echo "unshare=$?"');
    expect(r.stdout).toMatch(/mount=[1-9]/);
    expect(r.stdout).toMatch(/reboot=[1-9]/);
    expect(r.stdout).toMatch(/unshare=[1-9]/);
    expect(r.stderr).toMatch(/[Oo]peration not permitted|[Pp]ermission denied/);
  });

  it("has Docker's capabilities and a seccomp filter, and no_new_privs only when asked", async () => {
    const r = await h.run('grep -E "^(CapBnd|CapEff|CapInh|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status');
    expect(r.stdout).toBe('CapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2\n');
    const nnp = await h.run('grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status', { noNewPrivileges: true });
    expect(nnp.stdout).toBe('CapEff:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\n');
    const unconfined = await h.run('grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; mkdir -p /mnt && mount -t tmpfs tmpfs /mnt; echo "mount=$?"', { seccomp: 'unconfined' });
    // No filter, but mount still needs CAP_SYS_ADMIN, which the container lacks.
    expect(unconfined.stdout).toMatch(/^NoNewPrivs:\t0\nSeccomp:\t0\nmount=[1-9]\d*\n$/);
    const dropped = await h.run('grep CapBnd /proc/self/status', { capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'] });
    expect(dropped.stdout).toBe('CapBnd:\t0000000000000400\n');
  });

  it('--privileged opts out of the filter, the capability drop and the masks', async () => {
    const r = await h.run('grep -E "^(CapBnd|Seccomp):" /proc/self/status; mkdir -p /mnt && mount -t tmpfs tmpfs /mnt && echo mounted; probe unshare_net', { privileged: true });
    expect(r.stdout).toContain('Seccomp:\t0');
    expect(r.stdout).toMatch(/CapBnd:\t000001ff/);
    expect(r.stdout).toContain('mounted');
    expect(r.stdout).toContain('unshare_net 0');
  });

  it("masks Docker's paths and keeps /sys and /proc/sys read-only", async () => {
    const r = await h.run('wc -c < /proc/keys; ls /sys/firmware | wc -l; echo 1 > /proc/sys/vm/drop_caches; echo "procsys=$?"; touch /sys/x; echo "sys=$?"; grep -E " /(proc/sys|sys) " /proc/mounts | cut -d" " -f2,4 | cut -d, -f1');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]!.trim()).toBe('0');
    expect(lines[1]!.trim()).toBe('0');
    expect(r.stdout).toMatch(/procsys=[1-9]/);
    expect(r.stdout).toMatch(/sys=[1-9]/);
    expect(r.stdout).toContain('/sys ro');
    expect(r.stdout).toContain('/proc/sys ro');
  });

  it('keeps host devices out: mknod works, opening a disk does not (device cgroup)', async () => {
    const r = await h.run('mknod /dev/sda b 8 0 && echo made; head -c 1 /dev/sda; echo "open=$?"; head -c 1 /dev/urandom | wc -c');
    expect(r.stdout).toContain('made');
    expect(r.stdout).toMatch(/open=[1-9]/);
    expect(r.stderr).toMatch(/Operation not permitted/);
    expect(r.stdout.trim().endsWith('1')).toBe(true);
  });

  it("cannot see the host's files or processes", async () => {
    const marker = `skiff-host-marker-${process.pid}`;
    writeFileSync(join('/tmp', marker), 'host secret\n');
    try {
      const hostPid = process.pid;
      const r = await h.run(`ls /tmp; ls /; ls /proc | grep -cE '^[0-9]+$'; kill -0 ${hostPid}; echo "kill=$?"; cat /proc/1/cmdline | tr '\\0' ' '`);
      expect(r.stdout).not.toContain(marker);
      expect(r.stdout).not.toContain('host secret');
      expect(r.stdout).toMatch(/kill=[1-9]/);
      const rootList = r.stdout.split('\n');
      expect(rootList).toEqual(expect.arrayContaining(['bin', 'dev', 'etc', 'proc', 'sys', 'tmp']));
      expect(rootList).not.toContain('work'); // a host directory
      const nprocs = Number(r.stdout.split('\n').find((l) => /^\d+$/.test(l.trim())));
      expect(nprocs).toBeLessThan(6);
      expect(r.stdout).toContain('skiff-init');
    } finally {
      rmSync(join('/tmp', marker), { force: true });
    }
  });

  it('has its own network namespace with only lo, up; --network host shares the host\'s', async () => {
    const none = await h.run('ls /sys/class/net; ip link show lo | head -1');
    expect(none.stdout.split('\n')[0]).toBe('lo');
    expect(none.stdout).toMatch(/<LOOPBACK,UP,LOWER_UP>/);
    const host = await h.run('ls /sys/class/net', { network: 'host' });
    expect(host.stdout.trim().split('\n').sort()).toEqual(readdirSync('/sys/class/net').sort());
  });

  it('stops a fork bomb at --pids-limit while the host keeps forking', async () => {
    // Every bomb process forks two more and waits; the main shell forks nothing after it starts.
    const c = await h.create('bomb() { bomb & bomb & wait; }; bomb & exec sleep 30', { resources: { pidsLimit: 40 } });
    try {
      const { done: run } = await startRunning(c);
      let maxPids = 0;
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 5));
        maxPids = Math.max(maxPids, (await c.stats()).pids ?? 0);
      }
      // The kernel refused forks at the limit (counted in pids.events on v1 and v2), and never let it pass.
      const pidsDir = leftoverCgroups([c.id]).find((d) => d.includes('/pids/') || !/\/(memory|cpu|cpuacct|devices|unified)\//.test(d))!;
      expect(Number(/max (\d+)/.exec(readFileSync(join(pidsDir, 'pids.events'), 'utf8'))?.[1])).toBeGreaterThan(0);
      expect(maxPids).toBeLessThanOrEqual(40);
      // The host is unharmed: it still starts processes.
      expect(spawnSync('true').status).toBe(0);
      expect(execFileSync('sh', ['-c', 'echo ok'], { encoding: 'utf8' })).toBe('ok\n');
      await c.kill('SIGKILL');
      const r = await run;
      expect(r.exitCode).toBe(137);
      expect(r.stderr).toContain("can't fork");
    } finally {
      await c.remove();
    }
  });

  it('OOM-kills a memory hog: exit 137, oomKilled', async () => {
    const c = await h.backend.create(h.spec('', { process: { args: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=256M', 'count=1'] }, resources: { memoryBytes: 32 << 20 } }));
    const r = await startAndWait(c).finally(() => c.remove());
    expect(r.status).toMatchObject({ exitCode: 137, signal: 'SIGKILL', oomKilled: true });
    // The same under the limit is fine and not OOM-killed.
    const ok = await h.run('dd if=/dev/zero of=/dev/null bs=4M count=1 2>/dev/null; echo fine', { resources: { memoryBytes: 32 << 20 } });
    expect(ok.stdout).toBe('fine\n');
    expect(ok.status.oomKilled).toBeUndefined();
  });
});
