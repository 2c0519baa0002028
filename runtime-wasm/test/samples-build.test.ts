/**
 * The sample WASI programs (runtime-wasm/samples): the committed .wasm files
 * are what build.sh makes from the sources, and they behave as documented
 * when run by Node's own WASI host.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runWasi, type WasiRun } from './programs/node-wasi.js';
import { checkReproducibleBuild, ci, hasClang, useTempDirs } from './programs/reproducible.js';

const samples = fileURLToPath(new URL('../samples/', import.meta.url));
const bin = (name: string) => join(samples, 'bin', `${name}.wasm`);

const tempDir = useTempDirs();

describe('samples/build.sh', () => {
  it.skipIf(!hasClang && !ci)('rebuilds every committed .wasm byte for byte', (ctx) => {
    const skip = checkReproducibleBuild(join(samples, 'build.sh'), join(samples, 'bin'));
    if (skip) ctx.skip(skip);
  }, 600_000);

  it('keeps no absolute build paths in the binaries', () => {
    for (const f of readdirSync(join(samples, 'bin')).filter((f) => f.endsWith('.wasm'))) {
      const text = readFileSync(join(samples, 'bin', f)).toString('latin1');
      expect(text.includes(samples), f).toBe(false);
      expect(text.includes('/work/'), f).toBe(false);
    }
  });
});

describe('hello', () => {
  it('greets and exits 0', () => {
    const r = runWasi(bin('hello'), ['hello'], { root: tempDir('skiff-hello-') });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Hello from skiff!\n.+\n$/);
    expect(r.stderr).toBe('');
  });
});

let root = '';
beforeEach(() => {
  root = tempDir('skiff-toolbox-');
});

/** `toolbox APPLET args...` with `/` = root. */
const tb = (args: string[], o: { env?: Record<string, string>; stdin?: string } = {}): WasiRun =>
  runWasi(bin('toolbox'), ['toolbox', ...args], { root, ...o });
/** `sh -c SCRIPT` through the toolbox. */
const sh = (script: string, o: { env?: Record<string, string>; stdin?: string } = {}) => tb(['sh', '-c', script], o);
const put = (path: string, data: string) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), data);
};
const host = (path: string) => join(root, path);

