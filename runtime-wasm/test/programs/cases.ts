/**
 * The WASI test programs (src/*.c, built to bin/*.wasm by build.sh) and what
 * each run of them must print: expected/<case>.out holds the stdout that
 * Linux gives for the same program built natively (programs.test.ts checks
 * that), so a WASI host that matches it has Linux's semantics there.
 *
 * Each case runs with an empty directory as `/` and as the working
 * directory, `argv[0]` = the program name, and only the env given here.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ProgramCase {
  /** Unique; the expected stdout is expected/<name>.out. */
  name: string;
  /** bin/<program>.wasm */
  program: string;
  /** The arguments after argv[0]. */
  args: string[];
  env?: Record<string, string>;
  stdin?: string;
  /** The exit status, or 'trap' (natively: killed by a signal). */
  exit: number | 'trap';
  /** Needs /dev/null, which skiff gives every container; a bare directory has none. */
  devNull?: boolean;
  /** Uses absolute paths and `..` at the root: natively it runs in a chroot. */
  chroot?: boolean;
}

export const programCases: ProgramCase[] = [
  { name: 'fs', program: 'fs', args: [], exit: 0 },
  { name: 'devnull', program: 'devnull', args: [], exit: 0, devNull: true },
  { name: 'dirs', program: 'dirs', args: [], exit: 0 },
  { name: 'links', program: 'links', args: [], exit: 0 },
  { name: 'walks', program: 'walks', args: [], exit: 0 },
  { name: 'escapes', program: 'escapes', args: [], exit: 0, chroot: true },
  { name: 'clocks', program: 'clocks', args: [], exit: 0 },
  {
    name: 'args',
    program: 'args',
    args: ['one', 'two words', '', 'ünï', '--flag=x y'],
    env: { T_ONE: '1', T_EQ: 'a=b', T_EMPTY: '', T_UTF: 'ünï', OTHER: 'not shown' },
    exit: 0,
  },
  { name: 'poll', program: 'poll', args: [], stdin: 'ready\n', exit: 0 },
  { name: 'poll-abstime', program: 'poll', args: ['abstime'], exit: 0 },
  { name: 'exit-return', program: 'exit', args: ['return', '7'], exit: 7 },
  { name: 'exit-return-0', program: 'exit', args: ['return', '0'], exit: 0 },
  { name: 'exit-exit', program: 'exit', args: ['exit', '3'], exit: 3 },
  { name: 'exit-exit-255', program: 'exit', args: ['exit', '255'], exit: 255 },
  { name: 'exit-_Exit', program: 'exit', args: ['_Exit', '4'], exit: 4 },
  { name: 'exit-atexit', program: 'exit', args: ['atexit', '5'], exit: 5 },
  { name: 'trap', program: 'trap', args: [], exit: 'trap' },
  { name: 'oob', program: 'oob', args: [], exit: 'trap' },
  { name: 'stack-overflow', program: 'stack-overflow', args: [], exit: 'trap' },
  { name: 'stack-overflow-call-stack', program: 'stack-overflow', args: ['call-stack'], exit: 'trap' },
  { name: 'sockets', program: 'sockets', args: [], exit: 0 },
  { name: 'sockets-stdout', program: 'sockets', args: ['stdout'], exit: 0 },
];

export const programsDir = fileURLToPath(new URL('.', import.meta.url));
export const programFile = (c: ProgramCase) => fileURLToPath(new URL(`bin/${c.program}.wasm`, import.meta.url));
export const expectedFile = (c: ProgramCase) => fileURLToPath(new URL(`expected/${c.name}.out`, import.meta.url));
export const expectedStdout = (c: ProgramCase) => readFileSync(expectedFile(c), 'utf8');
