/**
 * skiff's store, imports and exports against the tools people use on OCI
 * layouts and docker archives: skopeo and umoci (Debian packages; run as root,
 * since umoci unpack keeps owners and modes).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSkiffError } from '../../src/errors/index.js';
import { MediaType } from '../../src/image/media-types.js';
import { REF_NAME_ANNOTATION, type Descriptor, type ImageIndex, type ImageManifest } from '../../src/image/types.js';
import { FsImageLayout } from '../../src/node/fs-layout.js';
import { installNodeHasher } from '../../src/node/hasher.js';
import { exportArchiveFile, exportDirectory, importDirectory, importPath } from '../../src/node/transfer.js';
import { snapshot } from './archives.js';

installNodeHasher();

const SKOPEO = '/usr/bin/skopeo';
const UMOCI = '/usr/bin/umoci';
const NAME = 'docker.io/library/busybox:latest';
const MULTI = 'example.test/multi:1';

function requireTool(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: install the Debian package ${pkg} (scripts/setup-test-deps.sh does)`);
}

function run(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  } catch (err) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr}`);
  }
}
const skopeo = (...args: string[]) => run(SKOPEO, ['--insecure-policy', ...args]);
const umoci = (...args: string[]) => run(UMOCI, args);
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** What a directory tree holds: type, permission bits, owner, content hash or link target. */
function treeOf(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, r));
      const owner = `${st.uid}:${st.gid}:${(st.mode & 0o7777).toString(8)}`;
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(join(root, r))}`;
      else if (st.isDirectory()) { out[r] = `dir ${owner}`; walk(r); }
      else out[r] = `file ${owner} ${sha(readFileSync(join(root, r)))}`;
    }
  };
  walk('');
  return out;
}

function unpack(layoutDir: string, name: string, bundle: string): Record<string, string> {
  umoci('unpack', '--image', `${layoutDir}:${name}`, bundle);
  return treeOf(join(bundle, 'rootfs'));
}

/** A layer made by GNU tar from a directory. */
function tarLayer(dir: string, out: string): Uint8Array {
  run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', dir, '-cf', out, '.']);
  return new Uint8Array(readFileSync(out));
}

let tmp: string;
let store: FsImageLayout;
let storeDir: string;
let expectedTree: Record<string, string>;
let single: Descriptor;

/** Two layers (the second gzip-compressed) over a small root file system; `expected` is the merged tree. */
async function buildImage(layout: FsImageLayout, base: string, platform = { os: 'linux', architecture: 'amd64' }): Promise<{ manifest: Descriptor; merged: string }> {
  const l1 = join(base, 'l1');
  const l2 = join(base, 'l2');
  const merged = join(base, 'merged');
  for (const d of [l1, l2, merged]) mkdirSync(d, { recursive: true });
  for (const root of [l1, merged]) {
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'bin'), { recursive: true });
    writeFileSync(join(root, 'etc', 'motd'), `welcome to ${platform.architecture}\n`);
    writeFileSync(join(root, 'bin', 'tool'), '#!/bin/sh\necho tool\n');
    chmodSync(join(root, 'bin', 'tool'), 0o755);
    symlinkSync('../etc/motd', join(root, 'bin', 'motd-link'));
    chmodSync(join(root, 'bin'), 0o750);
  }
  for (const root of [l2, merged]) {
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'motd'), 'replaced by layer 2\n');
    mkdirSync(join(root, 'var', 'data'), { recursive: true });
    writeFileSync(join(root, 'var', 'data', 'big.bin'), Buffer.alloc(200_000, 7));
    chmodSync(join(root, 'var', 'data', 'big.bin'), 0o600);
  }
  const t1 = tarLayer(l1, join(base, 'l1.tar'));
  const t2 = tarLayer(l2, join(base, 'l2.tar'));
  const g2 = new Uint8Array(gzipSync(t2));
  const layers = [
    { mediaType: MediaType.OciLayer, ...(await layout.writeBytes(t1)) },
    { mediaType: MediaType.OciLayerGzip, ...(await layout.writeBytes(g2)) },
  ];
  const cfg = new TextEncoder().encode(JSON.stringify({ ...platform, config: { Cmd: ['/bin/tool'] }, rootfs: { type: 'layers', diff_ids: [sha(t1), sha(t2)] } }));
  const config = { mediaType: MediaType.OciConfig, ...(await layout.writeBytes(cfg)) };
  const man = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers }));
  return { manifest: { mediaType: MediaType.OciManifest, ...(await layout.writeBytes(man)) }, merged };
}

beforeAll(async () => {
  requireTool(SKOPEO, 'skopeo');
  requireTool(UMOCI, 'umoci');
  if (process.getuid?.() !== 0) throw new Error('these tests run as root: umoci unpack keeps owners and modes');
  tmp = mkdtempSync(join(tmpdir(), 'skiff-interop-'));
  storeDir = join(tmp, 'store');
  store = await FsImageLayout.open(storeDir);
  const img = await buildImage(store, join(tmp, 'src-amd64'));
  single = img.manifest;
  expectedTree = treeOf(img.merged);
  await store.setRef(NAME, single);
  // A two-platform index under another name.
  const arm = await buildImage(store, join(tmp, 'src-arm64'), { os: 'linux', architecture: 'arm64' });
  const idx = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [{ ...single, platform: { os: 'linux', architecture: 'amd64' } }, { ...arm.manifest, platform: { os: 'linux', architecture: 'arm64' } }],
  }));
  await store.setRef(MULTI, { mediaType: MediaType.OciIndex, ...(await store.writeBytes(idx)) });
});
afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

describe('the store is an OCI layout skopeo and umoci read', () => {
  it('skopeo inspects images in the store by their full name', () => {
    const info = JSON.parse(skopeo('inspect', `oci:${storeDir}:${NAME}`)) as { Digest: string; Layers: string[]; Os: string };
    const manifest = JSON.parse(readFileSync(join(storeDir, 'blobs', 'sha256', single.digest.slice(7)), 'utf8')) as ImageManifest;
    expect(info.Digest).toBe(single.digest);
    expect(info.Layers).toEqual(manifest.layers.map((l) => l.digest));
    const raw = JSON.parse(skopeo('inspect', '--raw', `oci:${storeDir}:${MULTI}`)) as ImageIndex;
    expect(raw.manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64']);
  });

  it('umoci lists the names and unpacks the same files the layers were made from', () => {
    expect(umoci('ls', '--layout', storeDir).trim().split('\n').sort()).toEqual([MULTI, NAME].sort());
    expect(unpack(storeDir, NAME, join(tmp, 'bundle-store'))).toEqual(expectedTree);
  });

  it('the store still verifies after the tools have read it', async () => {
    expect(await store.verify()).toEqual([]);
  });
});

describe('exports', () => {
  it('an OCI layout directory: skopeo inspects it, umoci unpacks identical files, the index is kept whole', async () => {
    const dir = join(tmp, 'export-dir');
    await exportDirectory(store, ['busybox', MULTI], dir);
    expect(readdirSync(dir).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    expect((JSON.parse(skopeo('inspect', `oci:${dir}:${NAME}`)) as { Digest: string }).Digest).toBe(single.digest);
    expect(unpack(dir, NAME, join(tmp, 'bundle-dir'))).toEqual(expectedTree);
    const exported = await FsImageLayout.open(dir);
    expect((await exported.getRef(MULTI))!.digest).toBe((await store.getRef(MULTI))!.digest);
    expect(await exported.verify()).toEqual([]);
    // A directory that is something else is refused.
    const other = join(tmp, 'not-a-layout');
    mkdirSync(other);
    writeFileSync(join(other, 'data.txt'), 'mine');
    await expect(exportDirectory(store, ['busybox'], other)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(readdirSync(other)).toEqual(['data.txt']);
  });

  it('an OCI archive: skopeo reads it as oci-archive (the multi-platform index too), umoci unpacks it once extracted', async () => {
    const file = join(tmp, 'export-oci.tar');
    await exportArchiveFile(store, ['busybox', MULTI], file, { format: 'oci' });
    expect((JSON.parse(skopeo('inspect', `oci-archive:${file}:${NAME}`)) as { Digest: string }).Digest).toBe(single.digest);
    const raw = JSON.parse(skopeo('inspect', '--raw', `oci-archive:${file}:${MULTI}`)) as ImageIndex;
    expect(raw.manifests).toHaveLength(2);
    const copied = join(tmp, 'skopeo-all');
    skopeo('copy', '--all', '--preserve-digests', `oci-archive:${file}:${MULTI}`, `oci:${copied}:${MULTI}`);
    expect((JSON.parse(readFileSync(join(copied, 'index.json'), 'utf8')) as ImageIndex).manifests[0]!.digest).toBe((await store.getRef(MULTI))!.digest);
    const extracted = join(tmp, 'extracted-oci');
    mkdirSync(extracted);
    run('tar', ['-xf', file, '-C', extracted]);
    expect(unpack(extracted, NAME, join(tmp, 'bundle-oci-tar'))).toEqual(expectedTree);
  });

  it('a docker archive: skopeo reads it as docker-archive (by position, by name, and alone), with the same layers and files', async () => {
    const file = join(tmp, 'export-docker.tar');
    await exportArchiveFile(store, ['busybox:latest', MULTI], file, { format: 'docker', platforms: [{ os: 'linux', architecture: 'arm64' }] });
    const manifest = JSON.parse(readFileSync(join(storeDir, 'blobs', 'sha256', single.digest.slice(7)), 'utf8')) as ImageManifest;
    // skopeo addresses an archive of several images by position or by name.
    const info = JSON.parse(skopeo('inspect', `docker-archive:${file}:@0`)) as { Layers: string[]; Architecture: string };
    expect(info.Architecture).toBe('amd64');
    // skopeo reports a docker archive's layers by diff ID (the second layer is stored gzip-compressed).
    const config = JSON.parse(readFileSync(join(storeDir, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] } };
    expect(info.Layers).toEqual(config.rootfs.diff_ids);
    expect(manifest.layers[0]!.digest).toBe(config.rootfs.diff_ids[0]);
    const byName = JSON.parse(skopeo('inspect', `docker-archive:${file}:busybox:latest`)) as { Name: string };
    expect(byName.Name).toBe('docker.io/library/busybox');
    const arm = JSON.parse(skopeo('inspect', `docker-archive:${file}:${MULTI}`)) as { Architecture: string };
    expect(arm.Architecture).toBe('arm64');
    expect((JSON.parse(skopeo('inspect', `docker-archive:${file}:@1`)) as { Architecture: string }).Architecture).toBe('arm64');
    const one = join(tmp, 'export-docker-one.tar');
    await exportArchiveFile(store, ['busybox'], one, { format: 'docker' });
    expect((JSON.parse(skopeo('inspect', `docker-archive:${one}`)) as { Layers: string[] }).Layers).toEqual(info.Layers);
    const out = join(tmp, 'from-docker-archive');
    skopeo('copy', `docker-archive:${file}:busybox:latest`, `oci:${out}:${NAME}`);
    expect(unpack(out, NAME, join(tmp, 'bundle-docker'))).toEqual(expectedTree);
  });
});

describe('imports', () => {
  let umociDir: string;
  let umociTree: Record<string, string>;

  beforeAll(() => {
    // An image made by umoci: new, unpack, add files, repack; then insert one more file as its own layer.
    umociDir = join(tmp, 'umoci-layout');
    umoci('init', '--layout', umociDir);
    umoci('new', '--image', `${umociDir}:latest`);
    const bundle = join(tmp, 'umoci-bundle');
    umoci('unpack', '--image', `${umociDir}:latest`, bundle);
    const rootfs = join(bundle, 'rootfs');
    mkdirSync(join(rootfs, 'usr', 'share'), { recursive: true });
    writeFileSync(join(rootfs, 'usr', 'share', 'greeting'), 'made by umoci\n');
    symlinkSync('share/greeting', join(rootfs, 'usr', 'greeting'));
    writeFileSync(join(rootfs, 'secret'), 'ssh');
    chmodSync(join(rootfs, 'secret'), 0o400);
    umoci('repack', '--image', `${umociDir}:latest`, bundle);
    const extra = join(tmp, 'inserted.txt');
    writeFileSync(extra, 'inserted by umoci insert\n');
    umoci('insert', '--image', `${umociDir}:latest`, extra, '/opt/inserted.txt');
    umociTree = unpack(umociDir, 'latest', join(tmp, 'umoci-reference'));
    expect(umociTree['opt/inserted.txt']).toMatch(/^file /);
  });

  it('an image umoci made imports from its directory and from a tar of it, and unpacks to the same files', async () => {
    const umociManifest = (JSON.parse(readFileSync(join(umociDir, 'index.json'), 'utf8')) as ImageIndex).manifests[0]!;
    for (const [how, source] of [['dir', umociDir], ['tar', join(tmp, 'umoci.tar')]] as const) {
      if (how === 'tar') run('tar', ['-C', umociDir, '-cf', source, '.']);
      const dir = join(tmp, `store-umoci-${how}`);
      const layout = await FsImageLayout.open(dir);
      // umoci names images by tag only; without a repository nothing can be named.
      await expect(importPath(source, layout)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(await snapshot(layout)).toEqual({ blobs: [], refs: [] });
      const result = await importPath(source, layout, { baseName: 'example.test/umoci' });
      expect(result.images.map((i) => [i.names, i.target.digest])).toEqual([[['example.test/umoci:latest'], umociManifest.digest]]);
      expect(await layout.verify()).toEqual([]);
      expect(unpack(dir, 'example.test/umoci:latest', join(tmp, `bundle-umoci-${how}`))).toEqual(umociTree);
    }
  });

  it('a docker-archive written by skopeo imports (legacy layout, symlinked layer), with the same files', async () => {
    const file = join(tmp, 'skopeo-docker.tar');
    skopeo('copy', `oci:${umociDir}:latest`, `docker-archive:${file}:example.test/from-skopeo:1`);
    const dir = join(tmp, 'store-skopeo');
    const layout = await FsImageLayout.open(dir);
    const result = await importPath(file, layout);
    expect(result.format).toBe('docker');
    expect(result.images[0]!.names).toEqual(['example.test/from-skopeo:1']);
    const target = (await layout.getRef('example.test/from-skopeo:1'))!;
    const manifest = JSON.parse(new TextDecoder().decode(await layout.readBytes(target.digest))) as ImageManifest;
    const config = JSON.parse(new TextDecoder().decode(await layout.readBytes(manifest.config.digest))) as { rootfs: { diff_ids: string[] } };
    expect(manifest.layers.map((l) => [l.mediaType, l.digest])).toEqual(config.rootfs.diff_ids.map((d) => [MediaType.OciLayer, d]));
    expect(await layout.verify()).toEqual([]);
    const before = await snapshot(layout);
    await importPath(file, layout);
    expect(await snapshot(layout)).toEqual(before);
    // Unpacked into a directory (its layer.tar is a symlink there), it imports the same.
    const unpacked = join(tmp, 'skopeo-docker-unpacked');
    mkdirSync(unpacked);
    run('tar', ['-xf', file, '-C', unpacked]);
    expect(readdirSync(unpacked).some((d) => lstatSync(join(unpacked, d)).isDirectory() && lstatSync(join(unpacked, d, 'layer.tar')).isSymbolicLink())).toBe(true);
    const fromDir = await FsImageLayout.open(join(tmp, 'store-skopeo-dir'));
    expect((await importDirectory(unpacked, fromDir)).images[0]!.target.digest).toBe(target.digest);
    expect(await snapshot(fromDir)).toEqual(before);
    expect(unpack(dir, 'example.test/from-skopeo:1', join(tmp, 'bundle-skopeo'))).toEqual(umociTree);
  });

  it('skiff\'s own docker export and OCI directory import back unchanged (the index whole)', async () => {
    const file = join(tmp, 'roundtrip-docker.tar');
    await exportArchiveFile(store, ['busybox', MULTI], file, { format: 'docker' });
    const dir = join(tmp, 'store-roundtrip');
    const layout = await FsImageLayout.open(dir);
    const result = await importPath(file, layout);
    expect(result.images.map((i) => i.names)).toEqual([[NAME], [MULTI]]);
    expect(await snapshot(layout)).toEqual(await snapshot(store));
    // Again, now that every blob is there: the archive's copies are skipped unread.
    expect((await importPath(file, layout)).images.map((i) => i.names)).toEqual([[NAME], [MULTI]]);
    expect(await snapshot(layout)).toEqual(await snapshot(store));
    expect(await layout.verify()).toEqual([]);
    // And a skiff store is itself a layout to import from.
    const dir2 = join(tmp, 'store-from-store');
    const layout2 = await FsImageLayout.open(dir2);
    await importDirectory(storeDir, layout2);
    expect(await snapshot(layout2)).toEqual(await snapshot(store));
  });

  it('bad files give clear errors and change nothing', async () => {
    const dir = join(tmp, 'store-bad');
    const layout = await FsImageLayout.open(dir);
    await exportArchiveFile(store, ['busybox'], join(tmp, 'busybox-oci.tar'), { format: 'oci' });
    await importPath(join(tmp, 'busybox-oci.tar'), layout);
    const before = await snapshot(layout);
    const notTar = join(tmp, 'notes.txt');
    writeFileSync(notTar, 'this is not an archive\n'.repeat(100));
    const errs: unknown[] = [];
    for (const p of [join(tmp, 'missing.tar'), notTar]) errs.push(await importPath(p, layout).catch((e: unknown) => e));
    expect(errs.map((e) => isSkiffError(e) && e.code)).toEqual(['NOT_FOUND', 'INVALID_ARGUMENT']);
    expect((errs[1] as Error).message).toContain('not a tar archive');

    // A tar of the store's layout with one layer flipped: nothing of it is kept.
    const broken = join(tmp, 'broken-layout');
    run('cp', ['-a', storeDir, broken]);
    rmSync(join(broken, 'ingest'), { recursive: true, force: true });
    const manifest = JSON.parse(readFileSync(join(broken, 'blobs', 'sha256', single.digest.slice(7)), 'utf8')) as ImageManifest;
    const victim = join(broken, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7));
    const bytes = readFileSync(victim);
    bytes[1000] ^= 0xff;
    writeFileSync(victim, bytes);
    const fresh = await FsImageLayout.open(join(tmp, 'store-bad-2'));
    for (const source of [broken, (run('tar', ['-C', broken, '-cf', `${broken}.tar`, '.']), `${broken}.tar`)]) {
      const err = await importPath(source, fresh).catch((e: unknown) => e);
      expect(isSkiffError(err, 'DATA_LOSS')).toBe(true);
      expect((err as Error).message).toContain(manifest.layers[0]!.digest.slice(7));
      expect(await snapshot(fresh)).toEqual({ blobs: [], refs: [] });
      expect(readdirSync(join(tmp, 'store-bad-2', 'ingest'))).toEqual([]);
      expect(await fresh.verify()).toEqual([]);
    }
    expect(await snapshot(layout)).toEqual(before);
    expect((await layout.listRefs()).map((r) => r.target.annotations?.[REF_NAME_ANNOTATION])).toEqual([NAME]);
  });
});
