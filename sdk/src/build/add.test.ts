/**
 * ADD as docker does it: local tar archives (plain, gzip) are unpacked into
 * the destination, other files are copied as they are, URLs are downloaded
 * (from a loopback server the test starts) and never unpacked.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Engine } from '../runtime/engine.js';
import { MemoryImageLayout } from '../content/memory.js';
import { TarWriter } from '../layers/tar-writer.js';
import { bytesStream, collect } from '../content/util.js';
import { digestOf } from '../image/digest.js';
import { Builder } from './builder.js';
import { MemoryBuildCache } from './cache.js';
import { MemoryContext } from './context.js';
import { stageFiles } from './layer-io.js';

const PLATFORM = [{ os: 'wasip1', architecture: 'wasm' }];
const text = (b?: Uint8Array) => new TextDecoder().decode(b);

function setup() {
  const engine = new Engine({ layout: new MemoryImageLayout(), backends: [] });
  return { engine, builder: new Builder(engine, new MemoryBuildCache()) };
}

async function tarOf(files: Array<{ path: string; data?: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string; uid?: number }>): Promise<Uint8Array> {
  const w = new TarWriter();
  const out = collect(w.readable);
  for (const f of files) {
    const data = f.data !== undefined ? new TextEncoder().encode(f.data) : undefined;
    await w.add({ path: f.path, type: f.type ?? 'file', mode: f.type === 'directory' ? 0o755 : 0o640, uid: f.uid ?? 0, gid: 0, size: data?.length ?? 0, mtime: 1_500_000_000, ...(f.linkname ? { linkname: f.linkname } : {}) }, data);
  }
  await w.finish();
  return out;
}

async function gzipOf(b: Uint8Array): Promise<Uint8Array> {
  return collect(bytesStream(b).pipeThrough(new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>));
}

async function filesOf(engine: Engine, name: string) {
  const img = await engine.images.resolve(name, PLATFORM);
  return { img, files: await stageFiles(engine.layout, img.manifest.layers) };
}

describe('ADD of local files', () => {
  it('unpacks tar and tar.gz archives into the destination and copies anything else as is', async () => {
    const { engine, builder } = setup();
    const tar = await tarOf([{ path: 'pkg/', type: 'directory' }, { path: 'pkg/a.txt', data: 'A', uid: 42 }, { path: 'pkg/link', type: 'symlink', linkname: 'a.txt' }]);
    const gz = await gzipOf(await tarOf([{ path: 'b.txt', data: 'B' }]));
    const notTar = await gzipOf(new TextEncoder().encode('just gzip, not a tar'));
    const ctx = new MemoryContext()
      .add('Dockerfile', 'FROM scratch\nADD bundle.tar /opt/\nADD other.tgz /srv\nADD notes.gz /notes.gz\nADD plain.txt /plain.txt\nCOPY bundle.tar /copied/\n')
      .add('bundle.tar', tar).add('other.tgz', gz).add('notes.gz', notTar).add('plain.txt', 'plain');
    await builder.build({ context: ctx, tags: ['add:1'], platform: 'wasip1/wasm' });
    const { files } = await filesOf(engine, 'add:1');
    expect(text(files.get('opt/pkg/a.txt')?.data)).toBe('A');
    expect(files.get('opt/pkg/a.txt')).toMatchObject({ uid: 42, mode: 0o640 });
    expect(files.get('opt/pkg/link')).toMatchObject({ type: 'symlink', linkname: 'a.txt' });
    expect(files.has('opt/bundle.tar')).toBe(false);
    expect(text(files.get('srv/b.txt')?.data)).toBe('B');
    expect(files.get('notes.gz')?.data).toEqual(notTar);
    expect(text(files.get('plain.txt')?.data)).toBe('plain');
    // COPY never unpacks.
    expect(files.get('copied/bundle.tar')?.data).toEqual(tar);
  });

  it('applies --chown to unpacked files and refuses bzip2 and xz archives with what to do', async () => {
    const { engine, builder } = setup();
    const tar = await tarOf([{ path: 'x.txt', data: 'X', uid: 5 }]);
    await builder.build({ context: new MemoryContext().add('Dockerfile', 'FROM scratch\nADD --chown=7:8 t.tar /d/\n').add('t.tar', tar), tags: ['own:1'], platform: 'wasip1/wasm' });
    expect((await filesOf(engine, 'own:1')).files.get('d/x.txt')).toMatchObject({ uid: 7, gid: 8 });
    const bz2 = new Uint8Array([0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59]);
    const xz = new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00]);
    for (const [name, data, kind] of [['a.tar.bz2', bz2, 'bzip2'], ['a.tar.xz', xz, 'xz']] as const) {
      const ctx = new MemoryContext().add('Dockerfile', `FROM scratch\nADD ${name} /d/\n`).add(name, data);
      await expect(builder.build({ context: ctx, platform: 'wasip1/wasm' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(new RegExp(`${kind} archives cannot be extracted.*COPY`)) });
    }
  });

  it('refuses git sources and --keep-git-dir clearly', async () => {
    const { builder } = setup();
    for (const df of ['ADD https://example.invalid/repo.git /src', 'ADD git@example.invalid:x/y.git /src', 'ADD --keep-git-dir=true https://example.invalid/r.git#main /src']) {
      const ctx = new MemoryContext().add('Dockerfile', `FROM scratch\n${df}\n`);
      await expect(builder.build({ context: ctx, platform: 'wasip1/wasm' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('git sources are not supported') });
    }
  });
});

describe('ADD of URLs', () => {
  let server: Server;
  let base: string;
  let body = 'version one\n';
  const modified = new Date('2024-01-02T03:04:05Z');
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/missing') { res.writeHead(404, 'Not Found'); res.end(); return; }
      const data = req.url === '/pack.tar' ? tarBytes : Buffer.from(body);
      res.writeHead(200, { 'Content-Length': data.length, 'Last-Modified': modified.toUTCString() });
      res.end(data);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    tarBytes = Buffer.from(await tarOf([{ path: 'in-tar.txt', data: 'T' }]));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  let tarBytes: Buffer;

  it('downloads the file (never unpacked), with mode 600 and the Last-Modified time', async () => {
    const { engine, builder } = setup();
    const ctx = new MemoryContext().add('Dockerfile', `FROM scratch\nADD ${base}/file.txt /dl/\nADD ${base}/pack.tar /dl/pack.tar\n`);
    await builder.build({ context: ctx, tags: ['url:1'], platform: 'wasip1/wasm' });
    const { files } = await filesOf(engine, 'url:1');
    expect(text(files.get('dl/file.txt')?.data)).toBe('version one\n');
    expect(files.get('dl/file.txt')).toMatchObject({ mode: 0o600, mtime: modified.getTime() / 1000 });
    expect(files.get('dl/pack.tar')?.data).toEqual(new Uint8Array(tarBytes));
    expect(files.has('dl/in-tar.txt')).toBe(false);
  });

  it('downloads again on every build and reuses the step only while the content is the same', async () => {
    const { builder } = setup();
    const ctx = new MemoryContext().add('Dockerfile', `FROM scratch\nADD ${base}/file.txt /f\nENV A=1\n`);
    body = 'version one\n';
    const a = await builder.build({ context: ctx, platform: 'wasip1/wasm' });
    const b = await builder.build({ context: ctx, platform: 'wasip1/wasm' });
    expect(b.cached).toBe(2);
    expect(b.id).toBe(a.id);
    body = 'version two\n';
    const c = await builder.build({ context: ctx, platform: 'wasip1/wasm' });
    expect(c.cached).toBe(0);
    expect(c.id).not.toBe(a.id);
  });

  it('verifies --checksum and names the failure', async () => {
    const { builder } = setup();
    body = 'checked\n';
    const good = digestOf(new TextEncoder().encode(body));
    const ok = new MemoryContext().add('Dockerfile', `FROM scratch\nADD --checksum=${good} ${base}/file.txt /f\n`);
    await expect(builder.build({ context: ok, platform: 'wasip1/wasm' })).resolves.toMatchObject({ steps: 2 });
    const bad = new MemoryContext().add('Dockerfile', `FROM scratch\nADD --checksum=sha256:${'0'.repeat(64)} ${base}/file.txt /f\n`);
    await expect(builder.build({ context: bad, platform: 'wasip1/wasm' })).rejects.toThrowError(`does not match --checksum=sha256:${'0'.repeat(64)}`);
    const local = new MemoryContext().add('Dockerfile', `FROM scratch\nADD --checksum=${good} a /f\n`).add('a', 'x');
    await expect(builder.build({ context: local, platform: 'wasip1/wasm' })).rejects.toThrowError(/--checksum applies to URL sources only/);
    const missing = new MemoryContext().add('Dockerfile', `FROM scratch\nADD ${base}/missing /f\n`);
    await expect(builder.build({ context: missing, platform: 'wasip1/wasm' })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('the server answered 404') });
    const copy = new MemoryContext().add('Dockerfile', `FROM scratch\nCOPY ${base}/file.txt /f\n`);
    await expect(builder.build({ context: copy, platform: 'wasip1/wasm' })).rejects.toThrowError(/COPY takes files of the build context only/);
  });
});
