/** FsImageLayout across processes: a writer killed mid-blob, and two writers of index.json at once. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FsImageLayout } from '../../src/node/fs-layout.js';

let tmp: string;
let childScript: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'skiff-layout-proc-'));
  childScript = join(tmp, 'layout-child.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./layout-child.ts', import.meta.url))],
    bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: childScript, logLevel: 'error',
  });
});
afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

function run(args: string[], untilLine?: string): { done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>; reached: Promise<void>; pid: number } {
  const child = spawn(process.execPath, [childScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const reached = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (untilLine && stdout.includes(`${untilLine}\n`)) resolve();
    });
    child.once('exit', () => reject(new Error(`child exited before "${untilLine}": ${stderr}`)));
  });
  reached.catch(() => {});
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((r) => child.once('close', (code, signal) => r({ code, signal, stderr })));
  return { done, reached, pid: child.pid! };
}

it('a process killed while writing a blob leaves no blob; the layout reopens, sweeps the temp file and verifies', async () => {
  const dir = join(tmp, 'killed');
  const child = run([dir, 'hang-write'], 'writing');
  await child.reached;
  expect(readdirSync(join(dir, 'ingest')).length).toBe(1); // the partial write is there, outside blobs/
  process.kill(child.pid, 'SIGKILL');
  expect((await child.done).signal).toBe('SIGKILL');
  expect(readdirSync(join(dir, 'blobs', 'sha256'))).toEqual([]);
  const layout = await FsImageLayout.open(dir);
  expect(readdirSync(join(dir, 'ingest'))).toEqual([]);
  expect(await layout.verify()).toEqual([]);
});

it('two processes setting names at the same time lose none of them', async () => {
  const dir = join(tmp, 'race');
  await FsImageLayout.open(dir);
  const a = run([dir, 'setrefs', 'a', '60']);
  const b = run([dir, 'setrefs', 'b', '60']);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  expect([ra.code, ra.stderr]).toEqual([0, '']);
  expect([rb.code, rb.stderr]).toEqual([0, '']);
  const layout = await FsImageLayout.open(dir);
  const names = (await layout.listRefs()).map((r) => r.name);
  expect(names).toHaveLength(120);
  for (const p of ['a', 'b']) for (let i = 0; i < 60; i++) expect(names).toContain(`example.test/${p}:${i}`);
  expect(readdirSync(dir).sort()).toEqual(['blobs', 'index.json', 'ingest', 'oci-layout']);
  expect(await layout.verify()).toEqual([]);
});
