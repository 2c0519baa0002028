import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSkiffError } from '../errors/index.js';
import { MediaType } from '../image/media-types.js';
import { REF_NAME_ANNOTATION, type Descriptor } from '../image/types.js';
import { FsImageLayout } from './fs-layout.js';
import { withLock } from './lock.js';

const enc = new TextEncoder();
const sha = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function chunks(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({ pull: (c) => (i < parts.length ? c.enqueue(parts[i++]!) : c.close()) });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isSkiffError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a SkiffError, but it resolved');
}

let tmp: string;
beforeEach(() => { tmp = mkdtempSync(join(tmpdir(), 'skiff-fslayout-')); });
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A config, one layer and a manifest naming them. */
async function storeImage(layout: FsImageLayout, seed: string): Promise<{ manifest: Descriptor; config: Descriptor; layer: Descriptor }> {
  const layerBytes = enc.encode(`layer ${seed}`.repeat(100));
  const cfgBytes = enc.encode(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layerBytes)] } }));
  const layer = { mediaType: MediaType.OciLayer, ...(await layout.writeBytes(layerBytes)) };
  const config = { mediaType: MediaType.OciConfig, ...(await layout.writeBytes(cfgBytes)) };
  const manBytes = enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] }));
  const manifest = { mediaType: MediaType.OciManifest, ...(await layout.writeBytes(manBytes)) };
  return { manifest, config, layer };
}

