import { describe, it, expect } from 'vitest';
import { parseDockerfile } from './parser.js';
import { expand, splitWords, parseKeyValues } from './expand.js';

describe('Dockerfile parser', () => {
  it('parses instructions, flags, continuations, comments and exec forms', () => {
    const df = parseDockerfile([
      '# syntax=docker/dockerfile:1',
      'ARG BASE=busybox',
      'FROM --platform=linux/amd64 ${BASE} AS build',
      '# a comment',
      'RUN echo one \\',
      '  # dropped comment inside a continuation',
      '  && echo two',
      'COPY --from=build --chown=1:2 a.txt b/ /dst/',
      'CMD ["sh", "-c", "echo hi"]',
      'ENTRYPOINT echo shell form',
    ].join('\n'));
    expect(df.directives).toEqual({ syntax: 'docker/dockerfile:1' });
    const [arg, from, run, copy, cmd, ep] = df.instructions;
    expect(arg).toMatchObject({ name: 'ARG', args: 'BASE=busybox', line: 2 });
    expect(from).toMatchObject({ name: 'FROM', flags: { platform: 'linux/amd64' }, args: '${BASE} AS build', line: 3 });
    expect(run!.args).toBe('echo one   && echo two');
    expect(run!.line).toBe(5);
    expect(copy).toMatchObject({ flags: { from: 'build', chown: '1:2' }, args: 'a.txt b/ /dst/' });
    expect(cmd!.json).toEqual(['sh', '-c', 'echo hi']);
    expect(ep!.json).toBeUndefined();
  });

  it('honours the escape directive and heredocs', () => {
    const df = parseDockerfile('# escape=`\nFROM scratch\nRUN a `\n b\nRUN <<EOF\necho x\necho y\nEOF\nCOPY <<-"END" /f\n\tliteral $X\nEND\n');
    expect(df.escape).toBe('`');
    expect(df.instructions[1]!.args).toBe('a  b');
    expect(df.instructions[2]!.heredocs).toEqual([{ name: 'EOF', content: 'echo x\necho y\n', expand: true }]);
    expect(df.instructions[3]!.heredocs).toEqual([{ name: 'END', content: 'literal $X\n', expand: false }]);
  });

  it('names the file, line and column in errors', () => {
    expect(() => parseDockerfile('FROM a\nBOGUS x\n', 'app/Dockerfile')).toThrowError(/^app\/Dockerfile:2:1: unknown instruction: BOGUS/);
    expect(() => parseDockerfile('RUN x\n')).toThrowError(/no FROM|before the first FROM/);
    expect(() => parseDockerfile('FROM a\nCOPY onlyone\n')).toThrowError(/Dockerfile:2:1: COPY: requires at least two/);
    expect(() => parseDockerfile('FROM a\nRUN <<EOF\nno end\n')).toThrowError(/unterminated heredoc/);
    expect(() => parseDockerfile('FROM a\nCOPY --bogus=1 a b\n')).toThrowError(/unknown flag: --bogus/);
    expect(() => parseDockerfile('FROM a b c d\n')).toThrowError(/FROM \[--platform/);
  });
});

describe('Dockerfile substitution', () => {
  const vars = { A: 'one', EMPTY: '', SP: 'a b' };
  it.each([
    ['$A', 'one'], ['${A}', 'one'], ['x${A}y', 'xoney'], ['${NOPE:-def}', 'def'], ['${EMPTY:-def}', 'def'], ['${EMPTY-def}', ''],
    ['${A:+alt}', 'alt'], ['${NOPE:+alt}', ''], ['\\$A', '$A'], ["'$A'", "'$A'"], ['"$A"', '"one"'], ['${NOPE:-${A}}', 'one'],
  ])('%s -> %s', (input, want) => {
    expect(expand(input, vars)).toBe(want);
  });

  it('splits words and key=value pairs with quotes', () => {
    expect(splitWords('a "b c" \'d e\' f\\ g')).toEqual(['a', 'b c', 'd e', 'f g']);
    expect(parseKeyValues('K=v K2="two words" K3=')).toEqual([['K', 'v'], ['K2', 'two words'], ['K3', '']]);
    expect(parseKeyValues('LEGACY some value')).toEqual([['LEGACY', 'some value']]);
  });
});
