/** User-defined networks on the Linux backend: a bridge, an address per container, peers by name, nothing beyond. */
import { describe, it, expect, beforeAll, afterAll, onTestFinished } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { CI, missingPrerequisite } from './fixtures.js';
import { Harness, startRunning } from './harness.js';

const why = missingPrerequisite();
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);

const BRIDGE = `br-sktest${process.pid % 100000}`;
const net = (ip: string) => ({ name: 'testnet', bridge: BRIDGE, ip, prefixLength: 24, gateway: '10.89.250.1' });
/** Whether the container's own network namespace exists under /run/netns. */
const hasNetns = (id: string) => existsSync('/run/netns') && readdirSync('/run/netns').some((n) => n.startsWith('skiff-') && n.endsWith(`-${id}`));

describe.skipIf(!!why)('linux backend: user-defined networks', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.open();
  });
  afterAll(async () => {
    await h?.backend.removeNetwork({ bridge: BRIDGE });
    const leaks = await h?.close();
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
    expect(existsSync(`/sys/class/net/${BRIDGE}`)).toBe(false);
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
});
