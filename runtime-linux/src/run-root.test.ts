import { describe, it, expect, afterEach } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRunRoot } from './run-root.js';

const tmpfs = '/dev/shm'; // tmpfs on Linux hosts
const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const base = () => { const d = mkdtempSync(join(tmpfs, 'skiff-runroot-')); dirs.push(d); return d; };

describe.skipIf(!existsSync(tmpfs))('defaultRunRoot', () => {
  it('puts per-boot files on a tmpfs, in a directory only its owner can write', () => {
    const b = base();
    expect(defaultRunRoot('/state', 'k1', [b])).toBe(join(b, 'skiff', 'k1'));
    expect(statSync(join(b, 'skiff')).mode & 0o777).toBe(0o700);
  });

  it('falls back to the state directory when no candidate is a tmpfs', () => {
    expect(defaultRunRoot('/state', 'k1', [])).toBe('/state/run');
    expect(defaultRunRoot('/state', 'k1', ['/proc/self'])).toBe('/state/run');
  });

  it('does not trust a directory someone else prepared: a symlink, or one others may write', () => {
    const b1 = base();
    const elsewhere = join(b1, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, join(b1, 'skiff'));
    expect(defaultRunRoot('/state', 'k1', [b1])).toBe('/state/run');
    const b2 = base();
    mkdirSync(join(b2, 'skiff'));
    chmodSync(join(b2, 'skiff'), 0o777);
    expect(defaultRunRoot('/state', 'k1', [b2])).toBe('/state/run');
  });
});
