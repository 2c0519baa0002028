import { describe, it, expect } from 'vitest';
import { parseVolumeSpec, resolveProcess, parseSize, mergeEnv, cleanContainerPath, resolveResources } from './options.js';

describe('container options', () => {
  const defaults = { Entrypoint: ['/ep'], Cmd: ['default'], Env: ['PATH=/bin', 'A=1'], WorkingDir: '/app', User: '1000' };

  it('merges image defaults like docker', () => {
    expect(resolveProcess(defaults, { image: 'x' })).toEqual({ args: ['/ep', 'default'], env: ['PATH=/bin', 'A=1'], workingDir: '/app', user: '1000' });
    expect(resolveProcess(defaults, { image: 'x', cmd: ['mine'] }).args).toEqual(['/ep', 'mine']);
    expect(resolveProcess(defaults, { image: 'x', entrypoint: '/other' }).args).toEqual(['/other']);
    expect(resolveProcess(defaults, { image: 'x', entrypoint: ['/o', '-x'], cmd: ['y'] }).args).toEqual(['/o', '-x', 'y']);
    expect(resolveProcess(defaults, { image: 'x', env: { A: '2', B: '3' } }).env).toEqual(['PATH=/bin', 'A=2', 'B=3']);
    expect(resolveProcess({}, { image: 'x', cmd: ['a'] })).toMatchObject({ workingDir: '/', user: '' });
    expect(resolveProcess({}, { image: 'x', cmd: ['a'] }).env[0]).toMatch(/^PATH=/);
  });

  it('refuses a missing command and bad paths', () => {
    expect(() => resolveProcess({}, { image: 'x' })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveProcess(defaults, { image: 'x', workingDir: 'rel' })).toThrowError(/absolute/);
  });

  it('parses -v specs', () => {
    expect(parseVolumeSpec('data:/data')).toEqual({ type: 'volume', source: 'data', target: '/data', readOnly: false });
    expect(parseVolumeSpec('data:/data:ro')).toEqual({ type: 'volume', source: 'data', target: '/data', readOnly: true });
    expect(parseVolumeSpec('/host:/c:rw')).toEqual({ type: 'bind', source: '/host', target: '/c', readOnly: false });
    expect(parseVolumeSpec('/anon')).toEqual({ type: 'volume', target: '/anon', readOnly: false });
    for (const bad of ['data:rel', 'a:/b:xx', './rel:/c', ':/x', 'a:b:c:d']) {
      expect(() => parseVolumeSpec(bad), bad).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('parses sizes and limits', () => {
    expect(parseSize('256m')).toBe(256 * 1024 * 1024);
    expect(parseSize('1g')).toBe(1024 ** 3);
    expect(parseSize('1.5k')).toBe(1536);
    expect(parseSize(4096)).toBe(4096);
    expect(() => parseSize('lots')).toThrowError(/unit/);
    expect(() => resolveResources({ image: 'x', memory: '1k' })).toThrowError(/6MB/);
    expect(() => resolveResources({ image: 'x', cpus: -1 })).toThrowError(/positive/);
    expect(resolveResources({ image: 'x', pidsLimit: -1 })).toEqual({});
    expect(resolveResources({ image: 'x', memory: '64m', memorySwap: '-1', memoryReservation: '16m', cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 20_000, cpusetCpus: '0' }))
      .toEqual({ memoryBytes: 64 << 20, memorySwapBytes: -1, memoryReservationBytes: 16 << 20, cpuShares: 512, cpuQuotaUs: 50_000, cpuPeriodUs: 20_000, cpusetCpus: '0' });
    expect(() => resolveResources({ image: 'x', memorySwap: '64m' })).toThrowError('You should always set the Memory limit when using Memoryswap limit');
    expect(() => resolveResources({ image: 'x', memory: '64m', memorySwap: '32m' })).toThrowError('Minimum memoryswap limit should be larger than memory limit');
    expect(() => resolveResources({ image: 'x', cpus: 1, cpuQuota: 50_000 })).toThrowError('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  });

  it('cleans paths and merges env', () => {
    expect(cleanContainerPath('/a/./b/../c/')).toBe('/a/c');
    expect(cleanContainerPath('/../..')).toBe('/');
    expect(mergeEnv(['A=1', 'B=2'], ['A=3'])).toEqual(['A=3', 'B=2']);
  });
});
