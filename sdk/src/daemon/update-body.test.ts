import { describe, expect, it } from 'vitest';
import { updateOptionsFrom } from './update-body.js';

// What docker CLI 28 sends for `docker update --memory 32m --pids-limit 50 c`: every field, zero when not given.
const cliBody = {
  BlkioWeight: 0, BlkioWeightDevice: null, BlkioDeviceReadBps: null, BlkioDeviceWriteBps: null, BlkioDeviceReadIOps: null, BlkioDeviceWriteIOps: null,
  CgroupParent: '', CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', CpuShares: 0,
  Devices: null, DeviceCgroupRules: null, DeviceRequests: null, Memory: 32 << 20, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null,
  NanoCpus: 0, OomKillDisable: null, PidsLimit: 50, Ulimits: null, CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
  RestartPolicy: { Name: '', MaximumRetryCount: 0 },
};

describe('the update body', () => {
  it('takes what is set and leaves zero values alone, as dockerd does', () => {
    expect(updateOptionsFrom(cliBody, 2)).toEqual({ options: { resources: { memoryBytes: 32 << 20, pidsLimit: 50 } }, warnings: [] });
    expect(updateOptionsFrom({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } }, 2).options).toEqual({ restartPolicy: { name: 'on-failure', maximumRetryCount: 3 } });
    expect(updateOptionsFrom({ PidsLimit: 0, MemorySwap: -1, CpuQuota: -1, NanoCpus: 5e8, CpusetCpus: '0-1' }, 2).options.resources).toEqual({ pidsLimit: -1, memorySwapBytes: -1, cpuQuotaUs: -1, cpus: 0.5, cpusetCpus: '0-1' });
  });

  it('refuses set fields it cannot change, unknown ones and CPUs beyond the host; warns about Block I/O weight', () => {
    expect(() => updateOptionsFrom({ CpusetMems: '0' }, 2)).toThrow('skiff cannot update CpusetMems (--cpuset-mems)');
    expect(() => updateOptionsFrom({ OomKillDisable: true }, 2)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => updateOptionsFrom({ Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 1 }] }, 2)).toThrow('skiff cannot update Ulimits (--ulimit)');
    expect(() => updateOptionsFrom({ Nonsense: true }, 2)).toThrow('unknown field "Nonsense"');
    expect(() => updateOptionsFrom({ NanoCpus: 3e9 }, 2)).toThrow('Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
    expect(() => updateOptionsFrom({ Memory: '32m' } as never, 2)).toThrow('invalid Memory "32m"');
    expect(updateOptionsFrom({ BlkioWeight: 5 }, 2)).toEqual({ options: {}, warnings: ['skiff does not support Block I/O weight. Weight discarded.'] });
  });
});
