/**
 * MemoryFs against node:fs: the same calls on a temporary directory and on a
 * MemoryFs give the same results and the same error codes. Then snapshots,
 * change reports and their replay onto another file system.
 */
import * as nodeFs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Volume, createFsFromVolume } from 'memfs';
import type { FsLike } from '@skiff/sdk';
import { constants, MemoryFs, type FsChange } from './memory-fs.js';
import { applyChange, snapshotOf } from './volume-bridge.js';

type Any = Record<string, (...a: unknown[]) => unknown>;

let dir: string;
let mem: MemoryFs;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-memfs-'));
  mem = new MemoryFs();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `f` on both file systems (paths relative to their roots) and returns [node's, ours], each a value or an error code. */
function both<T>(f: (fs: Any, root: string) => T): [unknown, unknown] {
  const attempt = (fs: Any, root: string) => {
    try {
      const v = f(fs, root);
      return v instanceof Uint8Array ? [...v] : v;
    } catch (err) {
      return `error ${(err as { code?: string }).code}`;
    }
  };
  return [attempt(nodeFs as unknown as Any, dir), attempt(mem as unknown as Any, '')];
}

function same<T>(f: (fs: Any, root: string) => T): unknown {
  const [a, b] = both(f);
  expect(b).toEqual(a);
  return a;
}

describe('MemoryFs behaves as node:fs on Linux', () => {
  it('creates, reads and writes files through descriptors', () => {
    const c = constants;
    same((fs, r) => { const fd = fs.openSync(`${r}/f`, c.O_CREAT | c.O_EXCL | c.O_WRONLY, 0o644) as number; fs.writeSync(fd, new TextEncoder().encode('hello world'), 0, 11, 0); fs.closeSync(fd); });
    same((fs, r) => fs.openSync(`${r}/f`, c.O_CREAT | c.O_EXCL | c.O_WRONLY, 0o644));
    same((fs, r) => { const fd = fs.openSync(`${r}/f`, c.O_RDWR) as number; const b = new Uint8Array(5); const n = fs.readSync(fd, b, 0, 5, 6); fs.writeSync(fd, new TextEncoder().encode('HELLO'), 0, 5, 0); fs.closeSync(fd); return [n, [...b]]; });
    same((fs, r) => String(new TextDecoder().decode(fs.readFileSync(`${r}/f`) as Uint8Array)));
    same((fs, r) => { const fd = fs.openSync(`${r}/f`, c.O_RDWR) as number; fs.ftruncateSync(fd, 3); const s = fs.fstatSync(fd) as { size: number }; fs.ftruncateSync(fd, 8); const s2 = fs.fstatSync(fd, { bigint: true }) as { size: bigint }; fs.closeSync(fd); return [s.size, s2.size]; });
    same((fs, r) => [...(fs.readFileSync(`${r}/f`) as Uint8Array)]);
    same((fs, r) => { const fd = fs.openSync(`${r}/f`, c.O_WRONLY | c.O_APPEND) as number; fs.writeSync(fd, new Uint8Array([65, 66]), 0, 2, 0); fs.closeSync(fd); return [...(fs.readFileSync(`${r}/f`) as Uint8Array)]; });
    same((fs, r) => { const fd = fs.openSync(`${r}/f`, c.O_WRONLY | c.O_TRUNC) as number; fs.closeSync(fd); return (fs.statSync(`${r}/f`) as { size: number }).size; });
    same((fs, r) => fs.openSync(`${r}/missing`, c.O_RDONLY));
    same((fs, r) => fs.openSync(`${r}/f/x`, c.O_RDONLY));
    same((fs) => fs.closeSync(9999));
  });

  it('makes and removes directories with Linux error codes', () => {
    same((fs, r) => fs.mkdirSync(`${r}/d`, 0o755));
    same((fs, r) => fs.mkdirSync(`${r}/d`, 0o755));
    same((fs, r) => fs.mkdirSync(`${r}/no/such`, 0o755));
    same((fs, r) => fs.writeFileSync(`${r}/d/inner`, 'x'));
    same((fs, r) => fs.rmdirSync(`${r}/d`));
    same((fs, r) => fs.unlinkSync(`${r}/d`));
    same((fs, r) => fs.rmdirSync(`${r}/d/inner`));
    same((fs, r) => fs.openSync(`${r}/d`, constants.O_WRONLY));
    same((fs, r) => (fs.readdirSync(`${r}/d`) as string[]).sort());
    same((fs, r) => fs.readdirSync(`${r}/d/inner`));
    same((fs, r) => fs.unlinkSync(`${r}/d/inner`));
    same((fs, r) => fs.rmdirSync(`${r}/d`));
    same((fs, r) => fs.statSync(`${r}/d`));
    same((fs, r) => { fs.mkdirSync(`${r}/a/b/c`, { recursive: true }); return (fs.statSync(`${r}/a/b/c`) as { isDirectory(): boolean }).isDirectory(); });
  });

  it('renames as rename(2) does', () => {
    same((fs, r) => { fs.mkdirSync(`${r}/d1`); fs.mkdirSync(`${r}/d2`); fs.writeFileSync(`${r}/d2/x`, '1'); fs.writeFileSync(`${r}/f`, 'f'); fs.writeFileSync(`${r}/g`, 'g'); });
    same((fs, r) => fs.renameSync(`${r}/d1`, `${r}/d2`));
    same((fs, r) => fs.renameSync(`${r}/d1`, `${r}/f`));
    same((fs, r) => fs.renameSync(`${r}/f`, `${r}/d2`));
    same((fs, r) => fs.renameSync(`${r}/d2`, `${r}/d2/x/y`));
    same((fs, r) => fs.renameSync(`${r}/d1`, `${r}/d1/sub`));
    same((fs, r) => { fs.renameSync(`${r}/f`, `${r}/g`); return new TextDecoder().decode(fs.readFileSync(`${r}/g`) as Uint8Array); });
    same((fs, r) => fs.statSync(`${r}/f`));
    same((fs, r) => { fs.rmdirSync(`${r}/d1`); fs.renameSync(`${r}/d2`, `${r}/d1`); return fs.readdirSync(`${r}/d1`); });
    same((fs, r) => fs.renameSync(`${r}/missing`, `${r}/x`));
  });

  it('keeps symlinks and hard links apart, as lstat, readlink and O_NOFOLLOW see them', () => {
    const c = constants;
    same((fs, r) => { fs.writeFileSync(`${r}/t`, 'target'); fs.symlinkSync('t', `${r}/l`); fs.symlinkSync('/nowhere/at/all', `${r}/dangling`); });
    same((fs, r) => (fs.lstatSync(`${r}/l`) as { isSymbolicLink(): boolean }).isSymbolicLink());
    same((fs, r) => (fs.statSync(`${r}/l`) as { isFile(): boolean }).isFile());
    same((fs, r) => fs.readlinkSync(`${r}/l`));
    same((fs, r) => fs.readlinkSync(`${r}/t`));
    same((fs, r) => fs.openSync(`${r}/l`, c.O_RDONLY | c.O_NOFOLLOW));
    same((fs, r) => fs.statSync(`${r}/dangling`));
    same((fs, r) => fs.symlinkSync('x', `${r}/t`));
    same((fs, r) => { fs.linkSync(`${r}/t`, `${r}/hard`); return [(fs.statSync(`${r}/t`) as { nlink: number }).nlink, (fs.lstatSync(`${r}/hard`, { bigint: true }) as { nlink: bigint }).nlink]; });
    same((fs, r) => fs.linkSync(`${r}/t`, `${r}/hard`));
    same((fs, r) => { fs.mkdirSync(`${r}/dd`); return fs.linkSync(`${r}/dd`, `${r}/dl`); });
    same((fs, r) => { fs.unlinkSync(`${r}/t`); return [(fs.statSync(`${r}/hard`) as { nlink: number }).nlink, new TextDecoder().decode(fs.readFileSync(`${r}/hard`) as Uint8Array)]; });
    same((fs, r) => { fs.mkdirSync(`${r}/real`); fs.symlinkSync('real', `${r}/dl2`); fs.writeFileSync(`${r}/dl2/inside`, 'in'); return fs.readdirSync(`${r}/real`); });
    same((fs, r) => fs.unlinkSync(`${r}/dl2`));
    same((fs, r) => (fs.statSync(`${r}/real/inside`) as { size: number }).size);
  });

  it('sets and reports times in nanoseconds, without following symlinks for lutimes', () => {
    const mem2 = mem as unknown as Any;
    mem2.writeFileSync!('/f', 'x');
    mem2.symlinkSync!('f', '/l');
    mem2.lutimesSync!('/l', 1000.5, 2000.25);
    const l = mem2.lstatSync!('/l', { bigint: true }) as { atimeNs: bigint; mtimeNs: bigint };
    expect([l.atimeNs, l.mtimeNs]).toEqual([1_000_500_000_000n, 2_000_250_000_000n]);
    const f = mem2.statSync!('/f', { bigint: true }) as { mtimeNs: bigint };
    expect(f.mtimeNs).not.toBe(2_000_250_000_000n);
    const fd = mem2.openSync!('/f', constants.O_RDWR) as number;
    mem2.futimesSync!(fd, 5, 6);
    expect((mem2.fstatSync!(fd, { bigint: true }) as { mtimeNs: bigint }).mtimeNs).toBe(6_000_000_000n);
    expect(mem.realpathSync('/l')).toBe('/f');
  });
});

describe('snapshots and change reports', () => {
  function sample(fs: MemoryFs): void {
    fs.mkdirSync('/data/sub', { recursive: true });
    fs.writeFileSync('/data/sub/a.txt', 'alpha');
    fs.writeFileSync('/data/b.bin', new Uint8Array([0, 1, 2, 255]));
    fs.linkSync('/data/sub/a.txt', '/data/a-link');
    fs.symlinkSync('sub/a.txt', '/data/sym');
  }

  it('a snapshot restores the same tree, hard links included', () => {
    sample(mem);
    const copy = MemoryFs.fromSnapshot(mem.snapshot('/data'));
    expect(copy.readdirSync('/').sort()).toEqual(['a-link', 'b.bin', 'sub', 'sym']);
    expect(copy.readFileSync('/sub/a.txt', 'utf8')).toBe('alpha');
    expect([...(copy.readFileSync('/b.bin') as Uint8Array)]).toEqual([0, 1, 2, 255]);
    expect(copy.readlinkSync('/sym')).toBe('sub/a.txt');
    expect(Number(copy.statSync('/a-link')!.nlink)).toBe(2);
    expect(copy.statSync('/a-link')!.ino).toBe(copy.statSync('/sub/a.txt')!.ino);
    expect(copy.statSync('/sub/a.txt', { bigint: true })!.mtimeNs).toBe(mem.statSync('/data/sub/a.txt', { bigint: true })!.mtimeNs);
  });

  it('snapshots any node-fs-shaped file system (memfs here)', () => {
    const m = createFsFromVolume(new Volume());
    m.mkdirSync('/v/d', { recursive: true });
    m.writeFileSync('/v/d/f', 'memfs data');
    m.symlinkSync('d/f', '/v/s');
    const copy = MemoryFs.fromSnapshot(snapshotOf(m as unknown as FsLike, '/v'));
    expect(copy.readFileSync('/d/f', 'utf8')).toBe('memfs data');
    expect(copy.readlinkSync('/s')).toBe('d/f');
  });

  it('reports every change, and replaying them onto the original gives the copy', () => {
    const targets: Array<[string, FsLike]> = [['MemoryFs', new MemoryFs() as unknown as FsLike], ['memfs', createFsFromVolume(new Volume()) as unknown as FsLike]];
    for (const [, target] of targets) {
      (target as unknown as MemoryFs).mkdirSync('/vol', { recursive: true });
      (target as unknown as MemoryFs).writeFileSync('/vol/keep', 'kept');
      (target as unknown as MemoryFs).writeFileSync('/vol/gone', 'bye');
      const changes: FsChange[] = [];
      const copy = MemoryFs.fromSnapshot(snapshotOf(target, '/vol'), { onChange: (c) => changes.push(c) });
      sample(copy);
      const fd = copy.openSync('/data/sub/a.txt', constants.O_RDWR);
      copy.writeSync(fd, new TextEncoder().encode('ALPHA!'), 0, 6, 0);
      copy.ftruncateSync(fd, 4);
      copy.closeSync(fd);
      copy.renameSync('/data/sub', '/data/moved');
      copy.unlinkSync('/gone');
      copy.mkdirSync('/empty');
      copy.rmdirSync('/empty');
      copy.utimesSync('/keep', 10, 20);
      for (const c of changes) applyChange(target, '/vol', c);
      expect(MemoryFs.fromSnapshot(snapshotOf(target, '/vol')).snapshot().entries.map((e) => [e.path, e.type, e.data ? new TextDecoder().decode(e.data) : e.target ?? e.linkOf]))
        .toEqual(copy.snapshot().entries.map((e) => [e.path, e.type, e.data ? new TextDecoder().decode(e.data) : e.target ?? e.linkOf]));
      expect(String((target as unknown as MemoryFs).readFileSync('/vol/data/moved/a.txt', 'utf8'))).toBe('ALPH');
      expect(Number((target as unknown as MemoryFs).statSync('/vol/keep')!.mtimeMs)).toBe(20_000);
    }
  });
});
