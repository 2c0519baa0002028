/**
 * The daemon's own life: containers outlive a client that goes away and the
 * daemon itself; a new daemon on the same root finds them; a stale socket is
 * replaced, a live one is not taken over; and 50 concurrent `docker run --rm`
 * all finish with their own output and leave nothing behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { docker, dockerBinary, startDaemon, type DaemonProcess, removeAllContainers } from './support/harness.js';

const IMG = 'skiff-test/host';
const started: DaemonProcess[] = [];

async function daemonOn(root?: string): Promise<DaemonProcess> {
  const d = await startDaemon(root ? { root } : {});
  started.push(d);
  return d;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  for (const d of started) {
    if (d.child.exitCode === null && d.child.signalCode === null) await removeAllContainers(d.url);
    await d.stop();
  }
  for (const root of new Set(started.map((d) => d.root))) rmSync(root, { recursive: true, force: true });
});

describe('daemon lifecycle', () => {
  it('a container keeps running when its client is killed, and across a daemon restart', async () => {
    const a = await daemonOn();
    // A foreground `docker run` whose client dies.
    const client = spawn(dockerBinary(), ['run', '--name', 'outlives', IMG, 'sh', '-c', 'echo up; sleep 300'], { env: { ...process.env, DOCKER_HOST: a.url } });
    await new Promise<void>((resolve) => client.stdout.on('data', (c: Buffer) => { if (c.toString().includes('up')) resolve(); }));
    client.kill('SIGKILL');
    await new Promise((r) => client.once('exit', r));
    const before = await docker(a.url, ['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', 'outlives']);
    const [status, pidText] = before.stdout.trim().split(' ');
    expect(status).toBe('running');
    const pid = Number(pidText);
    expect(pid).toBeGreaterThan(0);

    // The daemon stops; the container's process does not.
    expect(await a.stop()).toBe(0);
    expect(existsSync(a.socket)).toBe(false);
    expect(alive(pid)).toBe(true);

    const b = await daemonOn(a.root);
    const after = await docker(b.url, ['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', 'outlives']);
    expect(after.stdout.trim()).toBe(`running ${pid}`);
    expect((await docker(b.url, ['ps', '--format', '{{.Names}}'])).stdout.trim()).toBe('outlives');
    const stop = await docker(b.url, ['stop', '-t', '1', 'outlives']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(alive(pid)).toBe(false);
    expect((await docker(b.url, ['inspect', '--format', '{{.State.Status}}', 'outlives'])).stdout.trim()).toBe('exited');
    expect((await docker(b.url, ['rm', 'outlives'])).code).toBe(0);
    await b.stop();
  });

  it('replaces a stale socket, and refuses to take over a live one', async () => {
    const a = await daemonOn();
    // SIGKILL leaves the socket file behind.
    process.kill(a.pid, 'SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    expect(existsSync(a.socket)).toBe(true);
    const b = await daemonOn(a.root);
    expect((await docker(b.url, ['version', '--format', '{{.Server.Version}}'])).code).toBe(0);
    await expect(startDaemon({ root: a.root })).rejects.toThrow(/another daemon is already listening on/);
    expect((await docker(b.url, ['info', '--format', '{{.OperatingSystem}}'])).stdout.trim()).toBe('skiff');
    await b.stop();
  });

  it('50 concurrent docker run --rm all finish with their own output and leak nothing', async () => {
    const d = await daemonOn();
    const fds = () => readdirSync(`/proc/${d.pid}/fd`).length;
    // Warm up, then count the daemon's file descriptors.
    expect((await docker(d.url, ['run', '--rm', IMG, 'true'])).code).toBe(0);
    const fdsBefore = fds();
    const runs = Array.from({ length: 50 }, (_, i) =>
      docker(d.url, ['run', '--rm', '-e', `N=${i}`, IMG, 'sh', '-c', 'echo "run $N"; echo "err $N" >&2; exit $((N % 7))'], { timeoutMs: 180_000 }));
    const results = await Promise.all(runs);
    results.forEach((r, i) => {
      expect({ i, code: r.code, out: r.stdout, err: r.stderr }).toEqual({ i, code: i % 7, out: `run ${i}\n`, err: `err ${i}\n` });
    });
    expect((await docker(d.url, ['ps', '-aq'])).stdout.trim()).toBe('');
    // Nothing left: no records, no backend state, no processes started in the root.
    expect(readdirSync(join(d.root, 'containers'))).toEqual([]);
    expect(readdirSync(join(d.root, 'backends', 'host'))).toEqual([]);
    const inRoot = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/cwd`).startsWith(d.root);
      } catch {
        return false;
      }
    });
    expect(inRoot).toEqual([]);
    // Connections are all closed again (a few descriptors of slack for timers and the like).
    await new Promise((r) => setTimeout(r, 200));
    expect(fds()).toBeLessThanOrEqual(fdsBefore + 2);
    await d.stop();
  }, 240_000);
});