describe('FsImageLayout: opening', () => {
  it('creates an OCI image layout in a new directory, and reopens it', async () => {
    const dir = join(tmp, 'store');
    await FsImageLayout.open(dir);
    expect(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'))).toEqual({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] });
    expect(existsSync(join(dir, 'blobs', 'sha256'))).toBe(true);
    const again = await FsImageLayout.open(dir);
    expect(await again.listRefs()).toEqual([]);
    expect(await again.verify()).toEqual([]);
  });

  it('creates the layout in an existing empty directory', async () => {
    await FsImageLayout.open(tmp);
    expect(existsSync(join(tmp, 'oci-layout'))).toBe(true);
  });

  it('refuses a directory that holds something else, and writes nothing into it', async () => {
    writeFileSync(join(tmp, 'notes.txt'), 'mine');
    const err = await FsImageLayout.open(tmp).catch((e: unknown) => e);
    expect(isSkiffError(err, 'FAILED_PRECONDITION')).toBe(true);
    expect((err as Error).message).toContain('notes.txt');
    expect(readdirSync(tmp)).toEqual(['notes.txt']);
  });

  it('refuses a regular file, a foreign oci-layout version and a corrupt index.json', async () => {
    writeFileSync(join(tmp, 'file'), 'x');
    expect(await codeOf(FsImageLayout.open(join(tmp, 'file')))).toBe('FAILED_PRECONDITION');

    const v2 = join(tmp, 'v2');
    mkdirSync(v2);
    writeFileSync(join(v2, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    writeFileSync(join(v2, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    expect(await codeOf(FsImageLayout.open(v2))).toBe('FAILED_PRECONDITION');

    const bad = join(tmp, 'bad');
    await FsImageLayout.open(bad);
    writeFileSync(join(bad, 'index.json'), '{"schemaVersion":2,"manif');
    expect(await codeOf(FsImageLayout.open(bad))).toBe('DATA_LOSS');
  });

  it('with create: false, a missing layout is NOT_FOUND', async () => {
    expect(await codeOf(FsImageLayout.open(join(tmp, 'none'), { create: false }))).toBe('NOT_FOUND');
    expect(existsSync(join(tmp, 'none'))).toBe(false);
  });

  it('completes a layout whose creation was interrupted before oci-layout was written', async () => {
    mkdirSync(join(tmp, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(tmp, '.index.json.999999999.abc.tmp'), '{');
    const layout = await FsImageLayout.open(tmp);
    expect(existsSync(join(tmp, 'oci-layout'))).toBe(true);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(await layout.verify()).toEqual([]);
  });
});

describe('FsImageLayout: blobs', () => {
  it('stores bytes and streams under their digest and reads them back', async () => {
    const layout = await FsImageLayout.open(tmp);
    const a = enc.encode('hello');
    expect(await layout.writeBytes(a)).toEqual({ digest: sha(a), size: 5 });
    const parts = [enc.encode('abc'), enc.encode('def'), new Uint8Array(70_000).fill(3)];
    const all = Buffer.concat(parts);
    const info = await layout.writeStream(chunks(parts), { digest: sha(all), size: all.length });
    expect(info).toEqual({ digest: sha(all), size: all.length });
    expect(Buffer.from(await layout.readBytes(info.digest)).equals(all)).toBe(true);
    const streamed: Uint8Array[] = [];
    for await (const c of layout.readStream(info.digest) as unknown as AsyncIterable<Uint8Array>) streamed.push(c);
    expect(Buffer.concat(streamed).equals(all)).toBe(true);
    expect(readFileSync(join(tmp, 'blobs', 'sha256', info.digest.slice(7))).equals(all)).toBe(true);
    const listed: string[] = [];
    for await (const b of layout.list()) listed.push(b.digest);
    expect(listed.sort()).toEqual([sha(a), sha(all)].sort());
    expect(readdirSync(join(tmp, 'ingest'))).toEqual([]);
  });

  it('writes many chunks that arrive while earlier ones are on their way to disk in order, past the back-pressure mark', async () => {
    const layout = await FsImageLayout.open(tmp);
    // Distinct contents and sizes, some larger than the 8 MiB backlog, so any
    // reordering, loss or double write of a gathered batch shows in the file.
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) parts.push(new Uint8Array(i % 97 === 0 ? (9 << 20) + i : 1 + ((i * 7919) % 70_000)).fill(i & 0xff));
    let i = 0;
    const source = new ReadableStream<Uint8Array>({
      // Every few chunks a pause, so writes complete between arrivals too.
      pull: async (c) => {
        if (i % 13 === 0) await new Promise((r) => setTimeout(r, 1));
        if (i < parts.length) c.enqueue(parts[i++]!);
        else c.close();
      },
    });
    const all = Buffer.concat(parts);
    const info = await layout.writeStream(source, { digest: sha(all), size: all.length });
    expect(info.size).toBe(all.length);
    expect(readFileSync(join(tmp, 'blobs', 'sha256', info.digest.slice(7))).equals(all)).toBe(true);
  });

  it('refuses content whose digest or size does not match, leaving nothing behind', async () => {
    const layout = await FsImageLayout.open(tmp);
    const data = enc.encode('the real content');
    const wrong = sha('something else');
    expect(await codeOf(layout.writeStream(chunks([data]), { digest: wrong }))).toBe('DATA_LOSS');
    expect(await codeOf(layout.writeStream(chunks([data, data]), { size: data.length }))).toBe('DATA_LOSS');
    expect(await codeOf(layout.writeStream(chunks([data]), { size: data.length + 1 }))).toBe('DATA_LOSS');
    expect(await codeOf(layout.writeBytes(data, { digest: wrong }))).toBe('DATA_LOSS');
    expect(await codeOf(layout.writeBytes(data, { digest: 'md5:abc' }))).toBe('INVALID_ARGUMENT');
    expect(readdirSync(join(tmp, 'blobs', 'sha256'))).toEqual([]);
    expect(readdirSync(join(tmp, 'ingest'))).toEqual([]);
  });

  it('a failing source stream stores nothing', async () => {
    const layout = await FsImageLayout.open(tmp);
    let n = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ < 3) c.enqueue(new Uint8Array(1000));
        else c.error(new Error('connection reset'));
      },
    });
    await expect(layout.writeStream(failing)).rejects.toThrow('connection reset');
    expect(readdirSync(join(tmp, 'blobs', 'sha256'))).toEqual([]);
    expect(readdirSync(join(tmp, 'ingest'))).toEqual([]);
  });

  it('an abort mid-stream stops the write with CANCELLED; no blob, and the layout verifies', async () => {
    const layout = await FsImageLayout.open(tmp);
    const ac = new AbortController();
    let sent = 0;
    let cancelledWith: unknown;
    const endless = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent === 4) ac.abort(new Error('user pressed ^C'));
        sent++;
        await new Promise((r) => setTimeout(r, 1));
        c.enqueue(new Uint8Array(4096).fill(1));
      },
      cancel(why) { cancelledWith = why; },
    });
    expect(await codeOf(layout.writeStream(endless, {}, { signal: ac.signal }))).toBe('CANCELLED');
    expect((cancelledWith as Error).message).toBe('user pressed ^C');
    expect(readdirSync(join(tmp, 'blobs', 'sha256'))).toEqual([]);
    expect(readdirSync(join(tmp, 'ingest'))).toEqual([]);
    expect(await layout.verify()).toEqual([]);
    expect(await codeOf(layout.writeStream(chunks([enc.encode('x')]), {}, { signal: ac.signal }))).toBe('CANCELLED');
  });

  it('an already stored blob is not rewritten, and its source is cancelled', async () => {
    const layout = await FsImageLayout.open(tmp);
    const data = enc.encode('dedup');
    await layout.writeBytes(data);
    let pulled = 0;
    const src = new ReadableStream<Uint8Array>({ pull: (c) => { pulled++; c.enqueue(data); c.close(); } }, { highWaterMark: 0 });
    expect(await layout.writeStream(src, { digest: sha(data), size: data.length })).toEqual({ digest: sha(data), size: data.length });
    expect(pulled).toBe(0);
  });

  it('missing blobs are NOT_FOUND; delete removes a blob', async () => {
    const layout = await FsImageLayout.open(tmp);
    const d = sha('nothing');
    expect(await layout.info(d)).toBeUndefined();
    expect(await codeOf(layout.readBytes(d))).toBe('NOT_FOUND');
    await expect(layout.readStream(d).getReader().read()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const { digest } = await layout.writeBytes(enc.encode('gone soon'));
    await layout.delete(digest);
    expect(await layout.info(digest)).toBeUndefined();
  });
});

