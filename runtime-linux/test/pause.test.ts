/**
 * docker pause on Linux through the cgroup v1 freezer (a host without
 * cgroup2): forced with `cgroups: { setup: 'v1' }`, which on a hybrid host
 * leaves out the unified side. A counter loop stops advancing while paused.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Engine } from '@skiff/sdk';
import { LinuxBackend } from '../src/index.js';
import { detectCgroupSetup, v1Mounts } from '../src/cgroups/index.js';
import { CI, busyboxLayer, leftoverCgroups, makeImage, missingPrerequisite, tempDir } from './fixtures.js';
import { Harness, startRunning } from './harness.js';

const why = missingPrerequisite() ?? (v1Mounts().freezer ? undefined : 'the cgroup v1 freezer controller is not mounted');
if (why && CI) throw new Error(`the v1 pause tests cannot run on CI: ${why}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const COUNTER = 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.02; done';

/**
 * The counter file as it is, read through the container's root (the process's
 * own /proc entry works while it is frozen). `echo > /tmp/n` truncates before
 * it writes, so a read may find it empty, also while frozen in between.
 */
const counter = (pid: number) => readFileSync(`/proc/${pid}/root/tmp/n`, 'utf8');

async function counting(pid: number): Promise<void> {
  for (let i = 0; i < 200 && !existsSync(`/proc/${pid}/root/tmp/n`); i++) await sleep(10);
}

/** Waits (up to 10 s) for the counter to pass `frozenAt`: resumed processes run again, however busy the machine. */
async function countsPast(pid: number, frozenAt: string): Promise<number> {
  let n = Number.NaN;
  for (let i = 0; i < 500; i++) {
    const text = counter(pid).trim();
    n = text ? Number(text) : Number.NaN;
    if (n > Number(frozenAt || 0)) break;
    await sleep(20);
  }
  return n;
}

describe.skipIf(!!why)('linux backend: pause through the cgroup v1 freezer', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.open({ cgroups: { setup: 'v1' } });
  });
  afterAll(async () => {
    const leaks = await h?.close();
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
  });

  const freezerDir = (id: string) => leftoverCgroups([id]).find((d) => d.startsWith(`${v1Mounts().freezer}/`));

  it('stops every process while paused, resumes on unpause; the freezer cgroup goes with the container', async () => {
    const c = await h.create(COUNTER);
    const dir = freezerDir(c.id);
    expect(dir).toBeDefined();
    try {
      const { done } = await startRunning(c);
      const pid = c.pid!;
      await counting(pid);
      await c.pause!();
      expect(readFileSync(`${dir}/freezer.state`, 'utf8').trim()).toBe('FROZEN');
      const frozenAt = counter(pid);
      await sleep(300);
      expect(counter(pid)).toBe(frozenAt);
      await c.unpause!();
      expect(readFileSync(`${dir}/freezer.state`, 'utf8').trim()).toBe('THAWED');
      expect(await countsPast(pid, frozenAt)).toBeGreaterThan(Number(frozenAt || 0));
      await c.kill('SIGKILL');
      expect((await done).exitCode).toBe(137);
    } finally {
      await c.remove();
    }
    expect(existsSync(dir!)).toBe(false);
  });

  it('SIGKILL ends a paused container (thawed after the signal, as runc), and remove of a paused one does not hang', async () => {
    const c = await h.create(COUNTER);
    try {
      const { done } = await startRunning(c);
      await counting(c.pid!);
      await c.pause!();
      const t0 = Date.now();
      await c.kill('SIGKILL');
      expect((await done).exitCode).toBe(137);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await c.remove();
    }

    const d = await h.create(COUNTER);
    const dir = freezerDir(d.id)!;
    await startRunning(d);
    await counting(d.pid!);
    await d.pause!();
    const t0 = Date.now();
    await d.remove(); // the contract's "exited first" broken on purpose: nothing may outlive removal
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(existsSync(dir)).toBe(false);
  });

  it('Engine: docker pause, then stop and kill of the paused container end it without hanging', async () => {
    const img = await makeImage([await busyboxLayer()]);
    const state = tempDir();
    const engine = new Engine({ layout: img.layout, backends: [new LinuxBackend({ cgroups: { setup: 'v1' } })], stateDirFor: () => state });
    try {
      for (const verb of ['stop', 'kill'] as const) {
        const { id } = await engine.create({ image: 'test/busybox:latest', cmd: ['sh', '-c', COUNTER] });
        await engine.start(id);
        await engine.pause(id);
        const dir = freezerDir(id)!;
        expect(readFileSync(`${dir}/freezer.state`, 'utf8').trim()).toBe('FROZEN');
        const t0 = Date.now();
        if (verb === 'stop') await engine.stop(id, { timeoutSec: 1 });
        else await engine.kill(id);
        // stop: the init passes SIGTERM on to sh, which dies of it (143) once thawed.
        expect((await engine.wait(id)).exitCode).toBe(verb === 'stop' ? 143 : 137);
        expect(Date.now() - t0).toBeLessThan(10_000);
        await engine.remove(id);
        expect(existsSync(dir)).toBe(false);
      }
    } finally {
      await engine.close();
      rmSync(state, { recursive: true, force: true });
    }
  });
});

const whyNoV2 = missingPrerequisite() ?? (detectCgroupSetup() === 'v1' ? 'this host has no cgroup2 hierarchy (v1 only), so no v2 freezer' : undefined);
if (whyNoV2 && CI) throw new Error(`the v2 pause tests cannot run on CI: ${whyNoV2}`);

describe.skipIf(!!whyNoV2)('linux backend: pause through the cgroup v2 freezer (v2, or the unified side of a hybrid host)', () => {
  it('stops the counter while paused and resumes it; SIGKILL ends a paused container', async () => {
    const h = await Harness.open();
    try {
      const c = await h.create(COUNTER);
      try {
        const { done } = await startRunning(c);
        const pid = c.pid!;
        await counting(pid);
        await c.pause!();
        const dir = leftoverCgroups([c.id]).find((d) => existsSync(`${d}/cgroup.freeze`))!;
        expect(readFileSync(`${dir}/cgroup.freeze`, 'utf8').trim()).toBe('1');
        const frozenAt = counter(pid);
        await sleep(300);
        expect(counter(pid)).toBe(frozenAt);
        await c.unpause!();
        expect(await countsPast(pid, frozenAt)).toBeGreaterThan(Number(frozenAt || 0));
        await c.pause!();
        await c.kill('SIGKILL');
        expect((await done).exitCode).toBe(137);
      } finally {
        await c.remove();
      }
    } finally {
      expect(await h.close()).toEqual({ mounts: [], cgroups: [] });
    }
  });
});

