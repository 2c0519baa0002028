/**
 * Test fixtures: a busybox image made from the busybox-static package (one
 * gzip layer: /bin/busybox and a symlink per applet, /etc/passwd and group),
 * a second layer with whiteouts, and helpers that make sure tests leave no
 * mounts, cgroups or processes behind. Under CI=true a missing tool fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ImageStore, MemoryImageLayout, TarWriter, gzip, type ImageConfig, type ImageSpec, type TarHeader, type ContainerSpec, type Descriptor, type ProcessSpec, type ImageLayout } from '@skiff/sdk';

export const CI = process.env.CI === 'true';

/** Why the Linux system tests cannot run here; under CI that is a failure, not a skip. */
export function missingPrerequisite(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (the Linux backend tests need root)';
  if (!busyboxPath()) return 'busybox-static is not installed (apt-get install busybox-static; scripts/setup-test-deps.sh does it)';
  return undefined;
}

export function busyboxPath(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (!existsSync(p)) continue;
    // Only a static busybox runs in a root file system without a C library.
    if (isStaticElf(readFileSync(p))) return p;
  }
  return undefined;
}

/** A 64-bit ELF without a PT_INTERP program header (no dynamic loader needed). */
function isStaticElf(b: Buffer): boolean {
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const size = b.readUInt16LE(0x36);
  const count = b.readUInt16LE(0x38);
  for (let i = 0; i < count; i++) if (b.readUInt32LE(phoff + i * size) === 3) return false;
  return true;
}

export function requireTool(cmd: string, pkg: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    if (CI) throw new Error(`${cmd} is missing on CI: install ${pkg} (scripts/setup-test-deps.sh)`);
    return undefined;
  }
}

async function collect(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of s as unknown as AsyncIterable<Uint8Array>) parts.push(p);
  return Buffer.concat(parts);
}

const dir = (path: string, mode = 0o755): TarHeader => ({ path, type: 'directory', mode, uid: 0, gid: 0, size: 0, mtime: 1700000000 });
const file = (path: string, size: number, mode = 0o644, uid = 0, gid = 0): TarHeader => ({ path, type: 'file', mode, uid, gid, size, mtime: 1700000000 });

export const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n';
export const GROUP = 'root:x:0:\nnobody:x:65534:\nalice:x:1000:\nstaff:x:50:alice\naudio:x:29:alice\n';

/** A layer tar from entries; returns the uncompressed tar. */
export async function makeTar(entries: Array<[TarHeader, Uint8Array?]>): Promise<Uint8Array> {
  const w = new TarWriter();
  const out = collect(w.readable);
  for (const [h, body] of entries) await w.add(h, body);
  await w.finish();
  return out;
}

export async function busyboxLayer(): Promise<Uint8Array> {
  const bb = readFileSync(busyboxPath()!);
  const applets = execFileSync(busyboxPath()!, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  const enc = new TextEncoder();
  const entries: Array<[TarHeader, Uint8Array?]> = [
    [dir('bin')], [dir('etc')], [dir('tmp', 0o1777)], [dir('root', 0o700)], [dir('home')], [dir('home/alice'), undefined],
    [dir('proc')], [dir('sys')], [dir('dev')], [dir('var')], [dir('usr')], [dir('usr/bin')],
    [file('bin/busybox', bb.length, 0o755), bb],
    [file('etc/passwd', PASSWD.length), enc.encode(PASSWD)],
    [file('etc/group', GROUP.length), enc.encode(GROUP)],
  ];
  entries[5]![0] = { ...dir('home/alice'), uid: 1000, gid: 1000 };
  for (const a of applets) entries.push([{ path: `bin/${a}`, type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 1700000000, linkname: 'busybox' }]);
  return makeTar(entries);
}

export interface TestImage {
  layout: ImageLayout;
  image: ImageSpec;
  /** Uncompressed layer tars, bottom first. */
  tars: Uint8Array[];
}

/** An image in a memory layout from uncompressed layer tars (stored gzipped). */
export async function makeImage(tars: Uint8Array[], layout: ImageLayout = new MemoryImageLayout(), name = 'test/busybox:latest'): Promise<TestImage> {
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const t of tars) {
    const gz = await collect(new ReadableStream<Uint8Array>({ start(c) { c.enqueue(t); c.close(); } }).pipeThrough(gzip()));
    const info = await layout.writeBytes(gz);
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: info.digest, size: info.size });
    diffIds.push(`sha256:${createHash('sha256').update(t).digest('hex')}`);
  }
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
  } as ImageConfig;
  const resolved = await new ImageStore(layout).putImage(name, config, layers);
  return { layout, tars, image: { id: resolved.id, config, layers: layers.map((descriptor, i) => ({ descriptor, diffId: diffIds[i]! })) } };
}

