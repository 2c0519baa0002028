/** Published ports (-p): a host port reaches the container's loopback through the proxy, and goes with the container. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { CI, missingPrerequisite } from './fixtures.js';
import { Harness, startRunning } from './harness.js';

const why = missingPrerequisite();
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);

/** Sends `text` to 127.0.0.1:port, half-closes, and resolves with everything the peer sent back. */
function roundTrip(port: number, text: string | Buffer, host = '127.0.0.1'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host, () => s.end(text));
    const chunks: Buffer[] = [];
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

async function eventually<T>(fn: () => Promise<T>, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function proxiesOf(pid: number): boolean {
  return Boolean(spawnSync('pgrep', ['-f', `proxy --pid ${pid} `]).stdout.toString().trim());
}

describe.skipIf(!!why)('linux backend: published ports and shared network namespaces', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.open();
  });
  afterAll(async () => {
    const leaks = await h?.close();
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
  });

  it('forwards a kernel-picked host port to the container and back, both ways and in bulk', async () => {
    // busybox nc echoes what it gets back through `cat`, once per connection.
    const c = await h.create('while true; do nc -l -p 7000 -e cat; done', { ports: [{ containerPort: 7000, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0 }] });
    const run = await startRunning(c);
    const published = c.publishedPorts!;
    expect(published).toHaveLength(1);
    expect(published[0]!.hostPort).toBeGreaterThan(0);
    const port = published[0]!.hostPort;
    const pid = c.pid!;
    expect(proxiesOf(pid)).toBe(true);
    expect((await eventually(() => roundTrip(port, 'ping\n').then((b) => (b.length ? b : Promise.reject(new Error('empty')))))).toString()).toBe('ping\n');
    const big = Buffer.alloc(4 << 20, 'x');
    big.write('start', 0);
    big.write('end', big.length - 3);
    const back = await eventually(() => roundTrip(port, big).then((b) => (b.length ? b : Promise.reject(new Error('empty')))));
    expect(back.equals(big)).toBe(true);
    await c.kill('SIGKILL');
    await run.done;
    // The proxy ends with the container: the port closes.
    await eventually(async () => {
      await expect(roundTrip(port, 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    });
    expect(proxiesOf(pid)).toBe(false);
    await c.remove();
  });

  it('refuses a host port that is taken, and the container does not stay running', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const c = await h.create('sleep 30', { ports: [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: port }] });
      await expect(startRunning(c)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already in use') });
      expect((await c.wait()).exitCode).not.toBe(0);
      await c.remove();
    } finally {
      taken.close();
    }
  });

  it('refuses UDP at create with a clear error', async () => {
    await expect(h.create('true', { ports: [{ containerPort: 53, protocol: 'udp', hostIp: '', hostPort: 0 }] })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('UDP') });
  });

  it('publishes nothing for a process that ends at once, without an error', async () => {
    const c = await h.create('true', { ports: [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0 }] });
    const run = await startRunning(c);
    expect((await run.done).exitCode).toBe(0);
    await c.remove();
  });


  it('a second container reaches the first one on their shared loopback, by an --add-host name', async () => {
    const server = await h.create('while true; do echo "from the server" | nc -l -p 7100; done');
    const running = await startRunning(server);
    const client = await h.create('for i in $(seq 50); do nc server 7100 </dev/null && exit 0; sleep 0.1; done; exit 1', {
      joinNetworkOf: { id: server.id, pid: server.pid! },
      extraHosts: ['server:127.0.0.1'],
    });
    const out = await startRunning(client);
    const r = await out.done;
    expect(r.stdout).toBe('from the server\n');
    expect(r.exitCode).toBe(0);
    await client.remove();
    await server.kill('SIGKILL');
    await running.done;
    // The network's owner is gone: a start that would join it is refused.
    const late = await h.create('true', { joinNetworkOf: { id: server.id, pid: 999_999 } });
    await expect(startRunning(late)).rejects.toMatchObject({ code: 'CONFLICT' });
    await late.remove();
    await server.remove();
  });
});
