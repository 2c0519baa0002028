/**
 * The demo page in real headless Chromium: built (browser bundle, worker,
 * page, sample images as an OCI layout), served on 127.0.0.1 with the
 * cross-origin isolation headers, and used as a visitor would.
 * A screenshot is kept in test-artifacts/demo.png.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildDemo, type DemoBuild } from '../../demo/build.js';
import { serveDemo, type DemoServer } from '../../demo/serve.js';
import { TOOLBOX_APPLETS } from '../../src/samples.js';
import { artifactPath, launchChromium, type Browser } from './support/chromium.js';

let dir: string;
let built: DemoBuild;
let server: DemoServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-demo-test-'));
  built = await buildDemo(dir);
  server = await serveDemo(dir);
  browser = await launchChromium();
  page = browser.page;
  await load();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function load(url = server.url): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('body[data-ready=true]', { timeout: 20_000 });
}

async function pick(image: string): Promise<void> {
  await page.selectOption('#image', { label: image });
}

interface RunOutcome {
  status: string;
  stdout: string;
  stderr: string;
  exitCode: string;
  detail: string;
}

async function start(cmd: string, options: { stdin?: string; timeoutMs?: number; volume?: boolean } = {}): Promise<void> {
  await page.fill('#cmd', cmd);
  await page.fill('#stdin', options.stdin ?? '');
  await page.fill('#timeout', String(options.timeoutMs ?? 10_000));
  await page.setChecked('#use-volume', options.volume ?? true);
  await page.click('#run');
}

async function finished(timeout = 20_000): Promise<RunOutcome> {
  await page.waitForSelector('#status[data-state=exited], #status[data-state=error]', { timeout });
  return page.evaluate(() => ({
    status: document.querySelector('#status')!.textContent ?? '',
    stdout: [...document.querySelectorAll('#output .out')].map((e) => e.textContent).join(''),
    stderr: [...document.querySelectorAll('#output .err')].map((e) => e.textContent).join(''),
    exitCode: (document.querySelector('#exit') as HTMLElement).hidden ? '' : document.querySelector('#exit-code')!.textContent ?? '',
    detail: document.querySelector('#exit-detail')!.textContent ?? '',
  }));
}

async function run(cmd: string, options: { stdin?: string; timeoutMs?: number; volume?: boolean } = {}): Promise<RunOutcome> {
  await start(cmd, options);
  return finished();
}

const text = (selector: string) => page.evaluate((s) => [...document.querySelectorAll(s)].map((e) => e.textContent ?? ''), selector);

describe('the demo page in Chromium', () => {
  it('loads, lists the sample images and is cross-origin isolated', async () => {
    const options = await text('#image option');
    expect(options).toEqual(expect.arrayContaining(['skiff/toolbox', 'skiff/hello', 'skiff/sqlite', 'demo/runaway']));
    expect(await page.textContent('#isolation')).toContain('cross-origin isolated');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(browser.errors).toEqual([]);
  });

  it('runs a sample container in a Web Worker and shows its output and exit code', async () => {
    await pick('skiff/toolbox');
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    const r = await run("sh -c 'echo hello from skiff; ls /bin | wc -l'");
    expect(r).toMatchObject({ status: 'exited with 0', exitCode: '0', stderr: '' });
    expect(r.stdout).toBe(`hello from skiff\n${TOOLBOX_APPLETS.length + 1}\n`);
    expect(workers.some((u) => u.endsWith('/skiff-worker.js'))).toBe(true);
  });

  it('keeps stderr apart and passes the exit code through', async () => {
    const r = await run("sh -c 'echo to stdout; echo to stderr >&2; exit 3'");
    expect(r).toMatchObject({ stdout: 'to stdout\n', stderr: 'to stderr\n', exitCode: '3' });
  });

  it('feeds stdin to the guest', async () => {
    await pick('demo/runaway');
    const r = await run('echo', { stdin: 'first\nsecond' });
    expect(r.stdout).toBe('> got: first\n> got: second\n> eof\n');
  });

  it('streams output while the guest runs', async () => {
    await pick('demo/runaway');
    await start('tick 5 400');
    await page.waitForFunction(() => document.querySelector('#output')!.textContent!.includes('tick 1'), undefined, { timeout: 10_000 });
    const early = await page.evaluate(() => [document.querySelector('#output')!.textContent, document.querySelector('#status')!.getAttribute('data-state')]);
    expect(early[1]).toBe('running');
    expect(early[0]).not.toContain('tick 5');
    const r = await finished();
    expect(r.stdout).toBe('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
  });

  it('shows the image layers, fetched only when a container needs them', async () => {
    await load();
    await pick('skiff/hello');
    await page.waitForFunction(() => document.querySelectorAll('#layers tbody tr').length === 1);
    expect(await text('#layers tbody tr td:last-child')).toEqual(['not yet']);
    const r = await run('');
    expect(r.stdout.length).toBeGreaterThan(0);
    await page.waitForFunction(() => [...document.querySelectorAll('#layers tbody tr')].every((tr) => (tr as HTMLElement).dataset['fetched'] === 'true'));
    // The toolbox's layers were never needed on this page load.
    await pick('skiff/toolbox');
    await page.waitForFunction(() => document.querySelectorAll('#layers tbody tr').length === 2);
    expect(await text('#layers tbody tr td:last-child')).toEqual(['not yet', 'not yet']);
    expect((await text('#layers tbody tr td:nth-child(4)'))[1]).toContain('toolbox.wasm');
  });

  it("shows the container's own changes, additions and deletions", async () => {
    await pick('skiff/toolbox');
    const r = await run("sh -c 'mkdir -p /tmp/work && echo data > /tmp/work/f && rm /etc/os-release && ls -l /tmp/work'");
    expect(r.exitCode).toBe('0');
    expect(await text('#changes li.added')).toEqual(expect.arrayContaining(['/tmp/work/', '/tmp/work/f (5 B)']));
    expect(await text('#changes li.deleted')).toEqual(['/etc/os-release']);
    await page.screenshot({ path: artifactPath('demo.png'), fullPage: true });
  });

  it("keeps a volume's file across a page reload (IndexedDB)", async () => {
    await pick('skiff/toolbox');
    const w = await run("sh -c 'echo kept across reloads > /data/note'");
    expect(w.exitCode).toBe('0');
    await page.reload();
    await page.waitForSelector('body[data-ready=true]');
    expect(await text('#volume li')).toContain('/data/note (20 B)');
    await pick('skiff/toolbox');
    const r = await run('cat /data/note');
    expect(r).toMatchObject({ stdout: 'kept across reloads\n', exitCode: '0' });
    // Without the volume the file is not there.
    const without = await run('cat /data/note', { volume: false });
    expect(without.exitCode).not.toBe('0');
  });

  it('runs SQLite (the sqlite sample) on the volume: its database grows run after run', async () => {
    await pick('skiff/sqlite');
    const sql = "sqlite3 /data/demo.db 'create table if not exists t(x); insert into t values (1); select count(*) from t;'";
    const first = await run(sql);
    expect(first).toMatchObject({ exitCode: '0', stderr: '' });
    const n = Number(first.stdout.trim());
    expect(n).toBeGreaterThanOrEqual(1);
    expect((await run(sql)).stdout).toBe(`${n + 1}\n`);
    expect((await run("sqlite3 /data/demo.db 'select nope from t;'")).exitCode).toBe('1');
    expect(await text('#volume li')).toEqual(expect.arrayContaining([expect.stringMatching(/^\/data\/demo\.db \(\d/)]));
  });

  it('a runaway guest is killed by the time limit while the page stays responsive', async () => {
    await pick('demo/runaway');
    const t0 = Date.now();
    await start('spin', { timeoutMs: 4000 });
    await page.waitForFunction(() => document.querySelector('#output')!.textContent === 'spinning\n', undefined, { timeout: 10_000 });
    // The guest spins in its worker; the page's own clock keeps ticking and it answers
    // long before the time limit (a page blocked by the guest would answer only after it).
    const before = Number(await page.textContent('#heartbeat'));
    const ping = Date.now();
    expect(await page.evaluate(() => 6 * 7)).toBe(42);
    expect(Date.now() - ping).toBeLessThan(2000);
    await page.waitForTimeout(600);
    expect(Number(await page.textContent('#heartbeat')) - before).toBeGreaterThanOrEqual(3);
    expect(await page.getAttribute('#status', 'data-state')).toBe('running');
    const r = await finished();
    expect(r.exitCode).toBe('137');
    expect(r.detail).toContain('the run passed its time limit');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4000);
    expect(Date.now() - t0).toBeLessThan(15_000);
    // The page goes on running containers.
    expect((await run('tick 1 0')).stdout).toBe('tick 1\n');
  });

  it('the Kill button ends a spinning guest at once', async () => {
    await pick('demo/runaway');
    await start('spin', { timeoutMs: 60_000 });
    await page.waitForFunction(() => document.querySelector('#output')!.textContent === 'spinning\n', undefined, { timeout: 10_000 });
    const t0 = Date.now();
    await page.click('#kill');
    const r = await finished();
    expect(Date.now() - t0).toBeLessThan(10_000); // the time limit is a minute
    expect(r).toMatchObject({ exitCode: '137' });
    expect(r.detail).toContain('SIGKILL');
  });

  it('the browser bundle runs containers from a page script too (Engine API, IndexedDbVolumeStore)', async () => {
    // A string, so the test runner's module transform leaves the page's dynamic import alone.
    const result = await page.evaluate(`(async () => {
      const skiff = await import('/skiff.js');
      const { engine, volumes } = skiff.createBrowserEngine({ images: '/images/', workerUrl: '/skiff-worker.js', volumes: new skiff.IndexedDbVolumeStore({ database: 'api-test' }) });
      const r = await engine.run({ image: 'skiff/toolbox', cmd: ['sh', '-c', 'echo api > /v/f; cat /v/f'], volumes: ['api-vol:/v'], rm: true });
      await volumes.flush();
      const again = new skiff.IndexedDbVolumeStore({ database: 'api-test' });
      const h = await again.handle('api-vol');
      return { r, kept: h.fs.readFileSync('/f', 'utf8'), names: (await again.list()).map((v) => v.name) };
    })()`) as { r: unknown; kept: string; names: string[] };
    expect(result.r).toMatchObject({ exitCode: 0, stdout: 'api\n', stderr: '' });
    expect(result.kept).toBe('api\n');
    expect(result.names).toEqual(['api-vol']);
  });

  it('left no errors in the console', () => {
    expect(browser.errors).toEqual([]);
  });
});

describe('the demo page without cross-origin isolation', () => {
  let plain: DemoServer;

  beforeAll(async () => {
    plain = await serveDemo(dir, { isolate: false });
  });

  afterAll(async () => {
    await plain?.close();
  });

  it('still runs containers; stdin is sent whole at the start', async () => {
    await load(plain.url);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(await page.textContent('#isolation')).toContain('not cross-origin isolated');
    await pick('demo/runaway');
    expect((await run('echo', { stdin: 'one' })).stdout).toBe('> got: one\n> eof\n');
    const r = await run('spin', { timeoutMs: 1000 });
    expect(r.exitCode).toBe('137');
  });
});

describe('the build', () => {
  it('reports the bundle sizes', () => {
    expect(built.bundle.bytes).toBeGreaterThan(50_000);
    expect(built.worker.bytes).toBeGreaterThan(20_000);
    console.log(`browser bundle: skiff.js ${(built.bundle.bytes / 1024).toFixed(1)} KiB (${(built.bundle.gzipBytes / 1024).toFixed(1)} KiB gzipped), skiff-worker.js ${(built.worker.bytes / 1024).toFixed(1)} KiB (${(built.worker.gzipBytes / 1024).toFixed(1)} KiB gzipped)`);
  });
});
