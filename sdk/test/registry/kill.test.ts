/**
 * A pull killed mid-way (SIGKILL of the pulling process) leaves a store that
 * opens and verifies, holding only whole blobs and no name; the next pull
 * finishes the job and reuses what the first one completed.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryImageLayout } from '../../src/content/memory.js';
import { FsImageLayout } from '../../src/node/fs-layout.js';
import { installNodeHasher } from '../../src/node/hasher.js';
import { pullImage } from '../../src/registry/pull.js';
import { pushImage } from '../../src/registry/push.js';
import type { RegistryProgress } from '../../src/registry/types.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startRegistry, type RegistryServer } from './registry-server.js';
import { makeImage, type TestImage } from './test-images.js';

installNodeHasher();
const retry = { baseDelayMs: 10, maxDelayMs: 50 };

let reg: RegistryServer;
let proxy: FaultProxy;
let tmp: string;
let img: TestImage;
let childScript: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'skiff-kill-'));
  childScript = join(tmp, 'pull-child.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./pull-child.ts', import.meta.url))],
    bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: childScript, logLevel: 'error',
  });
  reg = await startRegistry();
  proxy = await startFaultProxy(reg.domain);
  const src = new MemoryImageLayout();
  img = await makeImage(src, `${reg.domain}/kill/app:1`, { layerSizes: [5000, 600_000, 600_000] });
  await pushImage({ layout: src, reference: `${reg.domain}/kill/app:1`, retry });
});
afterAll(async () => {
  await proxy?.stop();
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

it('a pull killed mid-way leaves a valid store, and the next pull completes it', async () => {
  const [small, big1, big2] = img.layers as [typeof img.layers[0], typeof img.layers[0], typeof img.layers[0]];
  // The big layers trickle, so the kill lands while they are half written.
  for (const b of [big1, big2]) proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${b.digest}$`), fault: { kind: 'throttle', bytesPerSecond: 150_000 }, times: Infinity });
  const dir = join(tmp, 'store');
  const child = spawn(process.execPath, [childScript, dir, `${proxy.domain}/kill/app:1`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<NodeJS.Signals | number | null>((r) => child.once('exit', (code, sig) => r(sig ?? code)));
  const seen: RegistryProgress[] = [];
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const e = JSON.parse(line) as RegistryProgress | string;
        if (typeof e === 'string') return reject(new Error('the pull finished before it could be killed'));
        seen.push(e);
        const smallDone = seen.some((x) => x.digest === small.digest && x.status === 'done');
        const bigStarted = seen.some((x) => x.digest === big1.digest && x.status === 'downloading' && x.current > 100_000);
        if (smallDone && bigStarted) return resolve();
      }
    });
    void exited.then((c) => reject(new Error(`the child exited (${c}) early: ${stderr}`)));
  });
  process.kill(child.pid!, 'SIGKILL');
  expect(await exited).toBe('SIGKILL');

  // Partial data exists, but only in ingest/, never under a digest.
  const ingest = join(dir, 'ingest');
  expect(existsSync(ingest) && readdirSync(ingest).length > 0).toBe(true);
  const blobsDir = join(dir, 'blobs', 'sha256');
  for (const f of readdirSync(blobsDir)) {
    expect(createHash('sha256').update(readFileSync(join(blobsDir, f))).digest('hex')).toBe(f);
  }
  expect(readdirSync(blobsDir)).toContain(small.digest.slice(7));
  expect(readdirSync(blobsDir)).not.toContain(big1.digest.slice(7));

  const reopened = await FsImageLayout.open(dir);
  expect(await reopened.verify()).toEqual([]);
  expect(await reopened.listRefs()).toEqual([]);
  expect(readdirSync(ingest)).toEqual([]); // the dead process's temp files are swept

  proxy.rules.length = 0;
  const events: RegistryProgress[] = [];
  const result = await pullImage({ layout: reopened, reference: `${proxy.domain}/kill/app:1`, retry, onProgress: (e) => events.push(e) });
  expect(result.target.digest).toBe(img.manifest.digest);
  expect(events.find((e) => e.digest === small.digest && e.status !== 'waiting')?.status).toBe('exists');
  expect(events.some((e) => e.digest === big1.digest && e.status === 'done')).toBe(true);
  expect(await reopened.verify()).toEqual([]);
  for (const [digest, bytes] of img.blobs) expect(Buffer.from(await reopened.readBytes(digest)).equals(Buffer.from(bytes))).toBe(true);
  expect((await reopened.getRef(`${proxy.domain}/kill/app:1`))?.digest).toBe(img.manifest.digest);
});
