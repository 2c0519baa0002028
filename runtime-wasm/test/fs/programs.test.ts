/**
 * H3's WASI test programs (test/programs) that exercise the file system, run
 * with skiff's layered fs as their preopens under the shim's own WASI class
 * and under skiff's WASI host; stdout must be what Linux gives
 * (test/programs/expected), but for the deviations listed below. Each runs
 * in an empty image, `/` as the cwd.
 */
import { readFileSync } from 'node:fs';
import { ConsoleStdout, File, OpenFile, WASI } from '@bjorn3/browser_wasi_shim';
import { describe, expect, it } from 'vitest';
import { createContainerFs } from '../../src/fs/container.js';
import { WasiProcess } from '../../src/process.js';
import { expectedStdout, programCases, programFile } from '../programs/cases.js';

const FS_CASES = ['fs', 'devnull', 'dirs', 'links', 'escapes'];
const dec = new TextDecoder();
type Runtime = 'shim' | 'host';

/**
 * Where a run may differ from Linux, per case: the Linux line, the line seen
 * instead, why, and under which runtime (both when absent). `exact`
 * deviations must still differ (so the list stays true); the others are the
 * WASI layer's business, outside the file system, and may go either way.
 */
const deviations: Record<string, Array<{ linux: string; seen: string; why: string; exact: boolean; runtime?: Runtime }>> = {
  fs: [
    { linux: 'read on dir: EISDIR', seen: 'read on dir: EBADF', why: "skiff's WASI host answers for directories itself", exact: false, runtime: 'host' },
  ],
  links: [
    { linux: 'readlink small buffer: 2 "fi"', seen: 'readlink small buffer: EBADF', why: "the shim's WASI class refuses a short buffer", exact: true, runtime: 'shim' },
    { linux: 'symlink over file/: EEXIST', seen: 'symlink over file/: ENOTDIR', why: "skiff's WASI host resolves the path itself", exact: false, runtime: 'host' },
    { linux: 'unlink symlink-to-dir/: ENOTDIR', seen: 'unlink symlink-to-dir/: EISDIR', why: "skiff's WASI host resolves the path itself", exact: false, runtime: 'host' },
  ],
  escapes: [
    // Every skiff container has /dev and /tmp; the native run is an empty chroot.
    { linux: 'ls /..: etc sub', seen: 'ls /..: dev etc sub tmp', why: 'skiff adds /dev and /tmp', exact: true },
    { linux: 'ls /sub/up: etc sub', seen: 'ls /sub/up: dev etc sub tmp', why: 'skiff adds /dev and /tmp', exact: true },
    { linux: 'ls /sub/root/..: etc sub', seen: 'ls /sub/root/..: dev etc sub tmp', why: 'skiff adds /dev and /tmp', exact: true },
  ],
};

/** Every line that differs from Linux other than as listed, as [line, linux, seen]. */
function mismatches(name: string, runtime: Runtime, got: string, want: string): Array<[number, string, string]> {
  const g = got.split('\n');
  const w = want.split('\n');
  const out: Array<[number, string, string]> = [];
  for (let i = 0; i < Math.max(g.length, w.length); i++) {
    const d = deviations[name]?.find((x) => x.linux === w[i] && (!x.runtime || x.runtime === runtime));
    const ok = !d ? g[i] === w[i] : d.exact ? g[i] === d.seen : g[i] === d.linux || g[i] === d.seen;
    if (!ok) out.push([i + 1, w[i] ?? '(none)', g[i] ?? '(none)']);
  }
  return out;
}

describe('test programs on the layered file system', () => {
  for (const c of programCases.filter((p) => FS_CASES.includes(p.name))) {
    const module = new WebAssembly.Module(readFileSync(programFile(c)));

    it(`${c.name}: under the shim's WASI class`, async () => {
      const fs = createContainerFs({ layers: [] });
      let out = '';
      const wasi = new WASI([c.program, ...c.args], Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`), [
        new OpenFile(new File([])), new ConsoleStdout((b) => (out += dec.decode(b, { stream: true }))), new ConsoleStdout(() => {}), ...fs.fds,
      ], { debug: false });
      // The shim's WASI class answers symlink() with ENOTSUP without asking the fd; give it the fd's.
      wasi.wasiImport.path_symlink = (oldPtr: number, oldLen: number, fd: number, newPtr: number, newLen: number) => {
        const mem = new Uint8Array((wasi as unknown as { inst: { exports: { memory: WebAssembly.Memory } } }).inst.exports.memory.buffer);
        const dir = wasi.fds[fd] as unknown as { path_symlink?: (t: string, p: string) => number } | undefined;
        if (!dir) return 8;
        return dir.path_symlink ? dir.path_symlink(dec.decode(mem.slice(oldPtr, oldPtr + oldLen)), dec.decode(mem.slice(newPtr, newPtr + newLen))) : 58;
      };
      const inst = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
      const code = wasi.start(inst as unknown as { exports: { memory: WebAssembly.Memory; _start: () => unknown } });
      expect(mismatches(c.name, 'shim', out, expectedStdout(c))).toEqual([]);
      expect(code).toBe(c.exit);
    });

    it(`${c.name}: under skiff's WASI host`, async () => {
      const fs = createContainerFs({ layers: [] });
      let out = '';
      const p = new WasiProcess(
        { module, argv: [c.program, ...c.args], path: `/${c.program}` },
        { stdout: (b: Uint8Array) => (out += dec.decode(b, { stream: true })), stderr: () => {} },
        { preopens: fs.preopens, env: Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`), cwd: '/' },
      );
      const r = await p.run();
      expect(mismatches(c.name, 'host', out, expectedStdout(c))).toEqual([]);
      expect(r.exitCode).toBe(c.exit);
    });
  }
});
