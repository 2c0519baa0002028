import { describe, expect, it } from 'vitest';
import { absolutePath, shebang } from './program.js';

describe('absolutePath', () => {
  it('joins with the working directory and cleans . and ..', () => {
    expect(absolutePath('/usr', 'bin/x')).toBe('/usr/bin/x');
    expect(absolutePath('/usr/lib', '../bin/./x')).toBe('/usr/bin/x');
    expect(absolutePath('/', '../../x')).toBe('/x');
    expect(absolutePath('/a', '/b//c/')).toBe('/b/c');
  });
});

describe('shebang', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it('splits the interpreter from one optional argument, like Linux', () => {
    expect(shebang(enc('#!/bin/sh\necho'))).toEqual(['/bin/sh']);
    expect(shebang(enc('#! /usr/bin/env  python3 -u \n'))).toEqual(['/usr/bin/env', 'python3 -u']);
  });
  it('is undefined for anything else', () => {
    expect(shebang(enc('\0asm'))).toBeUndefined();
    expect(shebang(enc('#!\n'))).toBeUndefined();
  });
});
