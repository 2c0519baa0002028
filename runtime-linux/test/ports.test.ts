/** Published ports (-p): a host port reaches the container's loopback through the proxy, and goes with the container. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, connect } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync, rmSync } from 'node:fs';
import { busyboxLayer, CI, missingPrerequisite, requireTool, tempDir, udpEchoLayer } from './fixtures.js';
import { Harness, startRunning } from './harness.js';
import { findHelper } from '../src/process/helper.js';

const why = missingPrerequisite();
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);
const whyUdp = why ?? (requireTool('cc', 'gcc') ? undefined : 'no C compiler for the UDP echo server (apt-get install gcc)');
if (whyUdp && CI) throw new Error(`the UDP port tests cannot run on CI: ${whyUdp}`);

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

/**
 * A UDP client connected to host:port, for test/udp-echo.c, which answers
 * "PEER PAYLOAD" (PEER: the address the container saw). ask() resends every
 * 200 ms until its own payload comes back, since the server may not be bound
 * yet and a datagram can be lost; it resolves with PEER.
 */
async function udpClient(port: number, host = '127.0.0.1') {
  const s: Socket = createSocket('udp4');
  await new Promise<void>((r) => s.connect(port, host, () => r()));
  const waiting = new Map<string, (peer: string) => void>();
  const others: string[] = [];
  s.on('message', (m) => {
    const text = m.toString();
    const space = text.indexOf(' ');
    const payload = text.slice(space + 1);
    const w = waiting.get(payload);
    if (w) w(text.slice(0, space));
    else if (!payload.startsWith('retry:')) others.push(payload);
  });
  return {
    /** Payloads that came back to this client although it did not ask for them (another client's). */
    others,
    ask(payload: string, ms = 5000): Promise<string> {
      return new Promise((resolve, reject) => {
        const timer = setInterval(() => s.send(payload), 200);
        const give = setTimeout(() => { done(); reject(new Error(`no UDP reply to ${payload.slice(0, 20)} from ${host}:${port}`)); }, ms);
        const done = () => { clearInterval(timer); clearTimeout(give); waiting.delete(payload); };
        waiting.set(payload, (peer) => { done(); resolve(peer); });
        s.send(payload);
      });
    },
    close: () => s.close(),
  };
}

/** Whether a UDP port on 127.0.0.1 is free (nothing publishes it any more). */
function udpPortFree(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => { s.close(); resolve(false); });
    s.bind(port, '127.0.0.1', () => { s.close(); resolve(true); });
  });
}

