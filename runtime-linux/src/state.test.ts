import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerDir, currentBootId } from './state.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('ContainerDir', () => {
  const make = () => {
    const root = mkdtempSync(join(tmpdir(), 'cdir-'));
    dirs.push(root);
    const d = new ContainerDir(root);
    mkdirSync(d.work, { recursive: true });
    return d;
  };

  it('clears the volatile overlay marker of a run in this boot', () => {
    const d = make();
    expect(d.prepareVolatileMount()).toBe(true); // first start: nothing to clear
    mkdirSync(join(d.work, 'work', 'incompat', 'volatile'), { recursive: true });
    expect(d.prepareVolatileMount()).toBe(true);
    expect(existsSync(join(d.work, 'work'))).toBe(false);
  });

  it('refuses to reuse an upper dir mounted volatile before a host restart', () => {
    const d = make();
    mkdirSync(join(d.work, 'work', 'incompat', 'volatile'), { recursive: true });
    writeFileSync(d.file('boot-id'), '00000000-0000-0000-0000-000000000000');
    expect(currentBootId()).not.toBe('00000000-0000-0000-0000-000000000000');
    expect(d.prepareVolatileMount()).toBe(false);
    expect(existsSync(join(d.work, 'work', 'incompat', 'volatile'))).toBe(true);
  });

  it('reads the pid and exit files the helper writes, tolerating their absence', () => {
    const d = make();
    expect(d.readPid()).toBeUndefined();
    expect(d.readExit()).toBeUndefined();
    writeFileSync(d.pidFile, '{"shim":10,"pid":11}\n');
    d.writeExit({ code: 137, signal: 9 });
    expect(d.readPid()).toEqual({ shim: 10, pid: 11 });
    expect(d.readExit()).toEqual({ code: 137, signal: 9 });
    d.clearRun();
    expect(d.readPid()).toBeUndefined();
    expect(d.readExit()).toBeUndefined();
  });
});
