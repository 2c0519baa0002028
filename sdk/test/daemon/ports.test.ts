/**
 * Published ports through `skiff daemon` on the Linux backend: the real
 * docker CLI's `-p` and `-P`, `docker port`, the PORTS column, and
 * testcontainers' withExposedPorts + an HTTP wait strategy, all reaching a
 * busybox httpd in its own network namespace from the host; and UDP ports
 * (`/udp`) reaching a small UDP echo server.
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxContext, docker, dockerBinary, REPO, shutdownDaemon, startDaemon, type DaemonProcess } from './support/harness.js';

const IMAGE = 'skiff-ports/httpd:1';
const UDP_IMAGE = 'skiff-ports/udp-echo:1';
let d: DaemonProcess;
let tmp: string;
const run = (args: string[]) => docker(d.url, args, { env: { DOCKER_BUILDKIT: '0' } });

async function get(url: string): Promise<string> {
  const until = Date.now() + 5000;
  for (;;) {
    try {
      const r = await fetch(url);
      return await r.text();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

beforeAll(async () => {
  dockerBinary();
  tmp = mkdtempSync(join(tmpdir(), 'skiff-ports-'));
  const ctx = busyboxContext(join(tmp, 'ctx'), ['sh', 'httpd', 'sleep', 'echo'], { 'www/index.html': 'hello through a published port\n' }, 'ENV PATH=/bin\nEXPOSE 80\nCMD ["httpd", "-f", "-p", "80", "-h", "/www"]\n');
  d = await startDaemon({ backends: ['linux'] });
  const built = await run(['build', '-q', '-t', IMAGE, ctx]);
  if (built.code !== 0) throw new Error(`docker build failed: ${built.stderr}`);
  // runtime-linux's test UDP echo server (needs gcc): it answers "PEER PAYLOAD".
  const udpCtx = busyboxContext(join(tmp, 'udp'), ['sh'], {}, 'ENV PATH=/bin\nEXPOSE 7000/udp\nCMD ["udp-echo", "7000"]\n');
  execFileSync('cc', ['-O1', '-static', '-o', join(udpCtx, 'rootfs/bin/udp-echo'), join(REPO, 'runtime-linux/test/udp-echo.c')]);
  const builtUdp = await run(['build', '-q', '-t', UDP_IMAGE, udpCtx]);
  if (builtUdp.code !== 0) throw new Error(`docker build failed: ${builtUdp.stderr}`);
}, 120_000);

afterAll(() => shutdownDaemon(d, tmp));

it('docker run -p publishes a port on the host; docker port and ps show it; it closes with the container', async () => {
  const started = await run(['run', '-d', '--name', 'web', '-p', '127.0.0.1::80', IMAGE]);
  expect(started.code, started.stderr).toBe(0);
  const port = await run(['port', 'web', '80']);
  expect(port.code, port.stderr).toBe(0);
  const m = /^127\.0\.0\.1:(\d+)$/.exec(port.stdout.trim());
  expect(m, port.stdout).not.toBeNull();
  const hostPort = Number(m![1]);
  expect(await get(`http://127.0.0.1:${hostPort}/`)).toBe('hello through a published port\n');
  const ps = await run(['ps', '--filter', 'name=web', '--format', '{{.Ports}}']);
  expect(ps.stdout.trim()).toBe(`127.0.0.1:${hostPort}->80/tcp`);
  expect((await run(['rm', '-f', 'web'])).code).toBe(0);
  await expect(fetch(`http://127.0.0.1:${hostPort}/`)).rejects.toThrow();
});

it('docker run -P publishes the ports the image exposes', async () => {
  const started = await run(['run', '-d', '--name', 'web-all', '-P', IMAGE]);
  expect(started.code, started.stderr).toBe(0);
  const port = await run(['port', 'web-all']);
  const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(port.stdout);
  expect(m, port.stdout).not.toBeNull();
  expect(await get(`http://127.0.0.1:${m![1]}/`)).toBe('hello through a published port\n');
  expect((await run(['rm', '-f', 'web-all'])).code).toBe(0);
});

it('a taken host port fails the run with docker\'s exit code and a clear message', async () => {
  const first = await run(['run', '-d', '--name', 'holder', '-p', '127.0.0.1::80', IMAGE]);
  expect(first.code, first.stderr).toBe(0);
  const taken = (await run(['port', 'holder', '80'])).stdout.trim();
  const second = await run(['run', '-d', '--name', 'clash', '-p', `${taken}:80`, IMAGE]);
  expect(second.code).toBe(125);
  expect(second.stderr).toContain('already in use');
  expect((await run(['rm', '-f', 'holder', 'clash'])).code).toBe(0);
});

it('testcontainers: withExposedPorts and an HTTP wait strategy reach the container', async () => {
  process.env.DOCKER_HOST = d.url;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(IMAGE)
    .withExposedPorts(80)
    .withWaitStrategy(Wait.forHttp('/', 80))
    .withStartupTimeout(20_000)
    .start();
  try {
    const url = `http://${container.getHost()}:${container.getMappedPort(80)}/`;
    expect(await get(url)).toBe('hello through a published port\n');
  } finally {
    await container.stop({ timeout: 0 });
  }
});

/** Sends `payload` to 127.0.0.1:port every 200 ms until the echo answers it; resolves with the peer the container saw. */
function udpAsk(port: number, payload: string, ms = 5000): Promise<string> {
  const s = createSocket('udp4');
  let timer: NodeJS.Timeout | undefined;
  let give: NodeJS.Timeout | undefined;
  return new Promise<string>((resolve, reject) => {
    timer = setInterval(() => s.send(payload, port, '127.0.0.1'), 200);
    give = setTimeout(() => reject(new Error(`no UDP reply from 127.0.0.1:${port}`)), ms);
    s.on('message', (m) => {
      const text = m.toString();
      if (text.endsWith(` ${payload}`)) resolve(text.slice(0, -payload.length - 1));
    });
    s.send(payload, port, '127.0.0.1');
  }).finally(() => {
    clearInterval(timer);
    clearTimeout(give);
    s.close();
  });
}

