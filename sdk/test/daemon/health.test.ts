/**
 * Health checks and restart policies through `skiff daemon` on the Linux
 * backend: docker's --health-* flags, State.Health in inspect, `(healthy)` in
 * ps, an unhealthy container, testcontainers' Wait.forHealthCheck(), and
 * --restart on-failure.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxContext, docker, dockerBinary, shutdownDaemon, startDaemon, type DaemonProcess } from './support/harness.js';

const IMAGE = 'skiff-health/bb:1';
let d: DaemonProcess;
let tmp: string;
const run = (args: string[]) => docker(d.url, args, { env: { DOCKER_BUILDKIT: '0' } });

async function healthOf(name: string, until: string): Promise<string> {
  let status = '';
  for (let i = 0; i < 100 && status !== until; i++) {
    status = (await run(['inspect', '--format', '{{.State.Health.Status}}', name])).stdout.trim();
    if (status !== until) await new Promise((r) => setTimeout(r, 100));
  }
  // On a mismatch, the whole State.Health says why.
  return status === until ? status : `${status}: ${(await run(['inspect', '--format', '{{json .State.Health}}', name])).stdout}`;
}

beforeAll(async () => {
  dockerBinary();
  tmp = mkdtempSync(join(tmpdir(), 'skiff-health-'));
  const ctx = busyboxContext(join(tmp, 'ctx'), ['sh', 'sleep', 'touch', 'test', 'cat', 'false']);
  d = await startDaemon({ backends: ['linux'] });
  const built = await run(['build', '-q', '-t', IMAGE, ctx]);
  if (built.code !== 0) throw new Error(`docker build failed: ${built.stderr}`);
}, 120_000);

afterAll(() => shutdownDaemon(d, tmp));

it('--health-cmd: starting, then healthy once the check passes; inspect and ps show it', async () => {
  const r = await run(['run', '-d', '--name', 'ready-later', '--health-cmd', 'test -f /tmp/ready', '--health-interval', '100ms', '--health-retries', '50', IMAGE, 'sh', '-c', 'sleep 1; touch /tmp/ready; sleep 60']);
  expect(r.code, r.stderr).toBe(0);
  expect((await run(['inspect', '--format', '{{.State.Health.Status}}', 'ready-later'])).stdout.trim()).toBe('starting');
  expect(await healthOf('ready-later', 'healthy')).toBe('healthy');
  const log = JSON.parse((await run(['inspect', '--format', '{{json .State.Health}}', 'ready-later'])).stdout) as { FailingStreak: number; Log: Array<{ ExitCode: number }> };
  expect(log.FailingStreak).toBe(0);
  expect(log.Log.at(-1)!.ExitCode).toBe(0);
  expect(log.Log.some((l) => l.ExitCode === 1)).toBe(true);
  expect((await run(['ps', '--filter', 'name=ready-later', '--format', '{{.Status}}'])).stdout).toMatch(/^Up .* \(healthy\)\n$/);
  expect((await run(['rm', '-f', 'ready-later'])).code).toBe(0);
});

it('a check that keeps failing makes the container unhealthy after its retries; a slow one times out', async () => {
  const r = await run(['run', '-d', '--name', 'sick', '--health-cmd', 'false', '--health-interval', '100ms', '--health-retries', '2', IMAGE, 'sleep', '60']);
  expect(r.code, r.stderr).toBe(0);
  expect(await healthOf('sick', 'unhealthy')).toBe('unhealthy');
  const slow = await run(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 5', '--health-interval', '100ms', '--health-timeout', '200ms', '--health-retries', '1', IMAGE, 'sleep', '60']);
  expect(slow.code, slow.stderr).toBe(0);
  expect(await healthOf('slow', 'unhealthy')).toBe('unhealthy');
  const out = (await run(['inspect', '--format', '{{(index .State.Health.Log 0).Output}}', 'slow'])).stdout;
  expect(out).toContain('exceeded timeout');
  expect((await run(['rm', '-f', 'sick', 'slow'])).code).toBe(0);
});

it('testcontainers: Wait.forHealthCheck() waits for healthy', async () => {
  process.env.DOCKER_HOST = d.url;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(IMAGE)
    .withCommand(['sh', '-c', 'sleep 0.5; touch /tmp/ready; sleep 60'])
    .withHealthCheck({ test: ['CMD-SHELL', 'test -f /tmp/ready'], interval: 100, timeout: 1000, retries: 30 })
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(20_000)
    .start();
  try {
    const r = await container.exec(['cat', '/tmp/ready']);
    expect(r.exitCode).toBe(0);
  } finally {
    await container.stop({ timeout: 0 });
  }
});

it('pause stops every process where it is, unpause lets it go on; exec is refused while paused; stop works on a paused container', async () => {
  const r = await run(['run', '-d', '--name', 'ticker', IMAGE, 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done']);
  expect(r.code, r.stderr).toBe(0);
  const count = async () => Number((await run(['exec', 'ticker', 'cat', '/tmp/count'])).stdout.trim());
  for (let i = 0; i < 50 && !(await count()); i++) await new Promise((res) => setTimeout(res, 50));
  expect((await run(['pause', 'ticker'])).code).toBe(0);
  expect((await run(['inspect', '--format', '{{.State.Status}} {{.State.Paused}}', 'ticker'])).stdout.trim()).toBe('paused true');
  expect((await run(['ps', '--filter', 'name=ticker', '--format', '{{.Status}}'])).stdout).toMatch(/\(Paused\)/);
  const refused = await run(['exec', 'ticker', 'true']);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('paused');
  expect((await run(['pause', 'ticker'])).stderr).toContain('already paused');
  // docker info counts it as paused, not running (and names the seccomp profile Linux containers get).
  expect((await run(['info', '--format', '{{.ContainersPaused}} {{.ContainersRunning}} {{.SecurityOptions}}'])).stdout.trim()).toBe('1 0 [name=seccomp,profile=builtin]');
  // While paused the counter stands still (read through docker cp, which needs no process in the container).
  const frozen = async () => {
    const tar = (await run(['cp', 'ticker:/tmp/count', '-'])).stdout;
    return Number(tar.slice(512).split('\n')[0]);
  };
  const f1 = await frozen();
  await new Promise((res) => setTimeout(res, 300));
  expect(await frozen()).toBe(f1);
  expect(f1).toBeGreaterThan(0);
  expect((await run(['unpause', 'ticker'])).code).toBe(0);
  const before = await count();
  await new Promise((res) => setTimeout(res, 400));
  expect(await count()).toBeGreaterThan(before);
  // A paused container still stops.
  expect((await run(['pause', 'ticker'])).code).toBe(0);
  expect((await run(['stop', '-t', '1', 'ticker'])).code).toBe(0);
  expect((await run(['inspect', '--format', '{{.State.Status}}', 'ticker'])).stdout.trim()).toBe('exited');
  expect((await run(['rm', 'ticker'])).code).toBe(0);
});

it('--restart on-failure:2 restarts a failing container twice; the policy and the count show in inspect; --rm conflicts', async () => {
  const r = await run(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', IMAGE, 'sh', '-c', 'echo try; exit 4']);
  expect(r.code, r.stderr).toBe(0);
  let count = '';
  for (let i = 0; i < 100 && count !== '2 exited'; i++) {
    count = (await run(['inspect', '--format', '{{.RestartCount}} {{.State.Status}}', 'flaky'])).stdout.trim();
    if (count !== '2 exited') await new Promise((res) => setTimeout(res, 100));
  }
  expect(count).toBe('2 exited');
  expect((await run(['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'flaky'])).stdout.trim()).toBe('on-failure:2');
  expect((await run(['logs', 'flaky'])).stdout).toBe('try\ntry\ntry\n');
  expect((await run(['run', '--rm', '--restart', 'always', IMAGE, 'true'])).stderr).toContain('--restart and --rm');
  expect((await run(['rm', 'flaky'])).code).toBe(0);
});
