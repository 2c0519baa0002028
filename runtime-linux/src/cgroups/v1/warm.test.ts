import { describe, it, expect } from 'vitest';
import { ownProcsFile } from './warm.js';

describe('ownProcsFile', () => {
  const mounts = { pids: '/sys/fs/cgroup/pids', memory: '/sys/fs/cgroup/memory', cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct' };
  it("names this process's own cgroup in the first hierarchy skiff knows (so the write moves nothing)", () => {
    expect(ownProcsFile(mounts, '12:name=systemd:/\n4:memory:/svc/a\n8:pids:/\n0::/\n')).toBe('/sys/fs/cgroup/memory/svc/a/cgroup.procs');
    expect(ownProcsFile(mounts, '3:cpu,cpuacct:/x\n')).toBe('/sys/fs/cgroup/cpu,cpuacct/x/cgroup.procs');
    expect(ownProcsFile(mounts, '8:pids:/\n')).toBe('/sys/fs/cgroup/pids/cgroup.procs');
  });
  it('gives nothing on a host without those hierarchies (cgroup v2 only)', () => {
    expect(ownProcsFile(mounts, '0::/user.slice\n')).toBeUndefined();
  });
});
