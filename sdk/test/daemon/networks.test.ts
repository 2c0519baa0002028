/**
 * User-defined networks through `skiff daemon` on the Linux backend, driven
 * by the real docker CLI: network create/ls/inspect/rm, containers that find
 * each other by name and alias, inspect's addresses, connect and disconnect
 * of running containers, and the refusals.
 */
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
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

/** A raw API call on the daemon's socket: the status and the body (the CLI shows no status). */
function api(method: string, path: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

it('a running container is connected and disconnected in place: names resolve both ways, then not; inspect and /etc/hosts follow; the refusals are docker\'s', async () => {
  expect((await run(['network', 'create', 'hotnet'])).code).toBe(0);
  const web = await run(['run', '-d', '--name', 'web', '--network', 'hotnet', '--network-alias', 'www', IMAGE, 'sh', '-c', 'while true; do echo web | nc -l -p 80; done']);
  expect(web.code, web.stderr).toBe(0);
  // Started with no network: loopback only, a listener of its own for the way back.
  const roamer = await run(['run', '-d', '--name', 'roamer', IMAGE, 'sh', '-c', 'while true; do echo roamer | nc -l -p 81; done']);
  expect(roamer.code, roamer.stderr).toBe(0);
  const exec = async (name: string, line: string) => (await run(['exec', name, 'sh', '-c', line])).stdout;
  const dial = (host: string, port: number) => `for i in $(seq 30); do nc -w 1 ${host} ${port} </dev/null && exit 0; sleep 0.1; done; echo unreachable`;
  expect(await exec('roamer', 'ip -o link show | grep -c ": eth"')).toBe('0\n');
  expect(await exec('roamer', dial('web', 80))).toBe('unreachable\n');

  const connected = await run(['network', 'connect', '--alias', 'rover', 'hotnet', 'roamer']);
  expect(connected.code, connected.stderr).toBe(0);
  expect(await exec('roamer', dial('web', 80))).toBe('web\n');
  expect(await exec('roamer', dial('www', 80))).toBe('web\n');
  expect(await exec('web', dial('roamer', 81))).toBe('roamer\n');
  expect(await exec('web', dial('rover', 81))).toBe('roamer\n');
  const netId = (await run(['network', 'inspect', '--format', '{{.Id}}', 'hotnet'])).stdout.trim();
  const ep = JSON.parse((await run(['inspect', '--format', '{{json .NetworkSettings.Networks.hotnet}}', 'roamer'])).stdout) as { IPAddress: string; Gateway: string; Aliases: string[]; NetworkID: string };
  expect(ep.IPAddress).toMatch(/^10\.89\.\d+\.\d+$/);
  expect(ep.Gateway).toBe(ep.IPAddress.replace(/\.\d+$/, '.1'));
  expect(ep.Aliases).toEqual(['rover']);
  expect(ep.NetworkID).toBe(netId);
  expect(await exec('roamer', `ip -4 -o addr show | grep -o "inet ${ep.IPAddress.replace(/\./g, '\\.')}/24"`)).toBe(`inet ${ep.IPAddress}/24\n`);
  expect(await exec('web', 'cat /etc/hosts')).toMatch(new RegExp(`^${ep.IPAddress.replace(/\./g, '\\.')}\trover$`, 'm'));
  const members = JSON.parse((await run(['network', 'inspect', '--format', '{{json .Containers}}', 'hotnet'])).stdout) as Record<string, { Name: string }>;
  expect(Object.values(members).map((m) => m.Name).sort()).toEqual(['roamer', 'web']);

  // Twice: dockerd's 403 and message. A host-network container cannot be connected at all.
  const twice = await run(['network', 'connect', 'hotnet', 'roamer']);
  expect(twice.code).not.toBe(0);
  expect(twice.stderr).toContain('endpoint with name roamer already exists in network hotnet');
  expect(await api('POST', '/networks/hotnet/connect', { Container: 'roamer' })).toMatchObject({ status: 403 });
  expect((await run(['run', '-d', '--name', 'hosty', '--network', 'host', IMAGE, 'sleep', '100'])).code).toBe(0);
  const hosty = await run(['network', 'connect', 'hotnet', 'hosty']);
  expect(hosty.code).not.toBe(0);
  expect(hosty.stderr).toContain('cannot be connected to any other network');
  expect(await api('POST', '/networks/hotnet/connect', { Container: 'hosty' })).toMatchObject({ status: 400 });

  const gone = await run(['network', 'disconnect', 'hotnet', 'roamer']);
  expect(gone.code, gone.stderr).toBe(0);
  expect(await exec('roamer', dial('web', 80))).toBe('unreachable\n');
  expect(await exec('roamer', `nc -w 1 ${(await run(['inspect', '--format', '{{.NetworkSettings.Networks.hotnet.IPAddress}}', 'web'])).stdout.trim()} 80 </dev/null; echo "rc=$?"`)).toMatch(/rc=[1-9]/);
  expect(await exec('roamer', 'ip -o link show | grep -c ": eth"')).toBe('0\n');
  expect(await exec('roamer', 'cat /etc/hosts')).not.toMatch(/\b(web|www)\b/);
  expect(await exec('web', 'cat /etc/hosts')).not.toMatch(/\b(roamer|rover)\b/);
  expect((await run(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'roamer'])).stdout).not.toContain('hotnet');
  const again = await run(['network', 'disconnect', 'hotnet', 'roamer']);
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain('container roamer is not connected to network hotnet');
  expect((await run(['rm', '-f', 'web', 'roamer', 'hosty'])).code).toBe(0);
  expect((await run(['network', 'rm', 'hotnet'])).code).toBe(0);
});

