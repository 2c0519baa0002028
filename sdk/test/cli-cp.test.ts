/**
 * `skiff cp` both ways on the local Engine, with docker cp's path rules and
 * errors. On the Linux backend: each CLI call is a new process, and only the
 * Linux backend keeps a container's writable layer between processes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusybox, linuxReady, skiff } from './support/cli.js';

const ready = linuxReady('the skiff cp CLI test');

let base: string;
let root: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'skiff-cli-cp-'));
  root = join(base, 'root');
  writeFileSync(join(base, 'local.txt'), 'from the host\n');
  mkdirSync(join(base, 'tree/sub'), { recursive: true });
  writeFileSync(join(base, 'tree/sub/b'), 'b\n');
  if (!ready) return;
  await buildBusybox(root, base, 'RUN ["/bin/sh", "-c", "mkdir -p /tmp /etc && echo box > /etc/motd"]\n');
}, 120_000);
afterAll(async () => {
  if (ready) await skiff(root, 'rm', '-f', 'cpc');
  rmSync(base, { recursive: true, force: true });
});

it.skipIf(!ready)('copies into a created container and out of the exited one, with docker cp\'s path rules', async () => {
  const made = await skiff(root, 'create', '--name', 'cpc', 'bb:1', 'sh', '-c', 'cat /tmp/local.txt /tmp/renamed/sub/b /etc/motd; echo out > /tmp/out.txt');
  expect(made.code, made.stderr).toBe(0);
  expect(await skiff(root, 'cp', join(base, 'local.txt'), 'cpc:/tmp/')).toMatchObject({ code: 0, stdout: '' });
  expect((await skiff(root, 'cp', join(base, 'tree'), 'cpc:/tmp/renamed')).code).toBe(0);
  expect((await skiff(root, 'cp', join(base, 'local.txt'), 'cpc:/etc/motd')).code).toBe(0);
  const started = await skiff(root, 'start', '-a', 'cpc');
  expect(started, started.stderr).toMatchObject({ code: 0, stdout: 'from the host\nb\nfrom the host\n' });
  // Out: a file to a new local name, a directory's contents (DIR/.) into an existing directory.
  expect((await skiff(root, 'cp', 'cpc:/tmp/out.txt', join(base, 'got.txt'))).code).toBe(0);
  expect(readFileSync(join(base, 'got.txt'), 'utf8')).toBe('out\n');
  const into = join(base, 'into');
  mkdirSync(into);
  expect((await skiff(root, 'cp', 'cpc:/tmp/renamed/.', into)).code).toBe(0);
  expect(readFileSync(join(into, 'sub/b'), 'utf8')).toBe('b\n');
  expect(existsSync(join(into, 'renamed'))).toBe(false);
});

it.skipIf(!ready)('fails like docker cp', async () => {
  expect(await skiff(root, 'cp', join(base, 'local.txt'), 'cpc:/nope/x')).toMatchObject({ code: 1, stderr: expect.stringContaining('Could not find the file /nope') });
  expect(await skiff(root, 'cp', join(base, 'tree'), 'cpc:/etc/motd')).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot copy directory') });
  expect(await skiff(root, 'cp', join(base, 'missing'), 'cpc:/tmp')).toMatchObject({ code: 1, stderr: expect.stringContaining('no such file or directory') });
  expect(await skiff(root, 'cp', 'a:/x', 'b:/y')).toMatchObject({ code: 1, stderr: expect.stringContaining('copying between containers is not supported') });
  expect(await skiff(root, 'cp', 'x', 'y')).toMatchObject({ code: 1, stderr: expect.stringContaining('must specify at least one container') });
});
