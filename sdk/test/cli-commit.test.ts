/**
 * `skiff commit` from the local CLI: on Linux the image id printed and the new
 * image runs with the container's file and the change; errors as docker
 * prints them. A WASI container keeps its writable layer in the memory of the
 * process that ran it, so committing one that ran in an earlier command is
 * refused with a clear error (a created one commits: it changed nothing).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusybox, linuxReady, skiff } from './support/cli.js';

const ready = linuxReady('the commit CLI test');

let base: string;
let root: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'skiff-cli-commit-'));
  root = join(base, 'root');
  if (!ready) return;
  await buildBusybox(root, base);
}, 120_000);

afterAll(async () => {
  if (ready) await skiff(root, 'rm', '-f', 'lc', 'lrun');
  rmSync(base, { recursive: true, force: true });
});

it.skipIf(!ready)('skiff commit [-a] [-m] [-c]... CONTAINER REPO:TAG prints the image id; the image runs with the file and the change', async () => {
  const r = await skiff(root, 'run', '--name', 'lc', 'bb:1', 'sh', '-c', 'echo hi > /f');
  expect(r.code, r.stderr).toBe(0);
  const c = await skiff(root, 'commit', '-a', 'me', '-m', 'msg', '-c', 'CMD ["cat", "/f"]', '-c', 'ENV X=1', '-p=false', 'lc', 'committed:1');
  expect(c, c.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^sha256:[a-f0-9]{64}\n$/) });
  const out = await skiff(root, 'run', '--rm', 'committed:1');
  expect(out, out.stderr).toMatchObject({ code: 0, stdout: 'hi\n' });
  const [img] = JSON.parse((await skiff(root, 'image', 'inspect', 'committed:1')).stdout) as Array<{ Author: string; Config: { Env?: string[] }; History: Array<{ comment?: string; created_by?: string }> }>;
  expect(img!.Author).toBe('me');
  expect(img!.Config.Env).toContain('X=1');
  expect(img!.History.at(-1)).toMatchObject({ comment: 'msg', created_by: 'sh -c echo hi > /f' });

  const bad = await skiff(root, 'commit', '-c', 'RUN true', 'lc');
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toContain('run is not a valid change command');
  const none = await skiff(root, 'commit', 'nope');
  expect(none.code).not.toBe(0);
  expect(none.stderr).toContain('No such container: nope');
  expect((await skiff(root, 'commit')).code).toBe(1);
  expect((await skiff(root, 'commit', 'lc', 'a:1', 'b:1')).code).toBe(1);

  // A container running under another command: found again, paused for the commit and running after.
  const d = await skiff(root, 'run', '-d', '--name', 'lrun', 'bb:1', 'sh', '-c', 'echo up > /up; exec sleep 300');
  expect(d.code, d.stderr).toBe(0);
  for (let i = 0; i < 50 && (await skiff(root, 'exec', 'lrun', 'cat', '/up')).stdout !== 'up\n'; i++) await new Promise((res) => setTimeout(res, 100));
  const live = await skiff(root, 'commit', 'lrun', 'committed:live');
  expect(live, live.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^sha256:/) });
  expect((await skiff(root, 'run', '--rm', 'committed:live', 'cat', '/up')).stdout).toBe('up\n');
  const [rec] = JSON.parse((await skiff(root, 'container', 'inspect', 'lrun')).stdout) as Array<{ state: { status: string; paused?: boolean } }>;
  expect(rec!.state).toMatchObject({ status: 'running' });
  expect(rec!.state.paused).toBeUndefined();
  expect((await skiff(root, 'exec', 'lrun', 'echo', 'still here')).stdout).toBe('still here\n');
  await skiff(root, 'rm', '-f', 'lrun');
});

it('WASI: a container that ran in an earlier command cannot be committed (its layer is gone); a created one can', async () => {
  expect((await skiff(root, 'run', '--name', 'wran', 'skiff/toolbox', 'sh', '-c', 'echo hi > /f')).code).toBe(0);
  const gone = await skiff(root, 'commit', 'wran', 'wasm-commit:1');
  expect(gone.code).not.toBe(0);
  expect(gone.stderr).toContain('the changes of container wran lived in the memory of the process that ran it');
  expect((await skiff(root, 'create', '--name', 'wmade', 'skiff/toolbox', 'true')).code).toBe(0);
  const c = await skiff(root, 'commit', '-c', 'CMD ["echo", "from the change"]', 'wmade', 'wasm-commit:2');
  expect(c, c.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^sha256:/) });
  expect((await skiff(root, 'run', '--rm', 'wasm-commit:2')).stdout).toBe('from the change\n');
  await skiff(root, 'rm', '-f', 'wran', 'wmade');
});

it.skipIf(!ready)('an image committed from another holds it: rmi by ID is refused, rmi of its last name keeps it for images -a only, and it goes with its last child', async () => {
  const idOf = async (name: string) => (JSON.parse((await skiff(root, 'image', 'inspect', name)).stdout) as Array<{ Id: string }>)[0]!.Id;
  expect((await skiff(root, 'run', '--name', 'lp', 'bb:1', 'sh', '-c', 'echo p > /p')).code).toBe(0);
  expect((await skiff(root, 'commit', 'lp', 'parent:9')).code).toBe(0);
  expect((await skiff(root, 'run', '--name', 'lch', 'parent:9', 'sh', '-c', 'echo c > /c')).code).toBe(0);
  expect((await skiff(root, 'commit', 'lch', 'child:9')).code).toBe(0);
  expect((await skiff(root, 'rm', 'lp', 'lch')).code).toBe(0);
  const parent = await idOf('parent:9');
  const byId = await skiff(root, 'rmi', '-f', parent.slice(7, 19));
  expect(byId.code).toBe(1);
  expect(byId.stderr).toContain(`conflict: unable to delete ${parent.slice(7, 19)} (cannot be forced) - image has dependent child images`);
  expect(await skiff(root, 'rmi', 'parent:9')).toMatchObject({ code: 0, stdout: 'Untagged: parent:9\n' });
  expect((await skiff(root, 'images', '-q', '--no-trunc')).stdout.split('\n')).not.toContain(parent);
  expect((await skiff(root, 'images', '-a', '-q', '--no-trunc')).stdout.split('\n')).toContain(parent);
  expect((await skiff(root, 'run', '--rm', 'child:9', 'cat', '/p', '/c')).stdout).toBe('p\nc\n');
  const gone = await skiff(root, 'rmi', 'child:9');
  expect(gone.code, gone.stderr).toBe(0);
  expect(gone.stdout).toContain(`Deleted: ${parent}`);
  expect((await skiff(root, 'images', '-a', '-q', '--no-trunc')).stdout.split('\n')).not.toContain(parent);
}, 60_000);
