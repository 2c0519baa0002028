/**
 * /sys/fs/cgroup in a container, side by side with dockerd: the container's
 * own cgroups, read-only, where the JVM, Go, Node and nproc-style tools read
 * their limits. The scripts pick the v1 or v2 file names by what they find, so
 * the comparison holds on either host layout. Intended differences: on a
 * cgroup v1 host skiff shows only the hierarchies it places the container in
 * (memory, cpu, cpuacct, pids, devices; cpuset with --cpuset-cpus), since the
 * others would show the daemon's own cgroup; dockerd shows all of them.
 * dockerd defaults to the host's cgroup namespace on a v1 host, skiff to a
 * private one, so the cgroup namespace is named in each comparison.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { busyboxContext } from './support/harness.js';
import { sideBySide } from './support/side-by-side.js';

const IMAGE = 'skiff-cgroupfs/busybox:1';
const APPLETS = ['sh', 'cat', 'ls', 'grep', 'echo', 'mkdir', 'rmdir', 'touch', 'cut', 'sort', 'sleep'];
const daemons = sideBySide('cgroupfs', (tmp) => ({ [IMAGE]: busyboxContext(join(tmp, 'ctx'), APPLETS) }));
const run = (flags: string[], script: string) => daemons.both(['run', '--rm', ...flags, IMAGE, 'sh', '-c', script]);

/** Sets $v2 when /sys/fs/cgroup is cgroup2, and $mem to the memory controller's directory. */
const LAYOUT = 'if [ -e /sys/fs/cgroup/cgroup.controllers ]; then v2=1; mem=/sys/fs/cgroup; else v2=; mem=/sys/fs/cgroup/memory; fi; ';
const LIMITS = `${LAYOUT}if [ "$v2" ]; then cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max; ` +
  'else cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/pids/pids.max; fi';
/** The cgroup file systems in mountinfo without mount ids and the tmpfs's device number, which differ per container. */
const MOUNTS = 'grep " /sys/fs/cgroup" /proc/self/mountinfo | cut -d" " -f4- | sort';

it('the limits of --memory, --cpus and --pids-limit read from /sys/fs/cgroup, in a private and in the host cgroup namespace', async () => {
  for (const ns of ['private', 'host']) {
    const r = await run(['--cgroupns', ns, '--memory', '64m', '--cpus', '0.5', '--pids-limit', '10'], LIMITS);
    expect({ ns, ...r.skiff }).toEqual({ ns, ...r.dockerd });
    expect(r.skiff.stdout.split(/\s+/).filter(Boolean)).toEqual(expect.arrayContaining(['67108864', '50000', '100000', '10']));
  }
}, 60_000);

it('docker exec sees the same: its cgroup namespace, its limits, and the cpuset of --cpuset-cpus', async () => {
  const cpuset = `${LAYOUT}if [ "$v2" ]; then cat /sys/fs/cgroup/cpuset.cpus; else cat /sys/fs/cgroup/cpuset/cpuset.cpus; fi`;
  try {
    const started = await daemons.both(['run', '-d', '--name', 'cgfs-exec', '--cgroupns', 'private', '--memory', '64m', '--cpuset-cpus', '0', IMAGE, 'sleep', '60']);
    expect(started.skiff.code).toBe(0);
    expect(started.dockerd.code).toBe(0);
    for (const script of [LIMITS, cpuset, 'cat /proc/self/cgroup']) {
      const r = await daemons.both(['exec', 'cgfs-exec', 'sh', '-c', script]);
      expect({ script, ...r.skiff }).toEqual({ script, ...r.dockerd });
    }
    const r = await daemons.both(['exec', 'cgfs-exec', 'sh', '-c', cpuset]);
    expect(r.skiff.stdout).toBe('0\n');
  } finally {
    await daemons.both(['rm', '-f', 'cgfs-exec']);
  }
}, 60_000);

it('the same cgroup mounts, read-only, and the same /proc/self/cgroup in a private cgroup namespace', async () => {
  const r = await run(['--cgroupns', 'private'], `${MOUNTS}; echo ---; cat /proc/self/cgroup`);
  expect(r.skiff.code).toBe(0);
  expect(r.dockerd.code).toBe(0);
  const [skiffMounts, skiffSelf] = r.skiff.stdout.split('---\n');
  const [dockerdMounts, dockerdSelf] = r.dockerd.stdout.split('---\n');
  expect(skiffSelf).toBe(dockerdSelf);
  const skiffLines = skiffMounts!.trim().split('\n');
  // Every mount skiff makes is one dockerd makes too (same hierarchy, root, flags); each hierarchy shows its root.
  expect(dockerdMounts!.trim().split('\n')).toEqual(expect.arrayContaining(skiffLines));
  for (const line of skiffLines.filter((l) => / - cgroup2? /.test(l))) expect(line).toMatch(/^\/ \/sys\/fs\/cgroup\S* ro,/);
  expect(skiffLines.some((l) => / - cgroup2? /.test(l))).toBe(true);
}, 60_000);

it('/sys/fs/cgroup lists the controllers that hold the limits, a subset of what dockerd lists', async () => {
  const r = await run(['--cgroupns', 'private'], 'ls /sys/fs/cgroup');
  expect(r.skiff.code).toBe(0);
  const skiffNames = r.skiff.stdout.trim().split('\n');
  expect(r.dockerd.stdout.trim().split('\n')).toEqual(expect.arrayContaining(skiffNames));
  const v2 = skiffNames.includes('cgroup.controllers');
  expect(skiffNames).toEqual(expect.arrayContaining(v2 ? ['memory.max', 'cpu.max', 'pids.max'] : ['memory', 'cpu', 'cpuacct', 'pids']));
}, 60_000);

it('the hierarchies are read-only (so is the cgroup2 mount; v1\'s tmpfs under them is writable, as dockerd leaves it)', async () => {
  for (const ns of ['private', 'host']) {
    const r = await run(['--cgroupns', ns], `${LAYOUT}mkdir $mem/sub; echo "mkdir=$?"; echo 1 > $mem/cgroup.procs; echo "write=$?"; touch /sys/fs/cgroup/probe; echo "touch=$?"`);
    expect({ ns, ...r.skiff }).toEqual({ ns, ...r.dockerd });
    expect(r.skiff.stdout).toMatch(/mkdir=1\nwrite=1\n/);
    expect(r.skiff.stderr).toContain('Read-only file system');
  }
}, 60_000);

it('--privileged makes them writable: a container may make its own cgroups, which go with it', async () => {
  const script = `${LAYOUT}mkdir $mem/sub && echo made; ls -d $mem/sub; rmdir $mem/sub; mkdir $mem/kept && echo kept`;
  const r = await run(['--privileged', '--cgroupns', 'private'], script);
  expect(r.skiff).toEqual({ code: 0, stdout: `made\n${r.skiff.stdout.split('\n')[1]}\nkept\n`, stderr: '' });
  expect(r.skiff.stdout).toMatch(/\/sub\n/);
  // dockerd on some hosts cannot start a privileged container at all (runc: unable to apply caps); where it can, the same.
  if (r.dockerd.code === 0) expect(r.skiff).toEqual(r.dockerd);
  // The sub-cgroup left behind did not stop --rm: the container is gone.
  const left = await daemons.on(daemons.skiff.url, ['ps', '-aq']);
  expect(left.stdout).toBe('');
}, 60_000);
