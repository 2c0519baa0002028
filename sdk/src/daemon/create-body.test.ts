import { describe, expect, it } from 'vitest';
import { createOptionsFrom, type DockerCreateBody } from './create-body.js';
import { toCreateBody } from '../client/create-body.js';
import { isSkiffError } from '../errors/index.js';

/** What docker CLI 28 sends for a plain `docker create probe` (API 1.43): every field at its default. */
const CLI_DEFAULT = {"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"probe","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":0,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},"NetworkingConfig":{"EndpointsConfig":{"default":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}} as DockerCreateBody;

const withHost = (h: Record<string, unknown>, top: Record<string, unknown> = {}): DockerCreateBody => ({ ...structuredClone(CLI_DEFAULT), ...top, HostConfig: { ...CLI_DEFAULT.HostConfig!, ...h } });

describe('the create body: honoured, refused, never ignored', () => {
  it('accepts the docker CLI\'s defaults for every field', () => {
    const { options } = createOptionsFrom(structuredClone(CLI_DEFAULT), {});
    expect(options).toEqual({ image: 'probe', network: 'none' });
  });

  it('maps stop signal and timeout, ulimits, shm size, namespace modes, groups, DNS and OOM score', () => {
    const body = withHost({
      Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }], ShmSize: 8388608, PidMode: 'host', IpcMode: 'host', UTSMode: 'host', CgroupnsMode: 'host',
      GroupAdd: ['10'], Dns: ['1.1.1.1'], DnsSearch: ['x'], DnsOptions: ['ndots:2'], OomScoreAdj: 100,
    }, { StopSignal: 'SIGINT', StopTimeout: 2 });
    expect(createOptionsFrom(body, {}).options).toMatchObject({
      stopSignal: 'SIGINT', stopTimeout: 2, ulimits: [{ name: 'nofile', soft: 100, hard: 200 }], shmSize: 8388608, pidMode: 'host', ipcMode: 'host',
      utsMode: 'host', cgroupnsMode: 'host', groupAdd: ['10'], dns: ['1.1.1.1'], dnsSearch: ['x'], dnsOptions: ['ndots:2'], oomScoreAdj: 100,
    });
  });

  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['--oom-kill-disable', { OomKillDisable: true }, /--oom-kill-disable \(HostConfig.OomKillDisable\) is not supported by skiff: /],
    ['--memory-swappiness 0', { MemorySwappiness: 0 }, /--memory-swappiness .* is not supported by skiff/],
    ['--blkio-weight 100', { BlkioWeight: 100 }, /--blkio-weight .* is not supported by skiff/],
    ['--device-read-bps', { BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1 }] }, /--device-read-bps/],
    ['--cgroup-parent', { CgroupParent: 'x' }, /--cgroup-parent/],
    ['--userns', { UsernsMode: 'keep-id' }, /--userns/],
    ['--link', { Links: ['a:b'] }, /--link/],
    ['--volumes-from', { VolumesFrom: ['a'] }, /--volumes-from/],
    ['--gpus', { DeviceRequests: [{ Count: -1 }] }, /--gpus/],
    ['--cpuset-mems', { CpusetMems: '0' }, /--cpuset-mems/],
    ['--cpu-rt-runtime', { CpuRealtimeRuntime: 1000 }, /--cpu-rt-runtime/],
    ['--device-cgroup-rule', { DeviceCgroupRules: ['c 1:3 r'] }, /--device-cgroup-rule/],
    ['--storage-opt', { StorageOpt: { size: '1G' } }, /--storage-opt/],
    ['--volume-driver', { VolumeDriver: 'nfs' }, /--volume-driver/],
    ['--kernel-memory', { KernelMemory: 1 << 24 }, /--kernel-memory/],
  ];
  for (const [flag, h, message] of refused) {
    it(`refuses ${flag} with a 400 that says so`, () => {
      let err: unknown;
      try { createOptionsFrom(withHost(h), {}); } catch (e) { err = e; }
      expect(isSkiffError(err, 'INVALID_ARGUMENT')).toBe(true);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('refuses --mac-address and --ip on an endpoint, and accepts --userns host (no remapping is what skiff does)', () => {
    expect(() => createOptionsFrom({ ...structuredClone(CLI_DEFAULT), MacAddress: '02:42:ac:11:00:02' }, {})).toThrow(/--mac-address .* is not supported by skiff/);
    expect(() => createOptionsFrom({ ...structuredClone(CLI_DEFAULT), NetworkingConfig: { EndpointsConfig: { net1: { IPAMConfig: { IPv4Address: '10.0.0.5' } } } } }, {})).toThrow(/--ip, --ip6/);
    expect(createOptionsFrom(withHost({ UsernsMode: 'host' }), {}).options.image).toBe('probe');
  });

  it('keeps --tmpfs options and --mount tmpfs-size/tmpfs-mode; refuses the --mount options it cannot honour', () => {
    const tmpfs = createOptionsFrom(withHost({ Tmpfs: { '/run': 'size=1m,noexec', '/t': '' }, Mounts: [{ Type: 'tmpfs', Target: '/m', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o700 } }] }), {}).options;
    expect(tmpfs.tmpfs).toEqual(['/run:size=1m,noexec', '/t']);
    expect(tmpfs.mounts).toEqual([{ type: 'tmpfs', target: '/m', options: ['size=1048576', 'mode=700'] }]);
    const mount = (m: Record<string, unknown>) => () => createOptionsFrom(withHost({ Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/b', ...m }] }), {});
    expect(mount({ BindOptions: { Propagation: 'shared' } })).toThrow(/bind-propagation=shared .* is not supported by skiff/);
    expect(mount({ BindOptions: { NonRecursive: true } })).toThrow(/bind-recursive/);
    expect(mount({ Type: 'volume', Source: 'v', VolumeOptions: { NoCopy: true } })).toThrow(/volume-nocopy/);
    expect(mount({ Type: 'volume', Source: 'v', VolumeOptions: { Subpath: 'a' } })).toThrow(/volume-subpath/);
    expect(mount({ BindOptions: { Propagation: 'rprivate' }, Consistency: 'cached' })().options.mounts).toEqual([{ type: 'bind', source: '/tmp', target: '/b', readOnly: false }]);
  });

  it('the client writes the settings the daemon reads back', () => {
    const { body, query } = toCreateBody({
      image: 'x', stopSignal: 'SIGINT', stopTimeout: 2, ulimits: ['nofile=100:200'], shmSize: '8m', pidMode: 'host', ipcMode: 'host', utsMode: 'host',
      cgroupnsMode: 'host', groupAdd: ['wheel'], dns: ['1.1.1.1'], dnsSearch: ['x'], dnsOptions: ['ndots:2'], oomScoreAdj: -5,
    });
    expect(createOptionsFrom(body as DockerCreateBody, query).options).toEqual({
      image: 'x', network: 'none', stopSignal: 'SIGINT', stopTimeout: 2, ulimits: [{ name: 'nofile', soft: 100, hard: 200 }], shmSize: 8 * 1024 * 1024,
      pidMode: 'host', ipcMode: 'host', utsMode: 'host', cgroupnsMode: 'host', groupAdd: ['wheel'], dns: ['1.1.1.1'], dnsSearch: ['x'], dnsOptions: ['ndots:2'], oomScoreAdj: -5,
    });
  });
});
