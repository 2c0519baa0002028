import { describe, expect, it } from 'vitest';
import { checkStopSignal, hostNamespaces, parseSysctls, parseUlimit, resolvConf, resolveProcessSettings } from './process-settings.js';

describe('process settings', () => {
  it('parses --ulimit as go-units does: NAME=SOFT[:HARD], soft <= hard, known names only', () => {
    expect(parseUlimit('nofile=100:200')).toEqual({ name: 'nofile', soft: 100, hard: 200 });
    expect(parseUlimit('nproc=50')).toEqual({ name: 'nproc', soft: 50, hard: 50 });
    expect(() => parseUlimit('nofile=200:100')).toThrow(/soft limit must be less than or equal to hard limit/);
    // -1 is unlimited, as docker's (memlock=-1:-1).
    expect(parseUlimit('memlock=-1:-1')).toEqual({ name: 'memlock', soft: -1, hard: -1 });
    expect(parseUlimit('core=0:-1')).toEqual({ name: 'core', soft: 0, hard: -1 });
    expect(() => parseUlimit('core=-1:0')).toThrow(/soft limit must be less than or equal to hard limit/);
    expect(() => parseUlimit('core=-2')).toThrow(/-1 for unlimited/);
    expect(() => parseUlimit('files=1')).toThrow(/invalid ulimit type: files/);
    expect(() => parseUlimit('nofile')).toThrow(/NAME=SOFT\[:HARD\]/);
    // A later --ulimit of the same name wins.
    expect(resolveProcessSettings({ image: 'x', ulimits: ['nofile=1:2', { name: 'core', soft: 0, hard: 0 }, 'nofile=3:4'] }).ulimits).toEqual([{ name: 'nofile', soft: 3, hard: 4 }, { name: 'core', soft: 0, hard: 0 }]);
  });

  it('takes namespaced sysctls only, and none of a namespace shared with the host', () => {
    expect(parseSysctls(['net.core.somaxconn=1024', 'kernel.shmmax=1000', 'fs.mqueue.msg_max=20', 'net.ipv4.ip_local_port_range=1024 65000'], {})).toEqual({
      'net.core.somaxconn': '1024', 'kernel.shmmax': '1000', 'fs.mqueue.msg_max': '20', 'net.ipv4.ip_local_port_range': '1024 65000',
    });
    expect(() => parseSysctls(['vm.swappiness=1'], {})).toThrow(/sysctl 'vm.swappiness' is not allowed: only namespaced ones/);
    expect(() => parseSysctls(['kernel.hostname=x'], {})).toThrow(/not allowed/);
    expect(() => parseSysctls(['net.core.somaxconn'], {})).toThrow(/use KEY=VALUE/);
    expect(() => parseSysctls({ 'net.core.somaxconn': '1' }, { network: 'host' })).toThrow(/not allowed with --network host/);
    expect(() => parseSysctls({ 'kernel.shmmax': '1' }, { ipcMode: 'host' })).toThrow(/not allowed with --ipc host/);
    expect(parseSysctls({ 'kernel.shmmax': '1' }, { network: 'host' })).toEqual({ 'kernel.shmmax': '1' });
    expect(resolveProcessSettings({ image: 'x', ipcMode: 'host', sysctls: ['net.core.somaxconn=1'] }).sysctls).toEqual({ 'net.core.somaxconn': '1' });
    expect(() => resolveProcessSettings({ image: 'x', ipcMode: 'host', sysctls: ['kernel.sem=1 2 3 4'] })).toThrow(/--ipc host/);
  });

  it('takes stop signals by name, short name or number, and refuses others', () => {
    expect(checkStopSignal('SIGINT')).toBe('SIGINT');
    expect(checkStopSignal('usr1')).toBe('usr1');
    expect(checkStopSignal('15')).toBe('15');
    expect(() => checkStopSignal('SIGNOPE')).toThrow(/invalid stop signal/);
    expect(() => checkStopSignal('99')).toThrow(/invalid stop signal/);
    expect(() => resolveProcessSettings({ image: 'x', stopTimeout: -2 })).toThrow(/stop timeout/);
    expect(resolveProcessSettings({ image: 'x', stopSignal: 'SIGINT', stopTimeout: 2 })).toEqual({ stopSignal: 'SIGINT', stopTimeout: 2 });
  });

  it('namespace modes: host shares, private is the default, container:NAME is refused as skiff cannot', () => {
    const s = resolveProcessSettings({ image: 'x', pidMode: 'host', ipcMode: 'host', utsMode: 'host', cgroupnsMode: 'host' });
    expect(hostNamespaces(s)).toEqual(['pid', 'ipc', 'uts', 'cgroup']);
    expect(hostNamespaces(resolveProcessSettings({ image: 'x', ipcMode: 'private', cgroupnsMode: 'private' }))).toEqual([]);
    expect(() => resolveProcessSettings({ image: 'x', pidMode: 'container:db' })).toThrow(/--pid=container:db is not supported by skiff/);
    expect(() => resolveProcessSettings({ image: 'x', ipcMode: 'none' })).toThrow(/--ipc=none is not supported by skiff/);
    expect(() => resolveProcessSettings({ image: 'x', utsMode: 'bogus' })).toThrow(/invalid --uts "bogus"/);
    expect(() => resolveProcessSettings({ image: 'x', utsMode: 'host', hostname: 'h' })).toThrow(/conflicting options: hostname and the UTS mode/);
    expect(() => resolveProcessSettings({ image: 'x', ipcMode: 'host', shmSize: '8m' })).toThrow(/--shm-size/);
    expect(() => resolveProcessSettings({ image: 'x', utsMode: 'host', domainname: 'example.com' })).toThrow(/conflicting options: domainname and the UTS mode/);
    expect(resolveProcessSettings({ image: 'x', domainname: 'example.com' })).toEqual({ domainname: 'example.com' });
  });

  it('checks shm size, groups, DNS and the OOM score as docker does', () => {
    expect(resolveProcessSettings({ image: 'x', shmSize: '8m' }).shmSizeBytes).toBe(8 * 1024 * 1024);
    expect(() => resolveProcessSettings({ image: 'x', shmSize: 'lots' })).toThrow(/invalid shm size/);
    expect(resolveProcessSettings({ image: 'x', groupAdd: ['10', 'wheel'] }).groupAdd).toEqual(['10', 'wheel']);
    expect(() => resolveProcessSettings({ image: 'x', groupAdd: ['a b'] })).toThrow(/--group-add/);
    expect(() => resolveProcessSettings({ image: 'x', dns: ['one.one'] })).toThrow(/is not an ip address/);
    expect(resolveProcessSettings({ image: 'x', dns: ['1.1.1.1', '::1'], dnsSearch: ['x'], dnsOptions: ['ndots:2'] })).toEqual({ dns: ['1.1.1.1', '::1'], dnsSearch: ['x'], dnsOptions: ['ndots:2'] });
    expect(() => resolveProcessSettings({ image: 'x', dns: ['1.1.1.1'], network: 'container:db' })).toThrow(/conflicting options: dns and the network mode/);
    expect(() => resolveProcessSettings({ image: 'x', oomScoreAdj: 1001 })).toThrow(/range for oom score adj is \[-1000, 1000\]/);
  });

  it('writes resolv.conf as dockerd: search, name servers, options, the host file where not given', () => {
    const host = '# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n';
    expect(resolvConf(host, { dns: ['1.1.1.1'], dnsSearch: ['x'], dnsOptions: ['ndots:2'] }, false)).toBe('search x\nnameserver 1.1.1.1\noptions ndots:2\n');
    // Off the host network the host's loopback resolver would be the container's own: dropped.
    expect(resolvConf(host, { dnsSearch: ['x'] }, false)).toBe('search x\nnameserver 10.0.0.2\noptions edns0\n');
    expect(resolvConf(host, { dnsSearch: ['x'] }, true)).toBe('search x\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n');
    expect(resolvConf('nameserver 127.0.0.1\n', { dnsOptions: ['ndots:1'] }, false)).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\noptions ndots:1\n');
    expect(resolvConf(host, { dnsSearch: ['.'] }, true)).not.toContain('search');
  });
});