describe.skipIf(!!whyUdp)('linux backend: published UDP ports', () => {
  let h: Harness;
  let scratch: string;
  beforeAll(async () => {
    scratch = tempDir('skiff-udp-echo-');
    h = await Harness.open({}, [await busyboxLayer(), await udpEchoLayer(scratch)]);
  });
  afterAll(async () => {
    const leaks = await h?.close();
    rmSync(scratch, { recursive: true, force: true });
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
  });

  it('relays each client through its own flow, with TCP on the same port number beside it, and closes with the container', async () => {
    const c = await h.create('udp-echo 7000 & while true; do nc -l -p 7000 -e cat; done', {
      ports: [
        { containerPort: 7000, protocol: 'udp', hostIp: '127.0.0.1', hostPort: 0 },
        { containerPort: 7000, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0 },
      ],
    });
    const run = await startRunning(c);
    const [udp, tcp] = c.publishedPorts!;
    expect(udp).toMatchObject({ containerPort: 7000, protocol: 'udp', hostIp: '127.0.0.1' });
    expect(tcp).toMatchObject({ containerPort: 7000, protocol: 'tcp' });
    expect(udp!.hostPort).toBeGreaterThan(0);
    const a = await udpClient(udp!.hostPort);
    const b = await udpClient(udp!.hostPort);
    try {
      const [peerA, peerB] = await Promise.all([a.ask('retry:a'), b.ask('retry:b')]);
      // The container sees each client as its own peer on its loopback.
      expect(peerA).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(peerB).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(peerA).not.toBe(peerB);
      // Both at once, interleaved: each reply goes to its own client, through the same flow as before.
      const asks = Array.from({ length: 40 }, (_, i) => (i % 2 ? a.ask(`a${i}`) : b.ask(`b${i}`)).then((peer) => ({ i, peer })));
      for (const { i, peer } of await Promise.all(asks)) expect(peer).toBe(i % 2 ? peerA : peerB);
      expect(a.others).toEqual([]);
      expect(b.others).toEqual([]);
      // A datagram near the 64 KiB limit goes whole.
      const big = `big${'x'.repeat(60_000)}end`;
      expect(await a.ask(big)).toBe(peerA);
      // TCP on the same port number still works beside it.
      expect((await eventually(() => roundTrip(tcp!.hostPort, 'tcp\n').then((r) => (r.length ? r : Promise.reject(new Error('empty')))))).toString()).toBe('tcp\n');
    } finally {
      a.close();
      b.close();
      await c.kill('SIGKILL');
      await run.done;
    }
    await eventually(async () => expect(await udpPortFree(udp!.hostPort)).toBe(true));
    await c.remove();
  });

  it('closes idle flows, keeps at most --udp-flows per port, and answers a wildcard port from the address the client used', async () => {
    const c = await h.create('exec udp-echo 7000');
    const run = await startRunning(c);
    // The proxy itself, with a short idle time and a cap of 2, against the container's process.
    const proxy = spawn(findHelper(), ['proxy', '--pid', String(c.pid), '--map', '0.0.0.0:0:7000/udp', '--udp-idle', '1', '--udp-flows', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => proxy.on('exit', (code) => r(code)));
    let out = '';
    proxy.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    await eventually(async () => expect(out).toContain('ready'));
    const port = Number(/^0\.0\.0\.0:(\d+)$/m.exec(out)![1]);
    // The proxy's sockets beyond those it had before any client (its host socket, its stderr): one per open flow.
    const sockets = () => readdirSync(`/proc/${proxy.pid}/fd`).filter((fd) => readlinkSync(`/proc/${proxy.pid}/fd/${fd}`).startsWith('socket:')).length;
    const before = sockets();
    const flows = () => sockets() - before;
    const clients = [await udpClient(port), await udpClient(port), await udpClient(port, '127.0.0.2')];
    try {
      const first = await clients[0]!.ask('retry:one');
      expect(flows()).toBe(1);
      await clients[1]!.ask('two');
      expect(flows()).toBe(2);
      // Sent to 127.0.0.2: the reply must come from 127.0.0.2, or the connected client drops it.
      await clients[2]!.ask('three');
      expect(flows()).toBe(2); // the most idle flow (the first client's) made room
      // The first client is served again, through a new flow: the container sees a new peer.
      expect(await clients[0]!.ask('one again')).not.toBe(first);
      expect(flows()).toBe(2);
      // Without traffic for the idle time (1 s), every flow closes.
      await eventually(async () => expect(flows()).toBe(0), 4000);
    } finally {
      for (const cl of clients) cl.close();
      await c.kill('SIGKILL');
      await run.done;
    }
    try {
      expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 5000))])).toBe(0); // it ended with the container
    } finally {
      proxy.kill('SIGKILL');
      await c.remove();
    }
  });

  it('publishes a range of a hundred ports, TCP and UDP', async () => {
    const ports = Array.from({ length: 100 }, (_, i) => ({ containerPort: 7000 + (i >> 1), protocol: i % 2 ? 'udp' as const : 'tcp' as const, hostIp: '127.0.0.1', hostPort: 0 }));
    const c = await h.create('exec udp-echo 7049', { ports });
    const run = await startRunning(c);
    try {
      const published = c.publishedPorts!;
      expect(published.map(({ containerPort, protocol }) => ({ containerPort, protocol }))).toEqual(ports.map(({ containerPort, protocol }) => ({ containerPort, protocol })));
      expect(new Set(published.filter((p) => p.protocol === 'udp').map((p) => p.hostPort)).size).toBe(50);
      expect(published.every((p) => p.hostPort > 0)).toBe(true);
      const last = await udpClient(published[99]!.hostPort);
      try {
        expect(await last.ask('retry:the last one')).toMatch(/^127\.0\.0\.1:\d+$/);
      } finally {
        last.close();
      }
    } finally {
      await c.kill('SIGKILL');
      await run.done;
    }
    await c.remove();
  });

  it('refuses a UDP host port that is taken', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    try {
      const c = await h.create('sleep 30', { ports: [{ containerPort: 53, protocol: 'udp', hostIp: '127.0.0.1', hostPort: taken.address().port }] });
      await expect(startRunning(c)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already in use') });
      expect((await c.wait()).exitCode).not.toBe(0);
      await c.remove();
    } finally {
      taken.close();
    }
  });
});
