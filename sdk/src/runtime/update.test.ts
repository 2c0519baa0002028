import { describe, expect, it } from 'vitest';
import { changedResources, checkResourceUpdate, mergeResources, updatedRestartPolicy } from './update.js';

const MiB = 1024 * 1024;

describe('docker update rules', () => {
  it('refuses what dockerd refuses in the request itself', () => {
    const bad = (u: Parameters<typeof checkResourceUpdate>[0], msg: string) => {
      let err: unknown;
      try { checkResourceUpdate(u); } catch (e) { err = e; }
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((err as Error).message).toContain(msg);
    };
    bad({ memoryBytes: 4 * MiB }, 'Minimum memory limit allowed is 6MB');
    bad({ memoryBytes: 64 * MiB, memorySwapBytes: 32 * MiB }, 'Minimum memoryswap limit should be larger than memory limit');
    bad({ memoryReservationBytes: MiB }, 'Minimum memory reservation allowed is 6MB');
    bad({ memoryBytes: 16 * MiB, memoryReservationBytes: 32 * MiB }, 'Minimum memory limit can not be less than memory reservation limit');
    bad({ cpus: 0.5, cpuPeriodUs: 50_000 }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
    bad({ cpus: 0.5, cpuQuotaUs: 50_000 }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    bad({ cpuPeriodUs: 500 }, 'CPU cfs period can not be less than 1ms');
    bad({ cpuQuotaUs: 999 }, 'CPU cfs quota can not be less than 1ms');
    bad({ cpuShares: 1 }, 'invalid CPU shares 1');
    bad({ cpusetCpus: '0-a' }, 'Invalid value 0-a for cpuset cpus');
    bad({ pidsLimit: -5 }, 'invalid --pids-limit -5');
    bad({ cpus: -1 }, 'invalid --cpus -1');
    expect(() => checkResourceUpdate({ memoryBytes: 6 * MiB, memorySwapBytes: -1, cpuQuotaUs: -1, cpusetCpus: '0-1,3', pidsLimit: -1 })).not.toThrow();
  });

  it('keeps what the request leaves out and applies the rest', () => {
    const next = mergeResources('c1', { memoryBytes: 64 * MiB, pidsLimit: 10, cpus: 1 }, { memoryBytes: 32 * MiB, cpuShares: 512 });
    expect(next).toEqual({ memoryBytes: 32 * MiB, pidsLimit: 10, cpus: 1, cpuShares: 512 });
    expect(mergeResources('c1', { pidsLimit: 10 }, { pidsLimit: -1 })).toEqual({});
    expect(mergeResources('c1', { pidsLimit: 10 }, { pidsLimit: 50 })).toEqual({ pidsLimit: 50 });
    expect(changedResources({ memoryBytes: 1, pidsLimit: 2 }, { memoryBytes: 1 })).toEqual(['pidsLimit']);
  });

  it('refuses changes that clash with what the container has, as CONFLICT naming it', () => {
    const clash = (cur: Parameters<typeof mergeResources>[1], u: Parameters<typeof mergeResources>[2], msg: string) => {
      let err: unknown;
      try { mergeResources('abc', cur, u); } catch (e) { err = e; }
      expect(err).toMatchObject({ code: 'CONFLICT' });
      expect((err as Error).message).toBe(`Cannot update container abc: ${msg}`);
    };
    clash({ cpus: 0.5 }, { cpuQuotaUs: 80_000 }, 'Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
    clash({ cpus: 0.5 }, { cpuPeriodUs: 80_000 }, 'Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
    clash({ cpuQuotaUs: 50_000 }, { cpus: 1 }, 'Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
    clash({ memoryBytes: 32 * MiB, memorySwapBytes: 64 * MiB }, { memoryBytes: 128 * MiB }, 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    // Swap that follows the memory limit (none set) never blocks a bigger limit.
    expect(mergeResources('abc', { memoryBytes: 32 * MiB }, { memoryBytes: 128 * MiB })).toEqual({ memoryBytes: 128 * MiB });
  });

  it('checks the merged limits: swap needs a memory limit at or below it; the reservation stays below the limit', () => {
    expect(() => mergeResources('c', {}, { memorySwapBytes: 64 * MiB })).toThrow('You should always set the Memory limit when using Memoryswap limit');
    expect(() => mergeResources('c', { memoryBytes: 64 * MiB }, { memorySwapBytes: 32 * MiB })).toThrow('Minimum memoryswap limit should be larger than memory limit');
    expect(() => mergeResources('c', { memoryBytes: 16 * MiB }, { memoryReservationBytes: 32 * MiB })).toThrow('Minimum memory limit can not be less than memory reservation limit');
    expect(mergeResources('c', { memoryBytes: 64 * MiB }, { memorySwapBytes: -1 })).toEqual({ memoryBytes: 64 * MiB, memorySwapBytes: -1 });
  });

  it('restart policy: no removes it; --rm containers refuse any other, as dockerd does', () => {
    expect(updatedRestartPolicy('c', false, 'always')).toEqual({ name: 'always' });
    expect(updatedRestartPolicy('c', false, { name: 'on-failure', maximumRetryCount: 2 })).toEqual({ name: 'on-failure', maximumRetryCount: 2 });
    expect(updatedRestartPolicy('c', true, 'no')).toBeUndefined();
    expect(() => updatedRestartPolicy('c', true, 'always')).toThrow('Cannot update container c: Restart policy cannot be updated because AutoRemove is enabled for the container');
    expect(() => updatedRestartPolicy('c', false, 'sometimes')).toThrow('invalid restart policy');
  });
});
