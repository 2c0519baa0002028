/**
 * `docker cp` into and out of containers through `skiff daemon`, driven by the
 * real docker CLI and by dockerode's putArchive: a Linux busybox container
 * (created, running, exited) and WASI toolbox containers (in-process and in
 * worker threads).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerBinary, removeAllContainers, startDaemon, type DaemonProcess, startWorkerDaemon } from './support/harness.js';
import { connectDocker } from '../../src/client/node-transport.js';

let tmp: string;

beforeAll(() => {
  dockerBinary();
  tmp = mkdtempSync(join(tmpdir(), 'skiff-docker-cp-'));
  writeFileSync(join(tmp, 'local.txt'), 'from the host\n');
  mkdirSync(join(tmp, 'tree/sub'), { recursive: true });
  writeFileSync(join(tmp, 'tree/a'), 'a\n');
  writeFileSync(join(tmp, 'tree/sub/b'), 'b\n');
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function stop(d: DaemonProcess | undefined): Promise<void> {
  if (!d) return;
  await removeAllContainers(d.url);
  await d.stop();
  rmSync(d.root, { recursive: true, force: true });
}

describe('docker cp on the Linux backend', () => {
  const IMAGE = 'skiff-cp/busybox:1';
  let d: DaemonProcess;
  const run = (args: string[], input?: string) => docker(d.url, args, { env: { DOCKER_BUILDKIT: '0' }, ...(input !== undefined ? { input } : {}) });

  beforeAll(async () => {
    const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
    if (!busybox) throw new Error('busybox is missing: install busybox-static (scripts/setup-test-deps.sh does)');
    const ctx = join(tmp, 'ctx');
    mkdirSync(join(ctx, 'rootfs/bin'), { recursive: true });
    mkdirSync(join(ctx, 'rootfs/tmp'), { recursive: true });
    copyFileSync(busybox, join(ctx, 'rootfs/bin/busybox'));
    for (const a of ['sh', 'cat', 'sleep', 'ls', 'stat']) symlinkSync('busybox', join(ctx, 'rootfs/bin', a));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\nCMD ["sh"]\n');
    d = await startDaemon({ backends: ['linux'] });
    const built = await run(['build', '-q', '-t', IMAGE, ctx]);
    if (built.code !== 0) throw new Error(`docker build failed: ${built.stderr}`);
  }, 120_000);
  afterAll(() => stop(d));

  it('docker cp FILE CTR:/dir/ into a created container, then docker start -a reads it', async () => {
    expect((await run(['create', '--name', 'cp-created', IMAGE, 'cat', '/tmp/local.txt'])).code).toBe(0);
    const cp = await run(['cp', join(tmp, 'local.txt'), 'cp-created:/tmp/']);
    expect(cp.code, cp.stderr).toBe(0);
    const started = await run(['start', '-a', 'cp-created']);
    expect(started, started.stderr).toMatchObject({ code: 0, stdout: 'from the host\n' });
    // Copied again into the exited container, onto the file's own name.
    writeFileSync(join(tmp, 'second.txt'), 'second copy\n');
    expect((await run(['cp', join(tmp, 'second.txt'), 'cp-created:/tmp/local.txt'])).code).toBe(0);
    expect((await run(['start', '-a', 'cp-created'])).stdout).toBe('second copy\n');
  }, 60_000);

  it('into a running container: a directory under a new name, DIR/. contents, a tar on stdin; docker exec sees them', async () => {
    expect((await run(['run', '-d', '--name', 'cp-live', IMAGE, 'sleep', '300'])).code).toBe(0);
    expect((await run(['cp', join(tmp, 'tree'), 'cp-live:/tmp/renamed'])).code).toBe(0);
    expect((await run(['cp', `${join(tmp, 'tree')}/.`, 'cp-live:/tmp'])).code).toBe(0);
    const tar = execFileSync('tar', ['-C', tmp, '-cf', '-', 'local.txt']);
    expect((await docker(d.url, ['cp', '-', 'cp-live:/'], { input: tar })).code).toBe(0);
    const ls = await run(['exec', 'cp-live', 'sh', '-c', 'cat /tmp/renamed/a /tmp/renamed/sub/b /tmp/a /tmp/sub/b /local.txt']);
    expect(ls, ls.stderr).toMatchObject({ code: 0, stdout: 'a\nb\na\nb\nfrom the host\n' });
    // And back out: DIR/. into an existing local directory, a file to a new name.
    const out = join(tmp, 'out');
    mkdirSync(out);
    expect((await run(['cp', 'cp-live:/tmp/renamed/.', out])).code).toBe(0);
    expect(readFileSync(join(out, 'sub/b'), 'utf8')).toBe('b\n');
    expect((await run(['cp', 'cp-live:/local.txt', join(tmp, 'back.txt')])).code).toBe(0);
    expect(readFileSync(join(tmp, 'back.txt'), 'utf8')).toBe('from the host\n');
  }, 60_000);

  it('fails like docker: a missing container directory, a directory onto a file', async () => {
    const missing = await run(['cp', join(tmp, 'local.txt'), 'cp-live:/nope/']);
    // The CLI's own refusal (it may also log that it stopped tarring the source meanwhile).
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringMatching(/no such directory\n$/) });
    // The parent is missing: the daemon's 404 for the extraction directory.
    const parent = await run(['cp', join(tmp, 'local.txt'), 'cp-live:/nope/x.txt']);
    expect(parent.code).toBe(1);
    expect(parent.stderr).toMatch(/Could not find the file \/nope in container/);
    const dirOnFile = await run(['cp', join(tmp, 'tree'), 'cp-live:/local.txt']);
    expect(dirOnFile.code).toBe(1);
    expect(dirOnFile.stderr).toMatch(/cannot copy directory/);
  });

  it('dockerode putArchive writes into the running container', async () => {
    const client = new Docker({ socketPath: d.socket });
    const tar = execFileSync('tar', ['-C', join(tmp, 'tree'), '-cf', '-', 'a']);
    await client.getContainer('cp-live').putArchive(tar, { path: '/bin' });
    const r = await run(['exec', 'cp-live', 'cat', '/bin/a']);
    expect(r).toMatchObject({ code: 0, stdout: 'a\n' });
    await expect(client.getContainer('cp-live').putArchive(tar, { path: '/bin/sh' })).rejects.toMatchObject({ statusCode: 400 });
    await expect(client.getContainer('cp-live').putArchive(tar, { path: '/no/such' })).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('docker cp on the WASI backend', () => {
  const TOOLBOX = 'skiff/toolbox';

  it('in-process: docker cp into a created toolbox container, docker start -a reads it', async () => {
    const d = await startDaemon({ backends: ['wasm'] });
    try {
      const run = (args: string[]) => docker(d.url, args);
      expect((await run(['pull', TOOLBOX])).code).toBe(0);
      expect((await run(['create', '--name', 'wcp', TOOLBOX, 'sh', '-c', 'cat /tmp/local.txt /tmp/tree/sub/b'])).code).toBe(0);
      expect((await run(['cp', join(tmp, 'local.txt'), 'wcp:/tmp/'])).code).toBe(0);
      expect((await run(['cp', join(tmp, 'tree'), 'wcp:/tmp/tree'])).code).toBe(0);
      const r = await run(['start', '-a', 'wcp']);
      expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'from the host\nb\n' });
      expect((await run(['cp', 'wcp:/tmp/tree/a', join(tmp, 'wasm-a')])).code).toBe(0);
      expect(readFileSync(join(tmp, 'wasm-a'), 'utf8')).toBe('a\n');
      // The sdk's client: putArchive, then getArchive reads it back; its errors carry the daemon's code.
      const client = connectDocker(d.url);
      await client.putArchive('wcp', '/etc', new Uint8Array(execFileSync('tar', ['-C', tmp, '-cf', '-', 'local.txt'])));
      const back = await client.getArchive('wcp', '/etc/local.txt');
      expect(back.stat).toMatchObject({ name: 'local.txt', size: 14 });
      await back.tar.cancel();
      await expect(client.putArchive('wcp', '/missing', new Uint8Array(1024))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await stop(d);
    }
  }, 60_000);

  it('in worker threads: the tar goes to the worker; cp out of an exited container reads its changes', async () => {
    const d = await startWorkerDaemon();
    try {
      const run = (args: string[]) => docker(d.url, args);
      expect((await run(['pull', TOOLBOX])).code).toBe(0);
      expect((await run(['create', '--name', 'wwcp', TOOLBOX, 'sh', '-c', 'cat /tmp/local.txt; echo made > /tmp/made'])).code).toBe(0);
      expect((await run(['cp', join(tmp, 'local.txt'), 'wwcp:/tmp/'])).code).toBe(0);
      const r = await run(['start', '-a', 'wwcp']);
      expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'from the host\n' });
      expect((await run(['cp', 'wwcp:/tmp/made', join(tmp, 'made')])).code).toBe(0);
      expect(readFileSync(join(tmp, 'made'), 'utf8')).toBe('made\n');
    } finally {
      await d.close();
    }
  }, 60_000);
});