it('concurrent connects of running containers get distinct addresses; connect and disconnect are events', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  expect((await run(['network', 'create', 'busy1'])).code).toBe(0);
  expect((await run(['network', 'create', 'busy2'])).code).toBe(0);
  const names = ['p1', 'p2', 'p3', 'p4'];
  for (const n of names) expect((await run(['run', '-d', '--name', n, IMAGE, 'sleep', '100'])).code).toBe(0);
  // Four containers onto one network, p1 onto a second one, and three new ones created there, all at the same time.
  const fresh = ['q1', 'q2', 'q3'];
  const results = await Promise.all([
    ...names.map((n) => run(['network', 'connect', 'busy1', n])),
    run(['network', 'connect', 'busy2', 'p1']),
    ...fresh.map((n) => run(['run', '-d', '--name', n, '--network', 'busy1', IMAGE, 'sleep', '100'])),
  ]);
  for (const r of results) expect(r.code, r.stderr).toBe(0);
  const ips = await Promise.all([...names, ...fresh].map(async (n) => (await run(['inspect', '--format', '{{.NetworkSettings.Networks.busy1.IPAddress}}', n])).stdout.trim()));
  expect(new Set(ips).size).toBe(7);
  for (const ip of ips) expect(ip).toMatch(/^10\.89\.\d+\.\d+$/);
  expect((await run(['inspect', '--format', '{{len .NetworkSettings.Networks}}', 'p1'])).stdout.trim()).toBe('2');
  // Every one has its interface: p4 reaches p1 by name.
  expect(await run(['exec', 'p1', 'sh', '-c', 'ip -o link show | grep -c ": eth"'])).toMatchObject({ stdout: '2\n' });
  expect((await run(['exec', 'p4', 'sh', '-c', 'grep -c p1 /etc/hosts'])).stdout).toBe('1\n');
  expect((await run(['network', 'disconnect', 'busy2', 'p1'])).code).toBe(0);
  const p1 = (await run(['inspect', '--format', '{{.Id}}', 'p1'])).stdout.trim();
  const events = await run(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.container}} {{.Actor.Attributes.name}}']);
  const lines = events.stdout.split('\n').filter((l) => /^(connect|disconnect) /.test(l));
  expect(lines.filter((l) => l.endsWith(' busy2'))).toEqual([`connect ${p1} busy2`, `disconnect ${p1} busy2`]);
  expect(lines.filter((l) => l.endsWith(' busy1'))).toHaveLength(4);
  expect((await run(['rm', '-f', ...names, ...fresh])).code).toBe(0);
  expect((await run(['network', 'rm', 'busy1', 'busy2'])).code).toBe(0);
});
