/**
 * skiff runs the WASI test programs (test/programs: C built with wasi-libc)
 * as Linux runs the same C built natively: stdout must equal
 * test/programs/expected/<case>.out line for line, except the differences
 * listed below, each with its reason (none is in skiff's syscall layer).
 * Each case runs in a fresh container with no image layers: an empty `/`
 * (plus the /tmp and /dev/null every skiff container has).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectedStdout, programCases, programFile, type ProgramCase } from './programs/cases.js';
import { createContainerFs } from '../src/fs/container.js';
import { guestPreopens } from '../src/container-fs.js';
import { WasiProcess } from '../src/process.js';
import { TRAP_EXIT_CODE } from '../src/wasi/run.js';

/** case -> line prefix -> what skiff prints instead, and why. */
const DIFFERENCES: Record<string, Record<string, { line: string; why: string }>> = {
  escapes: {
    'ls /..:': { line: 'ls /..: dev etc sub tmp', why: 'every skiff container has /dev/null and /tmp; the native chroot has neither' },
    'ls /sub/up:': { line: 'ls /sub/up: dev etc sub tmp', why: 'as above' },
    'ls /sub/root/..:': { line: 'ls /sub/root/..: dev etc sub tmp', why: 'as above' },
  },
};

async function runCase(c: ProgramCase) {
  const fs = createContainerFs({ layers: [] });
  const out: Uint8Array[] = [];
  const p = new WasiProcess(
    { module: await WebAssembly.compile(readFileSync(programFile(c))), argv: [c.program, ...c.args], path: `/${c.program}.wasm` },
    { ...(c.stdin !== undefined ? { stdin: new TextEncoder().encode(c.stdin) } : {}), stdout: (x) => out.push(x), stderr: () => {} },
    { preopens: guestPreopens({ preopens: fs.preopens, exportChanges: () => fs.exportChanges() }), env: Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`), cwd: '/' },
  );
  const r = await p.run();
  fs.dispose();
  const dec = new TextDecoder();
  return { ...r, stdout: out.map((x) => dec.decode(x, { stream: true })).join('') + dec.decode() };
}

describe('skiff runs the WASI test programs as Linux does', () => {
  for (const c of programCases) {
    it(c.name, async () => {
      const r = await runCase(c);
      if (c.exit === 'trap') {
        expect(r.exitCode).toBe(TRAP_EXIT_CODE);
        expect(r.error).toMatch(/^wasm trap: /);
      } else {
        expect(r.exitCode).toBe(c.exit);
      }
      const diffs = DIFFERENCES[c.name] ?? {};
      const expected = expectedStdout(c).split('\n');
      // Every listed difference is still a difference (no stale entries).
      for (const [prefix, d] of Object.entries(diffs)) {
        const native = expected.find((l) => l.startsWith(prefix));
        expect(native, `${c.name}: "${prefix}" is in the expected output`).toBeDefined();
        expect(native, `${c.name}: "${prefix}" still differs`).not.toBe(d.line);
      }
      const want = expected.map((line) => {
        const d = Object.entries(diffs).find(([prefix]) => line.startsWith(prefix));
        return d ? d[1].line : line;
      });
      expect(r.stdout.split('\n')).toEqual(want);
    });
  }
});
