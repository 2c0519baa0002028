import { describe, it, expect } from 'vitest';
import { parseDockerignore, isIgnored } from './ignore.js';

describe('.dockerignore', () => {
  const rules = parseDockerignore('# comment\nnode_modules\n*.log\n!keep.log\n**/secret*\ndocs/*.md\n./build/\n');
  it.each([
    ['node_modules', true], ['node_modules/x/y.js', true], ['a.log', true], ['keep.log', false], ['sub/a.log', false],
    ['deep/a/secret.txt', true], ['secret.key', true], ['docs/readme.md', true], ['docs/sub/readme.md', false], ['build/out', true], ['src/main.c', false],
  ])('%s ignored: %s', (p, want) => {
    expect(isIgnored(p, rules)).toBe(want);
  });
});
