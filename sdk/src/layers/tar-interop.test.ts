/** Archives made by GNU tar and busybox read back, and ours read by GNU tar. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, linkSync, readFileSync, readlinkSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar } from './tar-reader.js';
import { TarWriter, type TarHeader } from './tar-writer.js';
import { collect, bytesStream } from '../content/util.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function need(cmd: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`]).toString().trim();
  } catch {
    throw new Error(`${cmd} is needed by this test; run scripts/setup-test-deps.sh (it installs it)`);
  }
}

async function write(entries: Array<[TarHeader, Uint8Array?]>): Promise<Uint8Array> {
  const w = new TarWriter();
  const out = collect(w.readable);
  for (const [h, b] of entries) await w.add(h, b);
  await w.finish();
  return out;
}

async function read(tar: Uint8Array) {
  const out = new Map<string, { header: TarHeader; body: string }>();
  for await (const e of readTar(bytesStream(tar))) out.set(e.header.path.replace(/^\.\//, ''), { header: e.header, body: dec.decode(await e.bytes()) });
  return out;
}

const h = (path: string, type: TarHeader['type'], extra: Partial<TarHeader> = {}): TarHeader => ({ path, type, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1700000000, ...extra });

describe('tar interop', () => {
  let dir: string;
  let src: string;
  const deep = 'sub/' + 'p'.repeat(120) + '/' + 'q'.repeat(90);
  const longLink = 'l'.repeat(150);

  beforeAll(() => {
    need('tar');
    dir = mkdtempSync(join(tmpdir(), 'skiff-tar-interop-'));
    src = join(dir, 'src');
    mkdirSync(join(src, deep), { recursive: true });
    writeFileSync(join(src, deep, 'f'), 'deep');
    writeFileSync(join(src, 'plain'), 'x'.repeat(1500), { mode: 0o755 });
    utimesSync(join(src, 'plain'), 1600000000.5, 1600000000.5);
    symlinkSync('sub', join(src, 'ln'));
    symlinkSync(longLink, join(src, 'longlink'));
    linkSync(join(src, 'plain'), join(src, 'hard'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const format of ['gnu', 'oldgnu', 'posix', 'busybox']) {
    it(`reads what ${format === 'busybox' ? 'busybox tar' : `GNU tar --format=${format}`} writes`, async () => {
      const out = join(dir, `${format}.tar`);
      if (format === 'busybox') execFileSync(need('busybox'), ['tar', '-cf', out, '-C', src, '.']);
      else execFileSync('tar', [`--format=${format}`, '-cf', out, '-C', src, '.']);
      const got = await read(readFileSync(out));
      expect(got.get(`${deep}/f`)?.body, format).toBe('deep');
      expect(got.get(`${deep}/`)?.header.type ?? got.get(deep)?.header.type).toBe('directory');
      expect(got.get('ln')?.header).toMatchObject({ type: 'symlink', linkname: 'sub' });
      expect(got.get('longlink')?.header).toMatchObject({ type: 'symlink', linkname: longLink });
      // Whichever of the two names tar met first holds the data; the other links to it.
      const [plain, other] = got.get('plain')?.header.type === 'file' ? [got.get('plain'), got.get('hard')] : [got.get('hard'), got.get('plain')];
      expect(plain).toMatchObject({ body: 'x'.repeat(1500), header: { type: 'file', mode: 0o755, size: 1500 } });
      expect(other?.header).toMatchObject({ type: 'hardlink' });
      expect(other?.header.linkname?.replace(/^\.\//, '')).toMatch(/^(plain|hard)$/);
      const mtime = plain!.header.mtime;
      if (format === 'posix') expect(mtime).toBe(1600000000.5);
      else expect(mtime).toBe(1600000000);
    });
  }

  it('reads device nodes GNU tar writes', async () => {
    const out = join(dir, 'dev.tar');
    execFileSync('tar', ['-cf', out, '-C', '/', 'dev/null']);
    const got = await read(readFileSync(out));
    expect(got.get('dev/null')?.header).toMatchObject({ type: 'char', devmajor: 1, devminor: 3 });
  });

  it('writes archives GNU tar extracts (long names, links, times, xattrs) and re-archives the same', async () => {
    const long = 'top/' + 'n'.repeat(130) + '/ü-' + 'm'.repeat(110);
    const tar = await write([
      [h('top', 'directory', { mode: 0o755 })],
      [h('top/' + 'n'.repeat(130), 'directory', { mode: 0o755 })],
      [h(long, 'file', { size: 3, mtime: 1600000000.25, xattrs: { 'user.skiff': enc.encode('yes') } }), enc.encode('abc')],
      [h('top/s', 'symlink', { linkname: 'z'.repeat(120) })],
      [h('top/h', 'hardlink', { linkname: long })],
      [h('top/exec', 'file', { size: 1, mode: 0o750, uid: 1234, gid: 5678 }), enc.encode('e')],
    ]);
    const file = join(dir, 'ours.tar');
    writeFileSync(file, tar);
    const x = join(dir, 'x');
    mkdirSync(x);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xf', file, '-C', x]);
    expect(readFileSync(join(x, long), 'utf8')).toBe('abc');
    expect(statSync(join(x, long)).mtimeMs).toBe(1600000000250);
    expect(statSync(join(x, 'top/h')).ino).toBe(statSync(join(x, long)).ino);
    expect(readlinkSync(join(x, 'top/s'))).toBe('z'.repeat(120));
    const ex = statSync(join(x, 'top/exec'));
    expect([ex.mode & 0o7777, ex.uid, ex.gid]).toEqual([0o750, 1234, 5678]);
    // GNU tar lists our archive cleanly.
    expect(execFileSync('tar', ['-tf', file]).toString().split('\n')).toContain(long);
    // And what GNU tar archives from that tree reads back with the xattr.
    const again = join(dir, 'again.tar');
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--format=posix', '-cf', again, '-C', x, 'top']);
    const got = await read(readFileSync(again));
    const data = got.get(long)?.header.type === 'file' ? got.get(long) : got.get('top/h');
    expect(data?.header.xattrs?.['user.skiff']).toEqual(enc.encode('yes'));
    expect(data?.body).toBe('abc');
  });
});
