/**
 * Published ports through `skiff daemon` on the Linux backend: the real
 * docker CLI's `-p` and `-P`, `docker port`, the PORTS column, and
 * testcontainers' withExposedPorts + an HTTP wait strategy, all reaching a
 * busybox httpd in its own network namespace from the host.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxContext, docker, dockerBinary, shutdownDaemon, startDaemon, type DaemonProcess } from './support/harness.js';

const IMAGE = 'skiff-ports/httpd:1';
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
