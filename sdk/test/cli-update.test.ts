/** `skiff update`: new limits for a running Linux container (its cgroup shows them) and a stopped WASI one; errors as docker prints them. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusybox, linuxReady, skiff } from './support/cli.js';

const ready = linuxReady('the update CLI test');
const V2 = (() => { try { return statfsSync('/sys/fs/cgroup').type === 0x63677270; } catch { return false; } })();

let base: string;
let root: string;

/** <hierarchy>/skiff/<key>/<id>/<file> on the host. */
function cgroupFile(id: string, controller: string, file: string): string {
  const dir = V2 ? '/sys/fs/cgroup/skiff' : `/sys/fs/cgroup/${controller}/skiff`;
  for (const key of readdirSync(dir)) {
    try { return readFileSync(join(dir, key, id, file), 'utf8').trim(); } catch { /* another engine's */ }
  }
  throw new Error(`no ${controller} cgroup for ${id}`);
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'skiff-cli-update-'));
  root = join(base, 'root');
  if (!ready) return;
  await buildBusybox(root, base);
}, 120_000);

afterAll(async () => {
  if (ready) await skiff(root, 'rm', '-f', 'lim');
  rmSync(base, { recursive: true, force: true });
});

it.skipIf(!ready)('update a running Linux container: the names printed, the cgroup and inspect changed; errors per container', async () => {
  const r = await skiff(root, 'run', '-d', '--name', 'lim', '-m', '64m', 'bb:1', 'sleep', '300');
  expect(r.code, r.stderr).toBe(0);
  const id = r.stdout.trim();
  const u = await skiff(root, 'update', '--memory', '32m', '--pids-limit', '50', '--cpus', '0.5', '--restart', 'unless-stopped', 'lim');
  expect(u, u.stderr).toMatchObject({ code: 0, stdout: 'lim\n' });
  expect(cgroupFile(id, 'memory', V2 ? 'memory.max' : 'memory.limit_in_bytes')).toBe(String(32 << 20));
  expect(cgroupFile(id, 'pids', 'pids.max')).toBe('50');
  const [rec] = JSON.parse((await skiff(root, 'container', 'inspect', 'lim')).stdout) as Array<{ resources: unknown; restartPolicy: unknown }>;
  expect(rec!.resources).toEqual({ memoryBytes: 32 << 20, pidsLimit: 50, cpus: 0.5 });
  expect(rec!.restartPolicy).toEqual({ name: 'unless-stopped' });
  const bad = await skiff(root, 'update', '--memory', '4m', 'lim', 'nope');
  expect(bad.code).toBe(1);
  expect(bad.stderr).toBe('Error response from daemon: Minimum memory limit allowed is 6MB\nError response from daemon: No such container: nope\n');
  const none = await skiff(root, 'update', 'lim');
  expect(none.code).toBe(1);
  expect(none.stderr).toContain('you must provide one or more flags when using this command');
});

it('update a stopped WASI container: the new memory limit is kept; CPU limits are refused', async () => {
  expect((await skiff(root, 'create', '--name', 'w-upd', '-m', '32m', 'skiff/toolbox', 'true')).code).toBe(0);
  expect(await skiff(root, 'update', '-m', '64m', 'w-upd')).toMatchObject({ code: 0, stdout: 'w-upd\n' });
  const [rec] = JSON.parse((await skiff(root, 'container', 'inspect', 'w-upd')).stdout) as Array<{ resources: unknown }>;
  expect(rec!.resources).toEqual({ memoryBytes: 64 << 20 });
  const cpu = await skiff(root, 'update', '--cpus', '1', 'w-upd');
  expect(cpu.code).toBe(1);
  expect(cpu.stderr).toContain('the wasm backend does not support CPU limits (--cpus)');
  expect((await skiff(root, 'rm', 'w-upd')).code).toBe(0);
});
