/** User-defined networks on the Linux backend: a bridge, an address per container, peers by name, nothing beyond. */
import { describe, it, expect, beforeAll, afterAll, onTestFinished } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { BackendContainer } from '@skiff/sdk';
import { connect } from 'node:net';
import { CI, missingPrerequisite, sink } from './fixtures.js';
import { Harness, startRunning } from './harness.js';

const why = missingPrerequisite();
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);

const BRIDGE = `br-sktest${process.pid % 100000}`;
const BRIDGE2 = `br-sktesu${process.pid % 100000}`;
const net = (ip: string) => ({ name: 'testnet', bridge: BRIDGE, ip, prefixLength: 24, gateway: '10.89.250.1' });
const net2 = (ip: string) => ({ name: 'testnet2', bridge: BRIDGE2, ip, prefixLength: 24, gateway: '10.89.251.1' });
/** The host ends of the veths on a bridge. */
const portsOf = (bridge: string) => execFileSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' }).split('\n').filter(Boolean).length;

/** Runs `sh -c line` in a running container; its output. */
async function execIn(c: BackendContainer, line: string): Promise<string> {
  const out = sink();
  const p = await c.exec({ args: ['sh', '-c', line], env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], cwd: '/' }, { stdout: out.stream, stderr: sink().stream });
  await p.wait();
  return out.text();
}
/** Whether the container's own network namespace exists under /run/netns. */
const hasNetns = (id: string) => existsSync('/run/netns') && readdirSync('/run/netns').some((n) => n.startsWith('skiff-') && n.endsWith(`-${id}`));

describe.skipIf(!!why)('linux backend: user-defined networks', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.open();
  });
  afterAll(async () => {
    await h?.backend.removeNetwork({ bridge: BRIDGE });
    await h?.backend.removeNetwork({ bridge: BRIDGE2 });
    const leaks = await h?.close();
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
    expect(existsSync(`/sys/class/net/${BRIDGE}`)).toBe(false);
    expect(existsSync(`/sys/class/net/${BRIDGE2}`)).toBe(false);
  });

  it('containers on a bridge reach each other by address and by the names updateHosts gives; the host reaches them; nothing routes beyond', async () => {
    const server = await h.create('while true; do echo "hello from $(hostname)" | nc -l -p 7400; done', { hostname: 'srv', networks: [net('10.89.250.2')] });
    const running = await startRunning(server);
    // Whatever fails below, the server goes: a leaked one would hold the address for the next run.
    onTestFinished(async () => {
      await server.kill('SIGKILL').catch(() => {});
      await running.done;
      await server.remove().catch(() => {});
    });
    expect(hasNetns(server.id)).toBe(true);
    const client = await h.create('ip -4 addr show eth0 | grep -o "inet [0-9.]*"; ip route; for i in $(seq 50); do nc server 7400 </dev/null && break; sleep 0.1; done; nc -w 1 192.0.2.1 80 </dev/null; echo "outside=$?"', { networks: [net('10.89.250.3')] });
    await client.updateHosts!(['server:10.89.250.2']);
    onTestFinished(async () => { await client.remove().catch(() => {}); });
    const r = await (await startRunning(client)).done;
    expect(r.stdout).toContain('inet 10.89.250.3');
    expect(r.stdout).toContain('10.89.250.0/24 dev eth0');
    expect(r.stdout).not.toContain('default');
    expect(r.stdout).toContain('hello from srv');
    expect(r.stdout).toMatch(/outside=[1-9]/);
    // From the host, through the bridge.
    // The server's nc restarts between connections: retry a refused one.
    const once = () => new Promise<string>((resolve, reject) => {
      const s = connect(7400, '10.89.250.2');
      let text = '';
      s.on('data', (d) => { text += d.toString(); });
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
    let got = '';
    for (let i = 0; i < 50 && !got; i++) got = await once().catch(async () => { await new Promise((res) => setTimeout(res, 100)); return ''; });
    expect(got).toBe('hello from srv\n');
    await client.remove();
    await server.kill('SIGKILL');
    await running.done;
    await server.remove();
    expect(hasNetns(server.id)).toBe(false);
    expect(hasNetns(client.id)).toBe(false);
  });

  it('a running container is connected and disconnected in place: interfaces come and go, the namespace outlives a restart, and with no network left only loopback stays', async () => {
    const server = await h.create('while true; do echo "hello from $(hostname)" | nc -l -p 7401; done', { hostname: 'srv2', networks: [net('10.89.250.12')] });
    const running = await startRunning(server);
    onTestFinished(async () => {
      await server.kill('SIGKILL').catch(() => {});
      await running.done;
      await server.remove().catch(() => {});
    });
    // Started with no network: the helper's own namespace, loopback only.
    const client = await h.create('sleep 1000');
    let run = await startRunning(client);
    onTestFinished(async () => {
      await client.kill('SIGKILL').catch(() => {});
      await run.done;
      await client.remove().catch(() => {});
    });
    const links = (c: BackendContainer) => execIn(c, "ip -o link show | grep -o '^[0-9]*: [a-z0-9]*' | cut -d' ' -f2 | sort | tr '\\n' ' '");
    const reach = (c: BackendContainer) => execIn(c, 'for i in $(seq 30); do nc -w 1 10.89.250.12 7401 </dev/null && exit 0; sleep 0.1; done; echo unreachable');
    expect(await links(client)).toBe('lo ');
    expect(hasNetns(client.id)).toBe(false);

    await client.setNetworks!([net('10.89.250.13')]);
    expect(hasNetns(client.id)).toBe(true);
    expect(await execIn(client, 'ip -4 -o addr show eth0')).toContain('inet 10.89.250.13/24');
    expect(await execIn(client, 'ip -o link show eth0')).toContain('link/ether 02:42:0a:59:fa:0d');
    expect(await reach(client)).toBe('hello from srv2\n');
    expect(portsOf(BRIDGE)).toBe(2);

    // A second network: the next free name, eth1; then the first goes and eth1 stays.
    await client.setNetworks!([net('10.89.250.13'), net2('10.89.251.13')]);
    expect(await links(client)).toBe('eth0 eth1 lo ');
    expect(await execIn(client, 'ip -4 -o addr show eth1')).toContain('inet 10.89.251.13/24');
    await client.setNetworks!([net2('10.89.251.13')]);
    expect(await links(client)).toBe('eth1 lo ');
    expect(portsOf(BRIDGE)).toBe(1);
    expect(await reach(client)).toBe('unreachable\n');

    // Stopped and started again: it joins the same namespace, interfaces and all.
    await client.kill('SIGKILL');
    await run.done;
    run = await startRunning(client);
    expect(await execIn(client, 'ip -4 -o addr show eth1')).toContain('inet 10.89.251.13/24');
    await client.setNetworks!([net2('10.89.251.13'), net('10.89.250.13')]);
    expect(await reach(client)).toBe('hello from srv2\n');

    // No network left: loopback only, the namespace's name gone, nothing on the bridges.
    await client.setNetworks!([]);
    expect(await links(client)).toBe('lo ');
    expect(hasNetns(client.id)).toBe(false);
    expect(portsOf(BRIDGE)).toBe(1);
    expect(portsOf(BRIDGE2)).toBe(0);

    // The server, started on a network, leaves it while it runs.
    await server.setNetworks!([]);
    expect(await links(server)).toBe('lo ');
    expect(hasNetns(server.id)).toBe(false);
    expect(portsOf(BRIDGE)).toBe(0);
  });
});
