import { describe, expect, it } from 'vitest';
import { checkTmpfsOptions, parseTmpfsSpec } from './tmpfs.js';

describe('--tmpfs options', () => {
  it('splits PATH:OPTIONS and keeps the options', () => {
    expect(parseTmpfsSpec('/run')).toEqual({ type: 'tmpfs', target: '/run' });
    expect(parseTmpfsSpec('/run:size=64m,mode=700,noexec')).toEqual({ type: 'tmpfs', target: '/run', options: ['size=64m', 'mode=700', 'noexec'] });
    expect(() => parseTmpfsSpec('run')).toThrow(/must be absolute/);
  });

  it('refuses options a tmpfs does not take, naming them', () => {
    expect(() => parseTmpfsSpec('/run:size=lots')).toThrow(/invalid tmpfs option "size=lots"/);
    expect(() => parseTmpfsSpec('/run:mode=999')).toThrow(/invalid tmpfs option "mode=999"/);
    expect(() => checkTmpfsOptions(['bind'], 'x')).toThrow(/invalid tmpfs option "bind"/);
    expect(checkTmpfsOptions(['ro', 'uid=1000', 'nr_inodes=1k', 'size=50%'], 'x')).toHaveLength(4);
  });
});
