/**
 * `skiff cp SRC CONTAINER:DEST` and `skiff cp CONTAINER:SRC DEST`, with
 * docker cp's path rules (its pkg/archive PrepareArchiveCopy): a directory
 * destination that exists takes the source under its own name (`SRC/.`: its
 * contents), an existing file is replaced by a file, a destination that does
 * not exist names the copy (its parent must exist), `DEST/` must be a
 * directory, `-` is a tar on stdin or stdout.
 */
import * as nodeFs from 'node:fs';
import { createReadStream, lstatSync, readdirSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { Readable } from 'node:stream';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs, helpText, requireArgs, UsageError, HELP_FLAG, type FlagSpec } from '../args.js';
import type { Command } from '../context.js';
import { invalidArgument, isSkiffError, notFound } from '../../errors/index.js';
import type { Engine } from '../../runtime/engine.js';
import type { FsLike } from '../../runtime/backend.js';
import { containerPath } from '../../daemon/container-files.js';
import { TarWriter, type TarHeader } from '../../layers/tar-writer.js';
import { extractTar } from '../../layers/extract.js';
import { FsTree } from '../../layers/fs-tree.js';
import { rebaseTar } from '../../layers/rebase.js';

const usage = 'skiff cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n        skiff cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH';
const description = 'Copy files/folders between a container and the local filesystem';
const specs: FlagSpec[] = [
  { name: 'archive', short: 'a', type: 'bool', help: 'Archive mode (copy all uid/gid information)' },
  { name: 'follow-link', short: 'L', type: 'bool', help: 'Always follow symbol link in SRC_PATH' },
  { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress progress output during copy' },
];

/** docker's splitCpArg: `CONTAINER:PATH`, unless the argument starts like a local path. */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i <= 0) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

const endsWithDot = (p: string) => p === '.' || p.endsWith('/.');
const assertsDir = (p: string) => p.endsWith('/') || endsWithDot(p);

/** The base name a source is archived under: `.` for `DIR/.` (its contents). */
export function sourceBase(p: string): string {
  if (endsWithDot(p)) return '.';
  return basename(p.replace(/\/+$/, '')) || '/';
}

/** Splits a destination into the directory to extract in and its last name (pkg/archive's SplitPathDirEntry). */
function splitDirEntry(p: string): { dir: string; base: string } {
  const trimmed = p.replace(/\/+$/, '') || '/';
  const slash = trimmed.lastIndexOf('/');
  return { dir: slash <= 0 ? (trimmed.startsWith('/') ? '/' : '.') : trimmed.slice(0, slash), base: trimmed.slice(slash + 1) };
}

export interface CopyPlan {
  /** Where the archive is extracted. */
  dir: string;
  /** Rename the archive's top entry (from the source's base to the destination's). */
  rename?: { from: string; to: string };
}

/** docker's PrepareArchiveCopy: where to extract and how to rename, from what each end is. */
export function planCopy(src: { path: string; isDir: boolean }, dst: { path: string; exists: boolean; isDir: boolean }): CopyPlan {
  const { dir, base } = splitDirEntry(dst.path);
  const from = sourceBase(src.path);
  if (dst.exists && dst.isDir) return { dir: dst.path };
  if (dst.exists && src.isDir) throw invalidArgument(`cannot copy directory ${src.path} onto the file ${dst.path}`);
  if (!dst.exists && !src.isDir && assertsDir(dst.path)) throw notFound(`no such directory: ${dst.path} (a file is copied into an existing directory only)`);
  return { dir, rename: { from, to: base } };
}