describe('toolbox applets', () => {
  it('picks the applet from argv[0] or the first argument', () => {
    expect(runWasi(bin('toolbox'), ['/bin/echo', 'a', 'b'], { root }).stdout).toBe('a b\n');
    expect(runWasi(bin('toolbox'), ['echo.wasm', 'c'], { root }).stdout).toBe('c\n');
    expect(tb(['echo', 'd']).stdout).toBe('d\n');
    const list = tb(['--list']);
    expect(list.stdout.split('\n')).toEqual(expect.arrayContaining(['sh', 'ls', 'cat', 'seq', 'stat']));
    const none = tb(['frobnicate']);
    expect(none.exitCode).toBe(127);
    expect(none.stderr).toBe('toolbox: frobnicate: applet not found\n');
    expect(runWasi(bin('toolbox'), ['toolbox'], { root }).exitCode).toBe(2);
  });

  it('echo: -n, -e and plain words', () => {
    expect(tb(['echo', '-n', 'no', 'newline']).stdout).toBe('no newline');
    expect(tb(['echo', '-e', 'a\\tb\\nc\\x41\\0101\\\\']).stdout).toBe('a\tb\ncAA\\\n');
    expect(tb(['echo', 'a\\nb']).stdout).toBe('a\\nb\n');
    expect(tb(['echo', '-e', 'stop\\cnot this']).stdout).toBe('stop');
    expect(tb(['echo', '-x', 'y']).stdout).toBe('-x y\n');
    expect(tb(['echo']).stdout).toBe('\n');
  });

  it('cat: files, stdin and -', () => {
    put('a', 'A\n');
    put('b', 'B\n');
    expect(tb(['cat', '/a', '/b']).stdout).toBe('A\nB\n');
    expect(tb(['cat'], { stdin: 'from stdin\n' }).stdout).toBe('from stdin\n');
    expect(tb(['cat', '/a', '-', '/b'], { stdin: 'middle\n' }).stdout).toBe('A\nmiddle\nB\n');
    const r = tb(['cat', '/a', '/missing', '/b']);
    expect(r.stdout).toBe('A\nB\n');
    expect(r.stderr).toBe('cat: /missing: No such file or directory\n');
    expect(r.exitCode).toBe(1);
  });

  it('ls: sorted names, -a, -l, -1, files and directories', () => {
    put('d/zeta', 'z');
    put('d/alpha', 'abc');
    put('d/.hidden', '');
    put('d/Beta', '');
    mkdirSync(host('d/sub'));
    expect(tb(['ls', '/d']).stdout).toBe('Beta\nalpha\nsub\nzeta\n');
    expect(tb(['ls', '-1', '/d']).stdout).toBe('Beta\nalpha\nsub\nzeta\n');
    expect(tb(['ls', '-a', '/d']).stdout).toBe('.\n..\n.hidden\nBeta\nalpha\nsub\nzeta\n');
    const long = tb(['ls', '-l', '/d']).stdout.trimEnd().split('\n');
    expect(long).toHaveLength(4);
    expect(long[1]).toMatch(/^-rw-r--r-- +1 +3 \d{4}-\d\d-\d\d \d\d:\d\d alpha$/);
    expect(long[2]).toMatch(/^d[rwx-]{9} +\d+ +\d+ .* sub$/);
    expect(tb(['ls', '/d/zeta', '/d/sub', '/d/alpha']).stdout).toBe('/d/alpha\n/d/zeta\n\n/d/sub:\n');
    const missing = tb(['ls', '/nope']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toBe('ls: /nope: No such file or directory\n');
    expect(tb(['ls', '-q']).exitCode).toBe(2);
  });

  it('ls -l shows symlinks and their targets', () => {
    put('d/f', 'x');
    expect(tb(['ln', '-s', 'f', '/d/link']).exitCode).toBe(0);
    expect(tb(['ls', '-l', '/d']).stdout).toMatch(/^l[rwx-]{9} .* link -> f\n/m);
  });

  it('wc: -l -w -c, stdin, files and a total', () => {
    put('t', 'one two\nthree\n');
    put('u', 'x');
    expect(tb(['wc'], { stdin: 'a b\nc\n' }).stdout).toBe('2 3 6\n');
    expect(tb(['wc', '-l'], { stdin: 'a\nb\nc' }).stdout).toBe('2\n');
    expect(tb(['wc', '-w', '/t']).stdout).toBe('3 /t\n');
    expect(tb(['wc', '-c', '/t', '/u']).stdout).toBe('14 /t\n1 /u\n15 total\n');
    expect(tb(['wc', '-lw', '/t']).stdout).toBe('2 3 /t\n');
  });

  it('env: prints the environment and runs an applet with more of it', () => {
    const r = tb(['env'], { env: { A: '1', B: 'two words' } });
    expect(r.stdout.split('\n').sort()).toEqual(['', 'A=1', 'B=two words']);
    expect(tb(['env', 'C=3', 'env'], { env: { A: '1' } }).stdout.split('\n').sort()).toEqual(['', 'A=1', 'C=3']);
    expect(tb(['env', '-i', 'D=4', 'env'], { env: { A: '1' } }).stdout).toBe('D=4\n');
  });

  it('mkdir, -p; rmdir', () => {
    expect(tb(['mkdir', '/a']).exitCode).toBe(0);
    expect(statSync(host('a')).isDirectory()).toBe(true);
    const again = tb(['mkdir', '/a']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toBe('mkdir: /a: File exists\n');
    expect(tb(['mkdir', '/x/y']).stderr).toBe('mkdir: /x/y: No such file or directory\n');
    expect(tb(['mkdir', '-p', '/a/b/c', '/p/q']).exitCode).toBe(0);
    expect(statSync(host('a/b/c')).isDirectory() && statSync(host('p/q')).isDirectory()).toBe(true);
    expect(tb(['mkdir', '-p', '/a/b/c']).exitCode).toBe(0);
    put('file', '');
    expect(tb(['mkdir', '-p', '/file/x']).exitCode).toBe(1);
    const notEmpty = tb(['rmdir', '/a']);
    expect(notEmpty.exitCode).toBe(1);
    expect(notEmpty.stderr).toMatch(/^rmdir: \/a: Directory not empty\n$/);
    expect(tb(['rmdir', '/a/b/c']).exitCode).toBe(0);
    expect(existsSync(host('a/b/c'))).toBe(false);
  });

  it('rm: files, -r trees, -f', () => {
    put('t/a/b/c', '1');
    put('t/a/d', '2');
    put('f', '');
    expect(tb(['rm', '/f']).exitCode).toBe(0);
    expect(existsSync(host('f'))).toBe(false);
    const dir = tb(['rm', '/t']);
    expect(dir.exitCode).toBe(1);
    expect(dir.stderr).toBe('rm: /t: Is a directory\n');
    expect(tb(['rm', '-r', '/t']).exitCode).toBe(0);
    expect(existsSync(host('t'))).toBe(false);
    expect(tb(['rm', '/gone']).exitCode).toBe(1);
    const forced = tb(['rm', '-f', '/gone']);
    expect([forced.exitCode, forced.stderr]).toEqual([0, '']);
    expect(tb(['rm', '-rf', '.']).stderr).toMatch(/refusing to remove/);
  });

  it('touch creates files and updates times', () => {
    expect(tb(['touch', '/new']).exitCode).toBe(0);
    expect(statSync(host('new')).size).toBe(0);
    put('old', 'keep');
    utimesSync(host('old'), 1000, 1000);
    expect(tb(['touch', '/old']).exitCode).toBe(0);
    expect(statSync(host('old')).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    expect(readFileSync(host('old'), 'utf8')).toBe('keep');
  });

  it('cp: a file, into a directory, -r a tree', () => {
    put('src/f', 'data');
    put('src/sub/g', 'more');
    mkdirSync(host('dst'));
    expect(tb(['cp', '/src/f', '/copy']).exitCode).toBe(0);
    expect(readFileSync(host('copy'), 'utf8')).toBe('data');
    expect(tb(['cp', '/src/f', '/dst']).exitCode).toBe(0);
    expect(readFileSync(host('dst/f'), 'utf8')).toBe('data');
    const noR = tb(['cp', '/src', '/tree']);
    expect(noR.exitCode).toBe(1);
    expect(noR.stderr).toMatch(/-r not specified/);
    expect(tb(['cp', '-r', '/src', '/tree']).exitCode).toBe(0);
    expect(readFileSync(host('tree/sub/g'), 'utf8')).toBe('more');
    expect(tb(['cp', '/nope', '/x']).stderr).toBe('cp: /nope: No such file or directory\n');
  });

  it('mv: renames, moves into a directory, replaces a file', () => {
    put('a', 'A');
    put('b', 'B');
    mkdirSync(host('dir'));
    expect(tb(['mv', '/a', '/c']).exitCode).toBe(0);
    expect([existsSync(host('a')), readFileSync(host('c'), 'utf8')]).toEqual([false, 'A']);
    expect(tb(['mv', '/c', '/dir']).exitCode).toBe(0);
    expect(readFileSync(host('dir/c'), 'utf8')).toBe('A');
    expect(tb(['mv', '/b', '/dir/c']).exitCode).toBe(0);
    expect(readFileSync(host('dir/c'), 'utf8')).toBe('B');
  });

  it('ln: hard links and -s symlinks', () => {
    put('f', 'x');
    expect(tb(['ln', '/f', '/hard']).exitCode).toBe(0);
    expect(statSync(host('f')).nlink).toBe(2);
    // Relative: node:wasi refuses absolute symlink targets (EPERM).
    expect(tb(['ln', '-s', 'f', '/soft']).exitCode).toBe(0);
    expect(lstatSync(host('soft')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(host('soft'))).toBe('f');
    mkdirSync(host('d'));
    expect(tb(['ln', '-s', '../f', '/d']).exitCode).toBe(0);
    expect(readlinkSync(host('d/f'))).toBe('../f');
    expect(tb(['ln', '-s', 'f', '/soft']).stderr).toBe('ln: /soft: File exists\n');
    expect(tb(['stat', '/hard']).stdout).toMatch(/^Links: 2$/m);
  });

  it('pwd follows PWD (skiff passes the working directory so)', () => {
    mkdirSync(host('w/x'), { recursive: true });
    expect(tb(['pwd']).stdout).toBe('/\n');
    expect(tb(['pwd'], { env: { PWD: '/w/x' } }).stdout).toBe('/w/x\n');
    put('w/x/here', 'relative');
    expect(tb(['cat', 'here'], { env: { PWD: '/w/x' } }).stdout).toBe('relative');
  });

  it('true, false, exit', () => {
    expect(tb(['true']).exitCode).toBe(0);
    expect(tb(['false']).exitCode).toBe(1);
    expect(tb(['exit', '42']).exitCode).toBe(42);
  });

  it('sleep: fractional seconds', () => {
    const r = tb(['sleep', '0.15']);
    expect(r.exitCode).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(140);
    expect(tb(['sleep', 'soon']).exitCode).toBe(1);
  });

  it('seq: N, FIRST LAST, FIRST INC LAST', () => {
    expect(tb(['seq', '3']).stdout).toBe('1\n2\n3\n');
    expect(tb(['seq', '-1', '1']).stdout).toBe('-1\n0\n1\n');
    expect(tb(['seq', '10', '-3', '1']).stdout).toBe('10\n7\n4\n1\n');
    expect(tb(['seq', '0', '0.5', '1']).stdout).toBe('0.0\n0.5\n1.0\n');
    const big = tb(['seq', '100000']).stdout;
    expect(big.length).toBe(588_895);
    expect(big.endsWith('\n99999\n100000\n')).toBe(true);
  });

  it('stat: type, size, mode', () => {
    put('f', 'hello');
    mkdirSync(host('d'));
    expect(tb(['stat', '/f']).stdout).toMatch(/^File: \/f\nType: regular file\nSize: 5\nMode: 0\d{3}\nLinks: 1\n/);
    expect(tb(['stat', '/d']).stdout).toMatch(/^Type: directory$/m);
    expect(tb(['ln', '-s', 'f', '/l']).exitCode).toBe(0);
    expect(tb(['stat', '/l']).stdout).toMatch(/^Type: symbolic link$/m);
    expect(tb(['stat', '-L', '/l']).stdout).toMatch(/^Type: regular file$/m);
    expect(tb(['stat', '/none']).exitCode).toBe(1);
  });

  it('head: 10 lines, -n N, -N, several files', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `${i + 1}`).join('\n') + '\n';
    put('n', lines);
    expect(tb(['head', '/n']).stdout).toBe(lines.split('\n').slice(0, 10).join('\n') + '\n');
    expect(tb(['head', '-n', '2', '/n']).stdout).toBe('1\n2\n');
    expect(tb(['head', '-3'], { stdin: lines }).stdout).toBe('1\n2\n3\n');
    put('m', 'x\n');
    expect(tb(['head', '-n1', '/n', '/m']).stdout).toBe('==> /n <==\n1\n\n==> /m <==\nx\n');
  });

  it('tee: to output and files, -a appends', () => {
    expect(tb(['tee', '/t1', '/t2'], { stdin: 'copy\n' }).stdout).toBe('copy\n');
    expect(readFileSync(host('t1'), 'utf8') + readFileSync(host('t2'), 'utf8')).toBe('copy\ncopy\n');
    tb(['tee', '-a', '/t1'], { stdin: 'more\n' });
    expect(readFileSync(host('t1'), 'utf8')).toBe('copy\nmore\n');
  });
});

describe('toolbox sh', () => {
  it('exit codes: exit N, false, last command', () => {
    expect(sh('exit 3').exitCode).toBe(3);
    expect(sh('false').exitCode).toBe(1);
    expect(sh('true').exitCode).toBe(0);
    expect(sh('false; true').exitCode).toBe(0);
    expect(sh('exit 300').exitCode).toBe(44);
    expect(sh('false; exit').exitCode).toBe(1);
    const r = sh('echo before; exit 5; echo after');
    expect([r.stdout, r.exitCode]).toEqual(['before\n', 5]);
  });

  it('unknown commands: "sh: NAME: not found" and 127', () => {
    const r = sh('nosuchthing arg; echo status $?');
    expect(r.stderr).toBe('sh: nosuchthing: not found\n');
    expect(r.stdout).toBe('status 127\n');
    expect(sh('nosuchthing').exitCode).toBe(127);
  });

  it('words: quotes and backslashes', () => {
    expect(sh(`echo 'single $HOME "x"' "double \\"q\\" \\$ \\\\" a\\ b \\'`, { env: { HOME: '/h' } }).stdout).toBe(
      `single $HOME "x" double "q" $ \\ a b '\n`,
    );
    expect(tb(['sh', '-c', 'for x', 'name']).stderr).toBe('sh: for: not found\n');
    expect(sh('echo "a\nb"').stdout).toBe('a\nb\n');
    expect(sh('echo a\\\nb').stdout).toBe('ab\n');
    expect(sh("echo ''x'' \"\" | wc -w").stdout).toBe('1\n');
    expect(sh('echo # a comment').stdout).toBe('\n');
  });

  it('variables: $VAR ${VAR} $? assignments export, field splitting', () => {
    expect(sh('X=1; Y=$X$X; echo $Y ${X}2 "$X"', {}).stdout).toBe('11 12 1\n');
    expect(sh('false; echo $?; true; echo $?').stdout).toBe('1\n0\n');
    expect(sh('echo [$UNSET] "[${UNSET}]"').stdout).toBe('[] []\n');
    expect(sh('echo ${U:-default} ${U-dash} ${E:+alt}', { env: { E: 'e' } }).stdout).toBe('default dash alt\n');
    expect(sh('S="a   b"; echo $S; echo "$S"; tb=$S; echo "$tb"').stdout).toBe('a b\na   b\na   b\n');
    expect(sh('S="1 2 3"; seq $S').stdout).toBe('1\n3\n');
    // NAME=value before a command sets it for that command only.
    expect(sh('V=scoped env; echo "[$V]"').stdout.split('\n')).toEqual(expect.arrayContaining(['V=scoped', '[]']));
    expect(sh('L=local; env').stdout).not.toMatch(/L=local/);
    expect(sh('export L=exported; env').stdout).toMatch(/^L=exported$/m);
    expect(sh('L=x; export L; sh -c "echo inner \\$L"').stdout).toBe('inner x\n');
    expect(sh('echo $HOME', { env: { HOME: '/home/me' } }).stdout).toBe('/home/me\n');
    expect(sh('unset HOME; echo [$HOME]', { env: { HOME: '/home/me' } }).stdout).toBe('[]\n');
  });

  it('positional parameters and $(...)', () => {
    expect(tb(['sh', '-c', 'echo $0 $1 $# "$@"', 'name', 'a b', 'c']).stdout).toBe('name a b 2 a b c\n');
    expect(sh('echo "n=$(seq 3 | wc -l)"; X=$(echo hi); echo $X').stdout).toBe('n=3\nhi\n');
    expect(sh('set -- p q; echo $2 $#; shift; echo $1').stdout).toBe('q 2\nq\n');
  });

  it('; && || and !', () => {
    expect(sh('true && echo yes || echo no').stdout).toBe('yes\n');
    expect(sh('false && echo yes || echo no').stdout).toBe('no\n');
    expect(sh('false || false || echo third').stdout).toBe('third\n');
    expect(sh('true || echo skipped; echo next').stdout).toBe('next\n');
    expect(sh('! false && echo negated').stdout).toBe('negated\n');
    expect(sh('false && echo x').exitCode).toBe(1);
    expect(sh('true &&\n echo continued').stdout).toBe('continued\n');
  });

  it('redirections: > >> < 2> 2>&1', () => {
    const r = sh('echo one > /f; echo two >> /f; cat < /f; cat /missing 2> /err; echo $?; cat /f /missing > /both 2>&1');
    expect(r.stdout).toBe('one\ntwo\n1\n');
    expect(r.stderr).toBe('');
    expect(readFileSync(host('f'), 'utf8')).toBe('one\ntwo\n');
    expect(readFileSync(host('err'), 'utf8')).toBe('cat: /missing: No such file or directory\n');
    expect(readFileSync(host('both'), 'utf8')).toBe('one\ntwo\ncat: /missing: No such file or directory\n');
    // 2>&1 before > keeps errors on the old output.
    const order = sh('cat /missing 2>&1 > /out');
    expect(order.stdout).toBe('cat: /missing: No such file or directory\n');
    expect(sh('echo to-err >&2').stderr).toBe('to-err\n');
    const bad = sh('cat < /nope; echo after $?');
    expect(bad.stderr).toBe('sh: /nope: No such file or directory\n');
    expect(bad.stdout).toBe('after 1\n');
    expect(sh('> /empty').exitCode).toBe(0);
    expect(statSync(host('empty')).size).toBe(0);
    expect(sh('echo x >/a/b/c').stderr).toBe('sh: /a/b/c: No such file or directory\n');
  });

  it('pipes', () => {
    expect(sh('seq 5 | head -n 2').stdout).toBe('1\n2\n');
    expect(sh('seq 1000 | wc -l').stdout).toBe('1000\n');
    expect(sh('echo a b c | wc -w | cat').stdout).toBe('3\n');
    expect(sh('seq 3 | tee /t | wc -l; cat /t').stdout).toBe('3\n1\n2\n3\n');
    expect(sh('false | true').exitCode).toBe(0);
    expect(sh('true | false').exitCode).toBe(1);
    // exit inside a pipeline ends only that part, as in a subshell.
    expect(sh('exit 4 | echo still; echo here').stdout).toBe('still\nhere\n');
    expect(sh('echo "echo piped \\$1" | sh -s').stdout).toBe('piped\n');
  });

  it('cd, pwd and relative paths', () => {
    mkdirSync(host('a/b'), { recursive: true });
    const r = sh('cd /a; pwd; mkdir c; cd c; pwd; echo $PWD; cd ..; ls; cd /nope; echo $?');
    expect(r.stdout).toBe('/a\n/a/c\n/a/c\nb\nc\n1\n');
    expect(r.stderr).toBe('sh: cd: /nope: No such file or directory\n');
    expect(sh('cd /a && cd b && pwd', { env: { PWD: '/' } }).stdout).toBe('/a/b\n');
    expect(sh('pwd', { env: { PWD: '/a/b' } }).stdout).toBe('/a/b\n');
  });

  it('scripts, stdin commands, set -e, syntax errors', () => {
    put('s.sh', '#!/bin/sh\necho script $0 $1\nX=in-script\necho $X\nexit 7\necho never\n');
    const s = tb(['sh', '/s.sh', 'arg']);
    expect([s.stdout, s.exitCode]).toEqual(['script /s.sh arg\nin-script\n', 7]);
    const stdin = tb(['sh'], { stdin: 'echo a\nX=2\necho "multi\nline $X"\nfalse\n' });
    expect([stdin.stdout, stdin.exitCode]).toEqual(['a\nmulti\nline 2\n', 1]);
    const e = tb(['sh', '-e', '-c', 'echo one; false; echo two']);
    expect([e.stdout, e.exitCode]).toEqual(['one\n', 1]);
    expect(sh('set -e; false || echo tested; echo end').stdout).toBe('tested\nend\n');
    const syn = sh('echo a; echo "unterminated');
    expect([syn.stdout, syn.stderr, syn.exitCode]).toEqual(['', 'sh: syntax error: unexpected end of file\n', 2]);
    expect(sh('echo a && && b').stderr).toBe("sh: syntax error: unexpected '&&'\n");
    expect(sh('sleep 1 &').stderr).toBe('sh: background jobs (&) are not supported\n');
    expect(tb(['sh', '/none.sh']).exitCode).toBe(127);
    put('lib.sh', 'LIBVAR=loaded\n');
    expect(sh('. /lib.sh; echo $LIBVAR').stdout).toBe('loaded\n');
  });

  it('test and [ with && and ||', () => {
    put('f', 'x');
    mkdirSync(host('d'));
    const r = sh('[ -f /f ] && echo file; test -d /f || echo not-dir; [ -d /d -a -s /f ] && echo both; [ ! -e /nope ] && echo absent; [ 3 -lt 10 ] && [ "$X" = "" ] && echo cmp');
    expect(r.stdout).toBe('file\nnot-dir\nboth\nabsent\ncmp\n');
    expect(sh('[ a = b ]').exitCode).toBe(1);
    expect(sh('test -n ""').exitCode).toBe(1);
    const bad = sh('[ 1 -eq x ]');
    expect([bad.exitCode, bad.stderr]).toEqual([2, 'test: integer expression expected: 1 -eq x\n']);
    expect(sh('[ -f /f').stderr).toBe("[: missing ']'\n");
    expect(sh('echo $((1+2))').stderr).toBe('sh: $((1+2)): arithmetic expansion is not supported\n');
  });

  it('runs applets named by path when the file is there', () => {
    mkdirSync(host('bin'));
    put('bin/echo', '');
    expect(sh('/bin/echo via path').stdout).toBe('via path\n');
    const r = sh('/usr/bin/echo x');
    expect([r.stderr, r.exitCode]).toEqual(['sh: /usr/bin/echo: not found\n', 127]);
    put('bin/other', '');
    expect(sh('/bin/other').exitCode).toBe(126);
  });

  it('the README command', () => {
    mkdirSync(host('bin'));
    for (const a of ['sh', 'echo', 'ls', 'wc']) put(`bin/${a}`, '');
    const r = sh('echo hello from a WASI container; ls /bin | wc -l');
    expect(r.stdout).toBe('hello from a WASI container\n4\n');
  });
});

/** Real SQLite on the host (Debian's sqlite3 shell), to read and write the same files. */
const hostSqlite = (db: string, sql: string): string => execFileSync('sqlite3', [db, sql], { encoding: 'utf8' });

describe('sqlite', () => {
  const sqlite = (args: string[], stdin?: string) => runWasi(bin('sqlite'), ['sqlite', ...args], { root, ...(stdin !== undefined ? { stdin } : {}) });

  it('stays under 2 MB', () => {
    expect(statSync(bin('sqlite')).size).toBeLessThan(2 * 1024 * 1024);
  });

  it('creates, inserts, selects; the database persists between runs', () => {
    const first = sqlite(['/data.db', "create table t(a integer, b text); insert into t values (1, 'one'), (2, NULL), (3, 'three'); select * from t;"]);
    expect([first.stdout, first.stderr, first.exitCode]).toEqual(['1|one\n2|\n3|three\n', '', 0]);
    expect(statSync(host('data.db')).size).toBeGreaterThan(0);
    const second = sqlite(['/data.db', 'select count(*), sum(a) from t; select b from t where a = 3;']);
    expect([second.stdout, second.exitCode]).toEqual(['3|6\nthree\n', 0]);
    expect(sqlite(['/data.db'], 'insert into t values (4, \'four\');\nselect max(a) from t;\n').stdout).toBe('4\n');
    const tx = sqlite(['/data.db', 'begin; delete from t; rollback; pragma integrity_check; select count(*) from t;']);
    expect(tx.stdout).toBe('ok\n4\n');
  });

  it('writes files that SQLite on the host reads, and reads its files', () => {
    sqlite(['/made-by-wasm.db', "create table kv(k text primary key, v real); insert into kv values ('pi', 3.5), ('e', 2.75);"]);
    expect(hostSqlite(host('made-by-wasm.db'), 'select k, v from kv order by k')).toBe('e|2.75\npi|3.5\n');
    hostSqlite(host('made-by-host.db'), "create table n(x); insert into n values ('from the host'), (42);");
    expect(sqlite(['/made-by-host.db', 'select x from n order by rowid']).stdout).toBe('from the host\n42\n');
  });

  it('reports errors on stderr with status 1', () => {
    const r = sqlite(['/e.db', 'select 1; select nope; select 2;']);
    expect([r.stdout, r.stderr, r.exitCode]).toEqual(['1\n', 'Error: no such column: nope\n', 1]);
    expect(sqlite([]).exitCode).toBe(2);
    const dir = sqlite(['/missing/dir.db', 'select 1']);
    expect(dir.exitCode).toBe(1);
    expect(dir.stderr).toMatch(/^Error: cannot open \/missing\/dir\.db: unable to open database file\n$/);
  });
});