let counter = 0;

export type SpecExtra = Omit<Partial<ContainerSpec>, 'process'> & { process?: Partial<ProcessSpec> };

/** A ContainerSpec for the test image running `sh -c line` (process fields in extra override, args when non-empty). */
export function shSpec(image: ImageSpec, line: string, extra: SpecExtra = {}): ContainerSpec {
  const id = `t${process.pid}x${Date.now().toString(36)}x${(counter++).toString(36)}`;
  const base: ProcessSpec = { args: ['sh', '-c', line], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], cwd: '/' };
  const { process: p, ...rest } = extra;
  return {
    id,
    image,
    mounts: [],
    ...rest,
    process: { ...base, ...p, args: p?.args?.length ? p.args : base.args, env: [...base.env, ...(p?.env ?? [])] },
  };
}

export function tempDir(prefix = 'skiff-linux-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Mount points under a directory (there should be none: overlays live in the containers' own namespaces). */
export function mountsBelow(path: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((mp) => mp === path || mp.startsWith(`${path}/`));
}

/** skiff cgroup directories named like the given ids, in every hierarchy (at any depth under skiff/). */
export function leftoverCgroups(ids: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (ids.includes(e.name)) out.push(join(dir, e.name));
      else if (depth < 2) walk(join(dir, e.name), depth + 1);
    }
  };
  for (const h of readdirSync('/sys/fs/cgroup')) walk(join('/sys/fs/cgroup', h, 'skiff'), 0);
  walk('/sys/fs/cgroup/skiff', 0);
  return out;
}

/** A collector for a stdio stream. */
export function sink() {
  const parts: Uint8Array[] = [];
  return {
    stream: new WritableStream<Uint8Array>({ write: (c) => void parts.push(c.slice()) }),
    text: () => Buffer.concat(parts).toString('utf8'),
  };
}

export function textStream(s: string): ReadableStream<Uint8Array> {
  return new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(s)); c.close(); } });
}

/** Builds test/probe.c statically (needs gcc); returns the binary. */
export function buildProbe(outDir: string): Buffer {
  const src = new URL('./probe.c', import.meta.url).pathname;
  const out = join(outDir, 'probe');
  execFileSync('cc', ['-O1', '-static', '-o', out, src]);
  return readFileSync(out);
}

/** A layer with /bin/probe. */
export async function probeLayer(binary: Buffer): Promise<Uint8Array> {
  return makeTar([[file('bin/probe', binary.length, 0o755), binary]]);
}

/** Builds test/udp-echo.c statically (needs gcc); returns a layer with /bin/udp-echo. */
export async function udpEchoLayer(outDir: string): Promise<Uint8Array> {
  const out = join(outDir, 'udp-echo');
  execFileSync('cc', ['-O1', '-static', '-o', out, new URL('./udp-echo.c', import.meta.url).pathname]);
  const binary = readFileSync(out);
  return makeTar([[file('bin/udp-echo', binary.length, 0o755), binary]]);
}

/** "name errno" lines -> { name: errno }. */
export function parseProbe(out: string): Record<string, number> {
  const r: Record<string, number> = {};
  for (const line of out.trim().split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) r[k] = Number(v);
  }
  return r;
}
