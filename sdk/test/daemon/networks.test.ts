/**
 * User-defined networks through `skiff daemon` on the Linux backend, driven
 * by the real docker CLI: network create/ls/inspect/rm, containers that find
 * each other by name and alias, inspect's addresses, and the refusals.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxContext, docker, dockerBinary, shutdownDaemon, startDaemon, type DaemonProcess } from './support/harness.js';

const IMAGE = 'skiff-net/bb:1';
let d: DaemonProcess;
let tmp: string;
const run = (args: string[]) => docker(d.url, args, { env: { DOCKER_BUILDKIT: '0' } });

beforeAll(async () => {
  dockerBinary();
  tmp = mkdtempSync(join(tmpdir(), 'skiff-net-'));
  const ctx = busyboxContext(join(tmp, 'ctx'), ['sh', 'sleep', 'nc', 'echo', 'seq', 'cat', 'ip', 'grep', 'hostname']);
  d = await startDaemon({ backends: ['linux'] });
  const built = await run(['build', '-q', '-t', IMAGE, ctx]);
  if (built.code !== 0) throw new Error(`docker build failed: ${built.stderr}`);
}, 120_000);

afterAll(() => shutdownDaemon(d, tmp));

it('containers on a network reach each other by name and alias; inspect shows the addresses; rm is refused while in use', async () => {
  const created = await run(['network', 'create', '--label', 'suite=net', 'appnet']);
  expect(created.code, created.stderr).toBe(0);
  expect((await run(['network', 'ls', '--filter', 'label=suite=net', '--format', '{{.Name}} {{.Driver}}'])).stdout).toBe('appnet bridge\n');
  const db = await run(['run', '-d', '--name', 'db', '--network', 'appnet', '--network-alias', 'database', IMAGE, 'sh', '-c', 'while true; do echo "db says hi" | nc -l -p 5432; done']);
  expect(db.code, db.stderr).toBe(0);
  const dbIp = (await run(['inspect', '--format', '{{.NetworkSettings.Networks.appnet.IPAddress}}', 'db'])).stdout.trim();
  expect(dbIp).toMatch(/^10\.89\.\d+\.\d+$/);
  for (const name of ['db', 'database']) {
    const r = await run(['run', '--rm', '--network', 'appnet', IMAGE, 'sh', '-c', `for i in $(seq 50); do nc ${name} 5432 </dev/null && exit 0; sleep 0.1; done; exit 1`]);
    expect({ name, code: r.code, out: r.stdout }).toEqual({ name, code: 0, out: 'db says hi\n' });
  }
  const inspect = JSON.parse((await run(['network', 'inspect', 'appnet'])).stdout) as Array<{ IPAM: { Config: Array<{ Subnet: string }> }; Containers: Record<string, { Name: string; IPv4Address: string }> }>;
  expect(Object.values(inspect[0]!.Containers)).toEqual([expect.objectContaining({ Name: 'db', IPv4Address: `${dbIp}/24` })]);
  expect(inspect[0]!.IPAM.Config[0]!.Subnet).toMatch(/^10\.89\.\d+\.0\/24$/);
  const busy = await run(['network', 'rm', 'appnet']);
  expect(busy.code).not.toBe(0);
  expect(busy.stderr).toContain('has active endpoints');
  expect((await run(['rm', '-f', 'db'])).code).toBe(0);
  expect((await run(['network', 'rm', 'appnet'])).code).toBe(0);
  expect((await run(['network', 'ls', '-q', '--filter', 'name=appnet'])).stdout).toBe('');
});

it('two networks stay apart, a stopped container can be connected, and bad requests fail clearly', async () => {
  expect((await run(['network', 'create', 'left'])).code).toBe(0);
  expect((await run(['network', 'create', 'right'])).code).toBe(0);
  expect((await run(['network', 'create', 'left'])).stderr).toContain('already exists');
  expect((await run(['run', '-d', '--name', 'l1', '--network', 'left', IMAGE, 'sh', '-c', 'while true; do echo left | nc -l -p 80; done'])).code).toBe(0);
  const apart = await run(['run', '--rm', '--network', 'right', IMAGE, 'sh', '-c', 'nc -w 1 l1 80 </dev/null; echo "rc=$?"']);
  expect(apart.stdout).toMatch(/rc=[1-9]/);
  const lIp = (await run(['inspect', '--format', '{{.NetworkSettings.Networks.left.IPAddress}}', 'l1'])).stdout.trim();
  const byIp = await run(['run', '--rm', '--network', 'right', IMAGE, 'sh', '-c', `nc -w 1 ${lIp} 80 </dev/null; echo "rc=$?"`]);
  expect(byIp.stdout).toMatch(/rc=[1-9]/);
  expect((await run(['create', '--name', 'late', IMAGE, 'sh', '-c', 'nc l1 80 </dev/null'])).code).toBe(0);
  expect((await run(['network', 'connect', 'left', 'late'])).code).toBe(0);
  const late = await run(['start', '-a', 'late']);
  expect(late.stdout).toBe('left\n');
  expect((await run(['run', '--rm', '--network', 'nowhere', IMAGE, 'true'])).stderr).toContain('network nowhere not found');
  expect((await run(['network', 'rm', 'bridge'])).stderr).toContain('pre-defined');
  expect((await run(['rm', '-f', 'l1', 'late'])).code).toBe(0);
  expect((await run(['network', 'rm', 'left', 'right'])).code).toBe(0);
});
