/**
 * dockerode (unversioned paths, `true`/`false` booleans, the create body
 * repeated in the query, plain and hijacked exec) against `skiff daemon`.
 */
import { PassThrough, type Duplex } from 'node:stream';
import { rmSync } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonProcess } from './support/harness.js';

const IMG = 'skiff-test/host';
let d: DaemonProcess;
let docker: Docker;

beforeAll(async () => {
  d = await startDaemon();
  docker = new Docker({ socketPath: d.socket });
});

afterAll(async () => {
  if (!d) return;
  try {
    for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  } finally {
    await d.stop();
  }
  rmSync(d.root, { recursive: true, force: true });
});

/** Splits a multiplexed stream with dockerode's own demuxer. */
function demux(stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve({ stdout, stderr }));
    stream.on('close', () => resolve({ stdout, stderr }));
    stream.on('error', reject);
  });
}

describe('dockerode against skiff daemon', () => {
  it('ping, version, info', async () => {
    expect(String(await docker.ping())).toBe('OK');
    const v = await docker.version();
    expect(v.ApiVersion).toBe('1.50');
    const info = await docker.info();
    expect(info.OperatingSystem).toBe('skiff');
  });

  it('lists and inspects images; a missing image is a 404', async () => {
    const images = await docker.listImages();
    expect(images.some((i) => i.RepoTags?.includes('skiff-test/host:latest'))).toBe(true);
    const img = await docker.getImage('skiff-test/host:latest').inspect();
    expect(img.Config.Cmd).toEqual(['sh']);
    await expect(docker.getImage('nothing/here:1').inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('create (body repeated in the query), start, wait, logs', async () => {
    const c = await docker.createContainer({ Image: IMG, Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 5'], Labels: { suite: 'dockerode' }, name: 'dockerode-1' });
    await c.start();
    const status = await c.wait();
    expect(status.StatusCode).toBe(5);
    const logs = await c.logs({ stdout: true, stderr: true, follow: true });
    const out = await demux(logs as unknown as NodeJS.ReadableStream);
    expect(out).toEqual({ stdout: 'out\n', stderr: 'err\n' });
    const list = await docker.listContainers({ all: true, filters: { label: ['suite=dockerode'] } });
    expect(list.map((x) => x.Names[0])).toEqual(['/dockerode-1']);
    expect(list[0]!.State).toBe('exited');
    const info = await c.inspect();
    expect(info.State.ExitCode).toBe(5);
    expect(info.Name).toBe('/dockerode-1');
    await c.remove();
    await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('attach (hijacked) before start sees all output and passes stdin', async () => {
    const c = await docker.createContainer({ Image: IMG, Cmd: ['sh', '-c', 'echo first; cat; echo last'], OpenStdin: true, StdinOnce: true, AttachStdin: true });
    const stream = (await c.attach({ stream: true, stdout: true, stderr: true, stdin: true, hijack: true })) as unknown as Duplex;
    const result = demux(stream);
    await c.start();
    stream.write('piped in\n');
    stream.end();
    expect((await result).stdout).toBe('first\npiped in\nlast\n');
    expect((await c.wait()).StatusCode).toBe(0);
    await c.remove();
  });

  it('exec: plain POST (as testcontainers) and hijacked with stdin; inspect has the exit code', async () => {
    const c = await docker.createContainer({ Image: IMG, Cmd: ['sleep', '60'] });
    await c.start();
    const e1 = await c.exec({ Cmd: ['sh', '-c', 'echo plain; echo plain-err >&2; exit 3'], AttachStdout: true, AttachStderr: true });
    const s1 = await e1.start({ Detach: false, Tty: false, stdin: true } as never);
    expect(await demux(s1 as unknown as NodeJS.ReadableStream)).toEqual({ stdout: 'plain\n', stderr: 'plain-err\n' });
    expect((await e1.inspect()).ExitCode).toBe(3);
    const e2 = await c.exec({ Cmd: ['sh', '-c', 'tr a-z A-Z'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const s2 = (await e2.start({ hijack: true, stdin: true })) as unknown as Duplex;
    const r2 = demux(s2);
    s2.end('shout\n');
    expect((await r2).stdout).toBe('SHOUT\n');
    const i2 = await e2.inspect();
    expect(i2).toMatchObject({ Running: false, ExitCode: 0 });
    await c.stop({ t: 0 });
    expect((await c.inspect()).State.Running).toBe(false);
    await c.remove({ v: true });
  });

  it('volumes: create, list, inspect, remove', async () => {
    const v = await docker.createVolume({ Name: 'dv1', Labels: { a: '1' } });
    expect(v.name).toBe('dv1');
    const list = await docker.listVolumes({ filters: { label: ['a=1'] } });
    expect(list.Volumes.map((x) => x.Name)).toEqual(['dv1']);
    expect((await docker.getVolume('dv1').inspect()).Labels).toEqual({ a: '1' });
    await docker.getVolume('dv1').remove();
    await expect(docker.getVolume('dv1').inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('networks: bridge has a gateway (testcontainers reads it)', async () => {
    const n = await docker.getNetwork('bridge').inspect();
    expect(n.IPAM?.Config?.[0]?.Gateway).toBe('127.0.0.1');
    expect((await docker.listNetworks()).map((x) => x.Name).sort()).toEqual(['bridge', 'host', 'none']);
  });

  it('kill and restart', async () => {
    const c = await docker.createContainer({ Image: IMG, Cmd: ['sleep', '60'] });
    await c.start();
    await c.kill({ signal: 'SIGTERM' });
    expect((await c.wait()).StatusCode).toBe(143);
    await c.restart({ t: 0 });
    expect((await c.inspect()).State.Running).toBe(true);
    await c.remove({ force: true });
  });
});
