import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpareDirs } from './spare-dirs.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const temp = () => { const d = mkdtempSync(join(tmpdir(), 'spares-')); dirs.push(d); return d; };

describe('SpareDirs', () => {
  it('makes container directories ahead of time and moves one into place', async () => {
    const root = temp();
    const spares = new SpareDirs(join(root, 'spare'), 2);
    expect(spares.take(join(root, 'c1'))).toBe(false); // none yet
    spares.refill();
    await spares.settle();
    expect(readdirSync(join(root, 'spare'))).toHaveLength(2);
    expect(spares.take(join(root, 'c1'))).toBe(true);
    expect(readdirSync(join(root, 'c1')).sort()).toEqual(['layers.json', 'upper', 'work']);
    expect(readFileSync(join(root, 'c1', 'layers.json'), 'utf8')).toBe('');
    expect(readdirSync(join(root, 'spare'))).toHaveLength(1);
  });

  it("drops a half-made spare a crashed engine left, not one a live engine is making, and keeps the complete ones", () => {
    const root = temp();
    mkdirSync(join(root, 'spare', '.new-999999999-abc', 'upper'), { recursive: true }); // no such process
    mkdirSync(join(root, 'spare', `.new-${process.pid}-def`, 'upper'), { recursive: true });
    mkdirSync(join(root, 'spare', 'done1', 'upper'), { recursive: true });
    mkdirSync(join(root, 'spare', 'done1', 'work'), { recursive: true });
    const spares = new SpareDirs(join(root, 'spare'));
    expect(existsSync(join(root, 'spare', '.new-999999999-abc'))).toBe(false);
    expect(existsSync(join(root, 'spare', `.new-${process.pid}-def`))).toBe(true);
    expect(spares.take(join(root, 'c1'))).toBe(true);
    expect(spares.take(join(root, 'c2'))).toBe(false);
  });
});
