import { describe, expect, it } from 'vitest';
import { nextRestartDelay, parseRestartPolicy, restartsOnEngineStart, shouldRestart } from './restart.js';

describe('restart policies', () => {
  it('parses docker --restart values and refuses others', () => {
    expect(parseRestartPolicy('always')).toEqual({ name: 'always' });
    expect(parseRestartPolicy('on-failure:3')).toEqual({ name: 'on-failure', maximumRetryCount: 3 });
    expect(() => parseRestartPolicy('sometimes')).toThrow('use no, always, unless-stopped or on-failure');
    expect(() => parseRestartPolicy('always:2')).toThrow('only on-failure takes a retry count');
    expect(() => parseRestartPolicy('on-failure:x')).toThrow('whole number');
  });

  it('decides like dockerd', () => {
    const exit = (exitCode: number, restartCount = 0, stoppedByUser = false) => ({ exitCode, restartCount, stoppedByUser });
    expect(shouldRestart({ name: 'no' }, exit(1))).toBe(false);
    expect(shouldRestart({ name: 'always' }, exit(0))).toBe(true);
    expect(shouldRestart({ name: 'always' }, exit(0, 0, true))).toBe(false);
    expect(shouldRestart({ name: 'on-failure' }, exit(0))).toBe(false);
    expect(shouldRestart({ name: 'on-failure', maximumRetryCount: 2 }, exit(1, 1))).toBe(true);
    expect(shouldRestart({ name: 'on-failure', maximumRetryCount: 2 }, exit(1, 2))).toBe(false);
    expect(restartsOnEngineStart({ name: 'always' }, true)).toBe(true);
    expect(restartsOnEngineStart({ name: 'unless-stopped' }, true)).toBe(false);
    expect(restartsOnEngineStart({ name: 'unless-stopped' }, false)).toBe(true);
    expect(restartsOnEngineStart({ name: 'on-failure' }, false)).toBe(false);
  });

  it('backs off from 100 ms, doubling to a minute, and starts over after a 10 s run', () => {
    let d = nextRestartDelay(0, 0);
    expect(d).toBe(100);
    for (let i = 0; i < 20; i++) d = nextRestartDelay(d, 50);
    expect(d).toBe(60_000);
    expect(nextRestartDelay(d, 10_000)).toBe(100);
  });
});