describe('FsImageLayout: names in index.json', () => {
  it('sets, replaces, lists and deletes names with the full normalized name in the annotation', async () => {
    const layout = await FsImageLayout.open(tmp);
    const one = await storeImage(layout, 'one');
    const two = await storeImage(layout, 'two');
    await layout.setRef('docker.io/library/busybox:latest', one.manifest);
    await layout.setRef('example.test/app:1', two.manifest);
    await layout.setRef('docker.io/library/busybox:latest', two.manifest);
    const idx = JSON.parse(readFileSync(join(tmp, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    expect(idx.manifests.map((m) => [m.annotations?.[REF_NAME_ANNOTATION], m.digest])).toEqual([
      ['docker.io/library/busybox:latest', two.manifest.digest],
      ['example.test/app:1', two.manifest.digest],
    ]);
    expect((await layout.getRef('example.test/app:1'))?.digest).toBe(two.manifest.digest);
    expect(await layout.deleteRef('example.test/app:1')).toBe(true);
    expect(await layout.deleteRef('example.test/app:1')).toBe(false);
    expect((await layout.listRefs()).map((r) => r.name)).toEqual(['docker.io/library/busybox:latest']);
    expect(await layout.verify()).toEqual([]);
  });

  it('keeps entries other tools wrote (no ref name, other annotations, extra fields)', async () => {
    const layout = await FsImageLayout.open(tmp);
    const img = await storeImage(layout, 'x');
    const foreign = { ...img.manifest, annotations: { 'io.containerd.image.name': 'docker.io/library/x:1' } };
    const tagged = { ...img.manifest, annotations: { [REF_NAME_ANNOTATION]: 'v1', 'vendor.key': 'kept' }, platform: { os: 'linux', architecture: 'arm64' } };
    writeFileSync(join(tmp, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [foreign, img.manifest, tagged], annotations: { 'org.example': 'top' } }));
    await layout.setRef('docker.io/library/mine:1', img.manifest);
    await layout.deleteRef('docker.io/library/gone:1');
    const idx = JSON.parse(readFileSync(join(tmp, 'index.json'), 'utf8')) as { manifests: Descriptor[]; annotations: unknown };
    expect(idx.annotations).toEqual({ 'org.example': 'top' });
    expect(idx.manifests.slice(0, 3)).toEqual([foreign, img.manifest, tagged]);
    expect(idx.manifests[3]!.annotations).toEqual({ [REF_NAME_ANNOTATION]: 'docker.io/library/mine:1' });
    expect((await layout.listRefs()).map((r) => r.name)).toEqual(['v1', 'docker.io/library/mine:1']);
  });

  it('waits for a lock held by a live process and times out with UNAVAILABLE; breaks a dead owner\'s lock', async () => {
    const layout = await FsImageLayout.open(tmp);
    const lock = join(tmp, 'index.json.lock');
    writeFileSync(lock, `${process.pid}\n`);
    expect(await codeOf(withLock(lock, () => 1, { timeoutMs: 100 }))).toBe('UNAVAILABLE');
    // A pid that is certainly not running: beyond the kernel's pid_max.
    writeFileSync(lock, '4194999\n');
    const img = await storeImage(layout, 'lock');
    await layout.setRef('example.test/lock:1', img.manifest);
    expect(existsSync(lock)).toBe(false);
    expect((await layout.getRef('example.test/lock:1'))?.digest).toBe(img.manifest.digest);
  });
});

describe('FsImageLayout: verify', () => {
  it('reports corrupt blobs, missing and mis-sized blobs of named images, and stray files', async () => {
    const layout = await FsImageLayout.open(tmp);
    const a = await storeImage(layout, 'a');
    const b = await storeImage(layout, 'b');
    await layout.setRef('example.test/a:1', a.manifest);
    await layout.setRef('example.test/b:1', { ...b.manifest, size: b.manifest.size + 1 });
    expect((await layout.verify()).length).toBe(1);
    await layout.setRef('example.test/b:1', b.manifest);
    expect(await layout.verify()).toEqual([]);

    writeFileSync(join(tmp, 'blobs', 'sha256', a.config.digest.slice(7)), 'x'.repeat(a.config.size)); // same size, other bytes
    await layout.delete(b.layer.digest);
    writeFileSync(join(tmp, 'blobs', 'sha256', 'partial.tmp'), '');
    const problems = await layout.verify();
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toContain(`blob ${a.config.digest} is corrupt`);
    expect(problems.join('\n')).toContain(`image example.test/b:1: blob ${b.layer.digest}`);
    expect(problems.join('\n')).toContain('partial.tmp');
    // Without hashing, only the structure is checked.
    expect(await layout.verify({ hashes: false })).toHaveLength(2);
  });

  it('accepts an index that lacks some platforms, but not a present manifest that lacks a layer', async () => {
    const layout = await FsImageLayout.open(tmp);
    const here = await storeImage(layout, 'here');
    const absent = { mediaType: MediaType.OciManifest, digest: sha('never pulled'), size: 10, platform: { os: 'linux', architecture: 'arm64' } };
    const idxBytes = enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ ...here.manifest, platform: { os: 'linux', architecture: 'amd64' } }, absent] }));
    const index = { mediaType: MediaType.OciIndex, ...(await layout.writeBytes(idxBytes)) };
    await layout.setRef('example.test/multi:1', index);
    expect(await layout.verify()).toEqual([]);
    await layout.delete(here.layer.digest);
    expect(await layout.verify()).toEqual([`image example.test/multi:1: blob ${here.layer.digest} (${MediaType.OciLayer}) is missing`]);
  });
});