/** A tar of a host path, its top entry named `top`. */
function hostTar(path: string, top: string, follow: boolean): ReadableStream<Uint8Array> {
  const w = new TarWriter();
  const header = (st: Stats, name: string, type: TarHeader['type']): TarHeader => ({ path: name, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: type === 'file' ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000) });
  const links = new Map<string, string>();
  const add = async (host: string, name: string, st: Stats): Promise<void> => {
    if (st.isDirectory()) {
      await w.add(header(st, name, 'directory'));
      for (const child of readdirSync(host).sort()) await add(join(host, child), `${name}/${child}`, lstatSync(join(host, child)));
    } else if (st.isSymbolicLink()) {
      await w.add({ ...header(st, name, 'symlink'), linkname: readlinkSync(host) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(key) : undefined;
      if (first) return w.add({ ...header(st, name, 'hardlink'), linkname: first });
      if (st.nlink > 1) links.set(key, name);
      await w.add(header(st, name, 'file'), st.size ? (Readable.toWeb(createReadStream(host)) as ReadableStream<Uint8Array>) : undefined);
    } else if (st.isFIFO()) {
      await w.add(header(st, name, 'fifo'));
    }
    // Sockets and devices are left out, as docker's archiver does for sockets.
  };
  void (async () => {
    await add(path, top, follow ? statSync(path) : lstatSync(path));
    await w.finish();
  })().catch((err) => w.abort(err));
  return w.readable;
}

async function containerStat(engine: Engine, id: string, path: string): Promise<{ isDir: boolean; linkTarget: string } | undefined> {
  try {
    const found = await containerPath(engine, await engine.record(id), path);
    return { isDir: (found.stat.mode & 2 ** 31) !== 0, linkTarget: found.stat.linkTarget };
  } catch (err) {
    if (isSkiffError(err, 'NOT_FOUND')) return undefined;
    throw err;
  }
}

async function copyIn(engine: Engine, src: string, id: string, dest: string, o: { archive: boolean; follow: boolean; stdin: NodeJS.ReadableStream }): Promise<void> {
  if (!dest.startsWith('/')) dest = `/${dest}`;
  let dst = await containerStat(engine, id, dest);
  // A destination that is a symlink: its target, once, as the docker CLI does.
  if (dst?.linkTarget) {
    dest = dst.linkTarget.startsWith('/') ? dst.linkTarget : join(splitDirEntry(dest).dir, dst.linkTarget);
    dst = await containerStat(engine, id, dest);
  }
  const opts = { copyUIDGID: o.archive };
  if (src === '-') {
    if (!dst?.isDir) throw invalidArgument(`destination "${id}:${dest}" must be a directory`);
    return engine.importFiles(id, dest, Readable.toWeb(o.stdin as Readable) as ReadableStream<Uint8Array>, opts);
  }
  let st: Stats;
  try {
    st = o.follow ? statSync(src) : lstatSync(src);
  } catch {
    throw notFound(`lstat ${resolve(src)}: no such file or directory`);
  }
  if (assertsDir(src) && !st.isDirectory()) throw invalidArgument(`${src}: not a directory`);
  const plan = planCopy({ path: src, isDir: st.isDirectory() }, { path: dest, exists: dst !== undefined, isDir: dst?.isDir ?? false });
  const top = plan.rename ? plan.rename.to : sourceBase(src);
  await engine.importFiles(id, plan.dir, hostTar(src, top, o.follow), opts);
}

async function copyOut(engine: Engine, id: string, src: string, dest: string, o: { archive: boolean; follow: boolean; stdout: NodeJS.WritableStream }): Promise<void> {
  if (!src.startsWith('/')) src = `/${src}`;
  const rec = await engine.record(id);
  let found = await containerPath(engine, rec, src);
  if (o.follow && found.stat.linkTarget) {
    const target = found.stat.linkTarget.startsWith('/') ? found.stat.linkTarget : join(splitDirEntry(src).dir, found.stat.linkTarget);
    found = await containerPath(engine, rec, target);
  }
  const isDir = (found.stat.mode & 2 ** 31) !== 0;
  const tar = found.archive();
  if (dest === '-') {
    const out = o.stdout;
    for await (const chunk of tar) if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
    return;
  }
  let exists = false;
  let destIsDir = false;
  try {
    destIsDir = statSync(dest).isDirectory();
    exists = true;
  } catch { /* a new name */ }
  const plan = planCopy({ path: src, isDir }, { path: dest, exists, isDir: destIsDir });
  // The archive's top is the source's base name (`.` for `DIR/.`), as dockerd names it.
  const archive = plan.rename ? rebaseTar(tar, found.stat.name, plan.rename.to) : tar;
  // Like docker: files copied out belong to whoever runs cp, unless -a.
  const owner = o.archive || typeof process.getuid !== 'function' ? undefined : { uid: process.getuid(), gid: process.getgid!() };
  await extractTar(new FsTree(nodeFs as unknown as FsLike, '/'), resolve(plan.dir), archive, { ...(owner ? { owner } : {}), container: 'the local file system' });
}

export const cp: Command = {
  name: 'cp',
  usage,
  description,
  async run(argv, ctx) {
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(usage, description, specs)), 0;
    requireArgs(args, 2, usage, 2);
    const a = splitCpArg(args[0]!);
    const b = splitCpArg(args[1]!);
    if (a.container && b.container) throw new UsageError('copying between containers is not supported');
    if (!a.container && !b.container) throw new UsageError('must specify at least one container source');
    const o = { archive: flags.archive === true, follow: flags['follow-link'] === true };
    const engine = await ctx.engine();
    if (b.container) await copyIn(engine, a.path, b.container, b.path, { ...o, stdin: ctx.io.stdin });
    else await copyOut(engine, a.container!, a.path, b.path, { ...o, stdout: ctx.io.stdout });
    return 0;
  },
};
