/**
 * `skiff import` from the local CLI: a file or stdin (plain or gzip) becomes
 * a one-layer image whose ID is printed; --change, -m and --platform reach
 * its config. On the WASI backend a root file system holding a .wasm program
 * with `--platform wasip1/wasm` and an ENTRYPOINT runs; on Linux a busybox
 * one does. Bad changes, missing files and URLs fail with clear errors and
 * store nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linuxReady, skiff, skiffWithInput } from './support/cli.js';

const ready = linuxReady('the import CLI test');
const HELLO_WASM = fileURLToPath(new URL('../../runtime-wasm/samples/bin/hello.wasm', import.meta.url));

let base: string;
let root: string;

/** A tar of a directory made from `files` (path -> text, or a file to copy), with busybox links when asked. */
function rootfsTar(name: string, files: Record<string, string | { copy: string }>, links: string[] = []): string {
  const dir = join(base, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const [path, v] of Object.entries(files)) {
    if (typeof v === 'string') writeFileSync(join(dir, path), v);
    else copyFileSync(v.copy, join(dir, path));
  }
  for (const l of links) symlinkSync('busybox', join(dir, 'bin', l));
  const tar = join(base, `${name}.tar`);
  execFileSync('tar', ['-C', dir, '-cf', tar, '.']);
  return tar;
}

/** `REPOSITORY:TAG ID` of every image, from skiff images' table. */
/** Every file under the store's root but the container records and logs: blobs, temp files, refs. */
function storeFiles(): string[] {
  return execFileSync('find', [root, '-type', 'f', '-not', '-path', '*/containers/*'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

async function imageNames(): Promise<string[]> {
  return (await skiff(root, 'images')).stdout.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/).slice(0, 3).join(' '));
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'skiff-cli-import-'));
  root = join(base, 'root');
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

it('WASI: a root file system with a .wasm program, --platform wasip1/wasm and an ENTRYPOINT change runs; -m is the history comment', async () => {
  const tar = rootfsTar('wasi', { 'hello.wasm': { copy: HELLO_WASM } });
  const made = await skiff(root, 'import', '--platform', 'wasip1/wasm', '--change', 'ENTRYPOINT ["/hello.wasm"]', '-m', 'the hello sample', tar, 'hello-imported:1');
  expect(made, made.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^sha256:[a-f0-9]{64}\n$/) });
  const out = await skiff(root, 'run', '--rm', 'hello-imported:1');
  expect(out, out.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('Hello from skiff!') });
  const [img] = JSON.parse((await skiff(root, 'image', 'inspect', 'hello-imported:1')).stdout) as Array<{ Id: string; Os: string; Architecture: string; Config: { Entrypoint?: string[] }; History: Array<{ comment?: string }>; RootFS: { Layers: string[] } }>;
  expect(img).toMatchObject({ Id: made.stdout.trim(), Os: 'wasip1', Architecture: 'wasm', Config: { Entrypoint: ['/hello.wasm'] } });
  expect(img!.History).toEqual([expect.objectContaining({ comment: 'the hello sample' })]);
  expect(img!.RootFS.Layers).toHaveLength(1);

  // From stdin, gzipped: the same layer.
  const gz = execFileSync('gzip', ['-c', tar]);
  const piped = await skiffWithInput(root, gz, 'image', 'import', '--platform', 'wasip1/wasm', '-c', 'ENTRYPOINT ["/hello.wasm"]', '-', 'hello-imported:gz');
  expect(piped, piped.stderr).toMatchObject({ code: 0 });
  expect((await skiff(root, 'run', '--rm', 'hello-imported:gz')).stdout).toContain('Hello from skiff!');
  const [gzImg] = JSON.parse((await skiff(root, 'image', 'inspect', 'hello-imported:gz')).stdout) as Array<{ RootFS: { Layers: string[] } }>;
  expect(gzImg!.RootFS.Layers).toEqual(img!.RootFS.Layers);
}, 60_000);

it('errors: a refused change, a damaged tar, a missing file, a URL, a bad platform; nothing is stored', async () => {
  const tar = rootfsTar('errs', { f: 'x' });
  const before = await imageNames();
  const files = storeFiles();
  const bad = await skiff(root, 'import', '-c', 'RUN true', tar, 'bad:1');
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toContain('run is not a valid change command');
  const damaged = await skiffWithInput(root, readFileSync(tar).subarray(0, 700), 'import', '-', 'bad:2');
  expect(damaged.code).not.toBe(0);
  expect(damaged.stderr).toContain('not a valid tar archive');
  // gzip stored as given: a good gzip of a damaged tar must not leave its blob behind either.
  const damagedGz = await skiffWithInput(root, execFileSync('gzip', ['-c'], { input: readFileSync(tar).subarray(0, 700) }), 'import', '-', 'bad:2');
  expect(damagedGz.code).not.toBe(0);
  expect(damagedGz.stderr).toContain('not a valid tar archive');
  const missing = await skiff(root, 'import', join(base, 'nope.tar'), 'bad:3');
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toContain(`open ${join(base, 'nope.tar')}: no such file or directory`);
  const url = await skiff(root, 'import', 'http://127.0.0.1:9/x.tar', 'bad:4');
  expect(url.code).not.toBe(0);
  expect(url.stderr).toContain('importing from a URL (http://127.0.0.1:9/x.tar) is not supported');
  const platform = await skiff(root, 'import', '--platform', 'linux', tar, 'bad:5');
  expect(platform.code).not.toBe(0);
  expect(platform.stderr).toContain('invalid platform "linux"');
  expect((await skiff(root, 'import')).code).not.toBe(0);
  expect(await imageNames()).toEqual(before);
  expect(storeFiles()).toEqual(files);
  expect((await imageNames()).filter((n) => n.startsWith('bad '))).toEqual([]);
});

it.skipIf(!ready)('Linux: a busybox root file system with CMD and ENV changes runs; without a name the image is dangling', async () => {
  const tar = rootfsTar('linux', { 'bin/busybox': { copy: '/bin/busybox' }, motd: 'imported\n' }, ['sh', 'cat']);
  const made = await skiff(root, 'import', '--platform', 'linux/amd64', '-c', 'CMD ["cat", "/motd"]', '-c', 'ENV PATH=/bin', tar, 'linux-imported:1');
  expect(made, made.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^sha256:/) });
  const out = await skiff(root, 'run', '--rm', 'linux-imported:1');
  expect(out, out.stderr).toMatchObject({ code: 0, stdout: 'imported\n' });
  const [img] = JSON.parse((await skiff(root, 'image', 'inspect', 'linux-imported:1')).stdout) as Array<{ Os: string; Config: { Env?: string[] }; History: Array<{ comment?: string }> }>;
  expect(img).toMatchObject({ Os: 'linux', Config: { Env: ['PATH=/bin'] } });
  expect(img!.History.map((h) => h.comment)).toEqual(['Imported from -']);

  const unnamed = await skiff(root, 'import', '--platform', 'linux/amd64', tar);
  expect(unnamed.code, unnamed.stderr).toBe(0);
  expect((await skiff(root, 'images')).stdout).toMatch(new RegExp(`^<none>\\s+<none>\\s+${unnamed.stdout.trim().slice(7, 19)}\\s`, 'm'));
}, 60_000);
