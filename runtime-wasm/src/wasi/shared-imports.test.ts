import { describe, expect, it } from 'vitest';
import { GuestKilled, runAs, sharedImports, WasiHost } from './host.js';
import { RealClock } from './clock.js';
import { cryptoRandom } from './random.js';
import { InputFd, OutputFd } from './stdio.js';

const host = () => new WasiHost({
  args: ['x'], env: [], preopens: [], stdin: new InputFd(), stdout: new OutputFd(() => {}), stderr: new OutputFd(() => {}),
  clock: new RealClock(), random: cryptoRandom,
});

describe('shared imports', () => {
  it('call the active host, nested runs restore the outer one', () => {
    const outer = host(), inner = host();
    inner.kill('inner killed');
    runAs(outer, () => {
      expect(sharedImports['sched_yield']!()).toBe(0);
      expect(() => runAs(inner, () => sharedImports['sched_yield']!())).toThrow(GuestKilled);
      expect(sharedImports['sched_yield']!()).toBe(0);
    });
  });

  it('refuse a call while no guest runs', () => {
    expect(() => sharedImports['sched_yield']!()).toThrow(/no guest was running/);
  });
});