it('UDP: docker run -p .../udp and -P with EXPOSE 7000/udp; docker port, ps and inspect show /udp', async () => {
  const started = await run(['run', '-d', '--name', 'echo-udp', '-p', '127.0.0.1::7000/udp', UDP_IMAGE]);
  expect(started.code, started.stderr).toBe(0);
  const port = await run(['port', 'echo-udp', '7000/udp']);
  const m = /^127\.0\.0\.1:(\d+)$/.exec(port.stdout.trim());
  expect(m, port.stdout + port.stderr).not.toBeNull();
  const hostPort = Number(m![1]);
  // Two clients at once: each gets its own reply, from its own flow.
  const [a, b] = await Promise.all([udpAsk(hostPort, 'from a'), udpAsk(hostPort, 'from b')]);
  expect(a).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(b).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(a).not.toBe(b);
  expect((await run(['port', 'echo-udp', '7000'])).stderr).toContain("No public port '7000'"); // 7000 means 7000/tcp
  const ps = await run(['ps', '--filter', 'name=echo-udp', '--format', '{{.Ports}}']);
  expect(ps.stdout.trim()).toBe(`127.0.0.1:${hostPort}->7000/udp`);
  const inspect = await run(['inspect', '--format', '{{json .NetworkSettings.Ports}} {{json .HostConfig.PortBindings}} {{json .Config.ExposedPorts}}', 'echo-udp']);
  expect(inspect.stdout.trim()).toBe(`{"7000/udp":[{"HostIp":"127.0.0.1","HostPort":"${hostPort}"}]} {"7000/udp":[{"HostIp":"127.0.0.1","HostPort":""}]} {"7000/udp":{}}`);

  const all = await run(['run', '-d', '--name', 'echo-udp-all', '-P', UDP_IMAGE]);
  expect(all.code, all.stderr).toBe(0);
  const allPort = await run(['port', 'echo-udp-all']);
  const n = /^7000\/udp -> 0\.0\.0\.0:(\d+)$/m.exec(allPort.stdout);
  expect(n, allPort.stdout).not.toBeNull();
  expect(await udpAsk(Number(n![1]), 'through -P')).toMatch(/^127\.0\.0\.1:\d+$/);
  expect((await run(['rm', '-f', 'echo-udp', 'echo-udp-all'])).code).toBe(0);
  // The port went with the container: it can be bound again.
  const again = createSocket('udp4');
  await new Promise<void>((resolve, reject) => { again.once('error', reject); again.bind(hostPort, '127.0.0.1', () => resolve()); });
  again.close();
});

it('a port spec with another protocol fails the run with a clear message', async () => {
  const r = await run(['run', '-d', '--name', 'sctp', '-p', '7000:7000/sctp', UDP_IMAGE]);
  expect(r.code).toBe(125);
  expect(r.stderr).toContain('use tcp or udp');
});
