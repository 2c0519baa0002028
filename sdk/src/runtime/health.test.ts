import { describe, expect, it } from 'vitest';
import { durationSec, healthArgv, nextHealth, resolveHealthcheck, type HealthState } from './health.js';

describe('health checks', () => {
  it('merges the create options over the image, field by field; NONE disables', () => {
    const image = { Test: ['CMD', 'true'], Interval: 5e9, Retries: 4 };
    expect(resolveHealthcheck(image, { Interval: 1e9 })).toEqual({ Test: ['CMD', 'true'], Interval: 1e9, Retries: 4 });
    expect(resolveHealthcheck(image, { Test: ['NONE'] })).toBeUndefined();
    expect(resolveHealthcheck(undefined, undefined)).toBeUndefined();
    expect(() => resolveHealthcheck({ Test: ['RUN', 'x'] }, undefined)).toThrow('CMD, CMD-SHELL or NONE');
    expect(() => resolveHealthcheck({ Test: ['CMD'] }, undefined)).toThrow('no command');
    expect(() => resolveHealthcheck({ Test: ['CMD', 'x'], Interval: 5 }, undefined)).toThrow('at least 1ms');
  });

  it('runs CMD as is and CMD-SHELL through /bin/sh', () => {
    expect(healthArgv({ Test: ['CMD', 'curl', '-f', 'http://x/'] })).toEqual(['curl', '-f', 'http://x/']);
    expect(healthArgv({ Test: ['CMD-SHELL', 'test -f /ready'] })).toEqual(['/bin/sh', '-c', 'test -f /ready']);
  });

  it('goes healthy on a pass, unhealthy after `retries` failures, and ignores failures in the start period', () => {
    const h = { Test: ['CMD', 'x'], Retries: 2 };
    const r = (exitCode: number) => ({ start: 's', end: 'e', exitCode, output: `exit ${exitCode}` });
    let s: HealthState = { status: 'starting', failingStreak: 0, log: [] };
    s = nextHealth(s, r(1), h, true);
    expect(s).toMatchObject({ status: 'starting', failingStreak: 0 });
    s = nextHealth(s, r(1), h, false);
    expect(s).toMatchObject({ status: 'starting', failingStreak: 1 });
    s = nextHealth(s, r(0), h, false);
    expect(s).toMatchObject({ status: 'healthy', failingStreak: 0 });
    s = nextHealth(s, r(1), h, false);
    expect(s).toMatchObject({ status: 'healthy', failingStreak: 1 });
    s = nextHealth(s, r(1), h, false);
    expect(s).toMatchObject({ status: 'unhealthy', failingStreak: 2 });
    for (let i = 0; i < 10; i++) s = nextHealth(s, r(1), h, false);
    expect(s.log).toHaveLength(5);
  });

  it('reads durations', () => {
    expect(durationSec('1m30s', 'x')).toBe(90);
    expect(durationSec('100ms', 'x')).toBe(0.1);
    expect(() => durationSec('soon', 'x')).toThrow('invalid duration');
  });
});
