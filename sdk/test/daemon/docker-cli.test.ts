/**
 * The real docker CLI against `skiff daemon` (over the host-process test
 * backend, with the `skiff-test/host` image): the commands users type, their
 * output and exit codes.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerBinary, startDaemon, type DaemonProcess, shutdownDaemon } from './support/harness.js';
import { HOST_IMAGE } from './support/images.js';
import { startRegistry, type RegistryServer } from '../registry/registry-server.js';

const IMG = 'skiff-test/host';
let d: DaemonProcess;
let tmp: string;
const run = (args: string[], o: Parameters<typeof docker>[2] = {}) => docker(d.url, args, o);

beforeAll(async () => {
  dockerBinary();
  tmp = mkdtempSync(join(tmpdir(), 'skiff-docker-cli-'));
  d = await startDaemon();
});

afterAll(() => shutdownDaemon(d, tmp));

describe('docker CLI against skiff daemon', () => {
  it('version shows the skiff engine and API 1.50', async () => {
    const r = await run(['version', '--format', '{{.Server.Platform.Name}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Client.APIVersion}} {{.Client.DefaultAPIVersion}}']);
    expect(r.code, r.stderr).toBe(0);
    const [platform, server, min, negotiated, clientMax] = r.stdout.trim().split(' ');
    expect([platform, server, min]).toEqual(['skiff', '1.50', '1.24']);
    // The CLI uses the lower of its newest version and ours (docker 28: 1.50; Debian's docker.io 20.10: 1.41).
    const [major, minor] = clientMax!.split('.').map(Number) as [number, number];
    expect(negotiated).toBe(major === 1 && minor < 50 ? clientMax : '1.50');
  });

  it('info reports the store and the backends', async () => {
    const r = await run(['info', '--format', '{{.OperatingSystem}}|{{.Images}}|{{.DockerRootDir}}|{{json .Runtimes}}']);
    expect(r.code, r.stderr).toBe(0);
    const [os, images, root, runtimes] = r.stdout.trim().split('|');
    expect(os).toBe('skiff');
    expect(Number(images)).toBeGreaterThanOrEqual(1);
    expect(root).toBe(d.root);
    expect(JSON.parse(runtimes!)).toHaveProperty('host');
  });

  it('images lists the test image by repository and tag', async () => {
    const r = await run(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^skiff-test\/host:latest [0-9a-f]{12}$/m);
  });

  it('run --rm passes output on the right streams and the exit code through, and removes the container', async () => {
    const r = await run(['run', '--rm', '--name', 'rm-test', IMG, 'sh', '-c', 'echo to-out; echo to-err >&2; exit 7']);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('to-out\n');
    expect(r.stderr).toBe('to-err\n');
    const ps = await run(['ps', '-a', '--filter', 'name=rm-test', '--format', '{{.Names}}']);
    expect(ps.stdout.trim()).toBe('');
  });

  it('run passes env, working dir and the image env', async () => {
    const r = await run(['run', '--rm', '-e', 'GREETING=hi there', IMG, 'sh', '-c', 'echo "$GREETING/$FROM_IMAGE"']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hi there/yes\n');
  });

  it('run -i feeds stdin to the container', async () => {
    const r = await run(['run', '--rm', '-i', IMG, 'sh', '-c', 'tr a-z A-Z; echo done'], { input: 'hello\nworld\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('HELLO\nWORLD\ndone\n');
  });

  it('run of a missing command fails like docker (127)', async () => {
    const r = await run(['run', '--rm', IMG, 'no-such-program-xyz']);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('no-such-program-xyz');
  });

  it('run -d, logs -f follows until stop, and stop ends the container', async () => {
    const started = await run(['run', '-d', '--name', 'ticker', '-l', 'role=ticker', IMG, 'sh', '-c', 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    // Follow in the background; it must stay open while the container runs.
    const follow = spawn(dockerBinary(), ['logs', '-f', 'ticker'], { env: { ...process.env, DOCKER_HOST: d.url } });
    let followed = '';
    follow.stdout.on('data', (c: Buffer) => { followed += c.toString(); });
    const followExit = new Promise<number | null>((r) => follow.once('close', (c) => r(c)));
    await waitFor(() => followed.includes('tick 5'), 10_000);
    const ps = await run(['ps', '--filter', 'label=role=ticker', '--format', '{{.Names}} {{.Status}}']);
    expect(ps.stdout).toMatch(/^ticker Up /m);
    const stopped = await run(['stop', '-t', '1', 'ticker']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(await followExit).toBe(0);
    expect(followed).toMatch(/^tick 0\ntick 1\ntick 2\n/);
    const state = await run(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'ticker']);
    expect(state.stdout.trim()).toBe('exited 143');
    const tail = await run(['logs', '--tail', '2', '-t', 'ticker']);
    expect(tail.stdout.trim().split('\n')).toHaveLength(2);
    expect(tail.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z tick \d+$/m);
  });

  it('exec runs beside the main process, with env, stdin and the exit code', async () => {
    expect((await run(['run', '-d', '--name', 'exec-box', IMG, 'sleep', '60'])).code).toBe(0);
    const a = await run(['exec', 'exec-box', 'sh', '-c', 'echo in-exec; echo exec-err >&2; exit 4']);
    expect(a.code).toBe(4);
    expect(a.stdout).toBe('in-exec\n');
    expect(a.stderr).toBe('exec-err\n');
    const b = await run(['exec', '-e', 'X=from-exec', 'exec-box', 'sh', '-c', 'echo $X']);
    expect(b.stdout).toBe('from-exec\n');
    const c = await run(['exec', '-i', 'exec-box', 'sh', '-c', 'wc -c'], { input: '12345' });
    expect(c.stdout.trim()).toBe('5');
    const t = await run(['exec', '-t', 'exec-box', 'true']);
    expect(t.code).not.toBe(0);
    expect(t.stderr).toContain('does not support a terminal'); // the host test backend has none
    const top = await run(['top', 'exec-box']);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toMatch(/sleep 60/);
    const stats = await run(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', 'exec-box']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toMatch(/^exec-box \d/);
    const rm = await run(['rm', 'exec-box']);
    expect(rm.code).not.toBe(0);
    expect(rm.stderr).toMatch(/running/);
    const rmf = await run(['rm', '-f', 'exec-box']);
    expect(rmf.code, rmf.stderr).toBe(0);
    expect((await run(['ps', '-aq', '--filter', 'name=exec-box'])).stdout.trim()).toBe('');
  });

  it('ps -a shows exited containers with their exit status', async () => {
    expect((await run(['run', '--name', 'exited-3', IMG, 'sh', '-c', 'exit 3'])).code).toBe(3);
    const ps = await run(['ps', '-a', '--format', '{{.Names}}|{{.Image}}|{{.Status}}|{{.Command}}']);
    expect(ps.stdout).toMatch(/^exited-3\|skiff-test\/host\|Exited \(3\) .*ago\|"sh -c 'exit 3'"|exited-3\|skiff-test\/host\|Exited \(3\) .*ago\|sh -c "exit 3"$/m);
    expect((await run(['ps', '--format', '{{.Names}}'])).stdout).not.toContain('exited-3');
    expect((await run(['ps', '-a', '--filter', 'exited=3', '--format', '{{.Names}}'])).stdout.trim()).toBe('exited-3');
    await run(['rm', 'exited-3']);
  });

  it('inspect: containers, then images by the same command; unknown names fail', async () => {
    expect((await run(['create', '--name', 'insp', '-l', 'a=b', IMG, 'echo', 'x'])).code).toBe(0);
    const r = await run(['inspect', 'insp']);
    expect(r.code, r.stderr).toBe(0);
    const [c] = JSON.parse(r.stdout) as Array<Record<string, any>>;
    expect(c!.Name).toBe('/insp');
    expect(c!.State.Status).toBe('created');
    expect(c!.Config.Labels).toMatchObject({ a: 'b', 'org.skiff.test': 'host' });
    expect(c!.Config.Cmd).toEqual(['echo', 'x']);
    expect(c!.Config.Image).toBe(IMG);
    expect(c!.Path).toBe('echo');
    const img = await run(['inspect', '--format', '{{.Os}} {{index .RepoTags 0}} {{len .RootFS.Layers}}', IMG]);
    expect(img.code, img.stderr).toBe(0);
    expect(img.stdout.trim()).toMatch(/^linux skiff-test\/host:latest 2$/);
    const none = await run(['inspect', 'no-such-thing-anywhere']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No such object: no-such-thing-anywhere');
    await run(['rm', 'insp']);
  });

  it('volume create, ls, inspect, rm', async () => {
    expect((await run(['volume', 'create', '--label', 'k=v', 'data1'])).stdout.trim()).toBe('data1');
    const ls = await run(['volume', 'ls', '--format', '{{.Name}} {{.Driver}}']);
    expect(ls.stdout).toMatch(/^data1 local$/m);
    const insp = await run(['volume', 'inspect', '--format', '{{.Mountpoint}} {{.Labels.k}}', 'data1']);
    expect(insp.stdout.trim()).toBe(`${d.root}/volumes/data1/_data v`);
    expect((await run(['volume', 'rm', 'data1'])).code).toBe(0);
    expect((await run(['volume', 'ls', '-q'])).stdout).not.toMatch(/^data1$/m);
    const gone = await run(['volume', 'inspect', 'data1']);
    expect(gone.code).toBe(1);
  });

  it('cp copies files out of a container: image files and what the container wrote', async () => {
    expect((await run(['run', '--name', 'cp-src', IMG, 'sh', '-c', 'mkdir -p out && echo written > out/file.txt'])).code).toBe(0);
    const dest = join(tmp, 'cp');
    mkdirSync(dest);
    const a = await run(['cp', 'cp-src:/etc/motd', join(dest, 'motd')]);
    expect(a.code, a.stderr).toBe(0);
    expect(readFileSync(join(dest, 'motd'), 'utf8')).toBe('welcome to the host test image\n');
    const b = await run(['cp', 'cp-src:/out', join(dest, 'out')]);
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(join(dest, 'out', 'file.txt'), 'utf8')).toBe('written\n');
    const c = await run(['cp', 'cp-src:/etc/skiff', dest]);
    expect(c.code, c.stderr).toBe(0);
    expect(readFileSync(join(dest, 'skiff', 'release'), 'utf8')).toBe('skiff test 1\n');
    const missing = await run(['cp', 'cp-src:/nope', dest]);
    expect(missing.code).toBe(1);
    // docker 28 prints the daemon's message; docker 20.10 words the 404 itself.
    expect(missing.stderr).toMatch(/Could not find the file \/nope|No such container:path: cp-src:\/nope/);
    // The host test backend has no importFiles: docker cp into its containers is refused by name (docker-cp.test.ts covers the real backends).
    const into = await run(['cp', join(dest, 'motd'), 'cp-src:/tmp/']);
    expect(into.code).toBe(1);
    expect(into.stderr).toMatch(/the host backend cannot copy files into a container/);
    await run(['rm', 'cp-src']);
  });

  it('diff and export show the container\'s files', async () => {
    expect((await run(['run', '--name', 'differ', IMG, 'sh', '-c', 'mkdir -p etc && echo changed > etc/motd && echo new > added.txt'])).code).toBe(0);
    const diff = await run(['diff', 'differ']);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toMatch(/^A \/added\.txt$/m);
    expect(diff.stdout).toMatch(/^C \/etc\/motd$/m);
    const exported = join(tmp, 'exported.tar');
    expect((await run(['export', '-o', exported, 'differ'])).code).toBe(0);
    const names = execFileSync('tar', ['-tf', exported], { encoding: 'utf8' });
    expect(names).toMatch(/etc\/skiff\/release/);
    expect(names).toMatch(/added\.txt/);
    expect(execFileSync('tar', ['-xOf', exported, './etc/motd'], { encoding: 'utf8' })).toBe('changed\n');
    await run(['rm', 'differ']);
  });

  it('wait, container prune, volume prune', async () => {
    expect((await run(['create', '--name', 'waited', IMG, 'sh', '-c', 'sleep 0.5; exit 6'])).code).toBe(0);
    // As dockerd: a created container is already "not running".
    expect((await run(['wait', 'waited'])).stdout.trim()).toBe('0');
    expect((await run(['start', 'waited'])).code).toBe(0);
    expect((await run(['wait', 'waited'])).stdout.trim()).toBe('6');
    expect((await run(['volume', 'create', 'prunable'])).code).toBe(0);
    const pruned = await run(['container', 'prune', '-f']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/Deleted Containers:/);
    expect((await run(['ps', '-aq', '--filter', 'name=waited'])).stdout.trim()).toBe('');
    const vp = await run(['volume', 'prune', '-af']);
    expect(vp.code, vp.stderr).toBe(0);
    expect(vp.stdout).toContain('prunable');
  });

  it('tag, save, rmi, load round-trips an image', async () => {
    expect((await run(['tag', IMG, 'copy/of-host:v1'])).code).toBe(0);
    const archive = join(tmp, 'saved.tar');
    const saved = await run(['save', '-o', archive, 'copy/of-host:v1']);
    expect(saved.code, saved.stderr).toBe(0);
    expect(existsSync(archive)).toBe(true);
    const rmi = await run(['rmi', 'copy/of-host:v1']);
    expect(rmi.code, rmi.stderr).toBe(0);
    expect(rmi.stdout).toContain('Untagged: copy/of-host:v1');
    expect((await run(['images', '-q', 'copy/of-host'])).stdout.trim()).toBe('');
    const loaded = await run(['load', '-i', archive]);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stdout).toContain('Loaded image: copy/of-host:v1');
    const r = await run(['run', '--rm', 'copy/of-host:v1', 'echo', 'from-loaded']);
    expect(r.stdout).toBe('from-loaded\n');
    expect((await run(['rmi', 'copy/of-host:v1'])).code).toBe(0);
  });

  it('events reports container life', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    expect((await run(['run', '--rm', '--name', 'evented', IMG, 'true'])).code).toBe(0);
    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await run(['events', '--since', String(since), '--until', String(until), '--filter', 'container=evented', '--format', '{{.Action}}']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout.split('\n').filter(Boolean)).toEqual(['create', 'start', 'die', 'destroy']);
  });

  it('rename: a new name for a container, refused when taken or the same', async () => {
    expect((await run(['create', '--name', 'before', IMG, 'true'])).code).toBe(0);
    expect((await run(['create', '--name', 'taken', IMG, 'true'])).code).toBe(0);
    expect((await run(['rename', 'before', 'after'])).code).toBe(0);
    expect((await run(['ps', '-a', '--filter', 'name=after', '--format', '{{.Names}}'])).stdout).toBe('after\n');
    expect((await run(['inspect', 'before'])).code).not.toBe(0);
    const clash = await run(['rename', 'after', 'taken']);
    expect(clash.code).not.toBe(0);
    expect(clash.stderr).toContain('is already in use');
    expect((await run(['rename', 'after', 'bad name!'])).stderr).toContain('invalid container name');
    expect((await run(['rm', 'after', 'taken'])).code).toBe(0);
  });

  it('errors: unknown container, conflicting name, unsupported options', async () => {
    const a = await run(['logs', 'no-such-container']);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('No such container: no-such-container');
    expect((await run(['create', '--name', 'dup', IMG, 'true'])).code).toBe(0);
    const b = await run(['create', '--name', 'dup', IMG, 'true']);
    expect(b.code, b.stderr).not.toBe(0);
    expect(b.stderr).toContain('is already in use');
    const c = await run(['run', '--rm', '-p', '8080:80', IMG, 'true']);
    expect(c.code).toBe(125);
    expect(c.stderr).toContain('does not support published ports');
    await run(['rm', 'dup']);
  });

  it('run of an image that is nowhere: pull fails and the CLI says so', async () => {
    const r = await run(['run', '--rm', '127.0.0.1:9/nothing/here:1', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("Unable to find image '127.0.0.1:9/nothing/here:1' locally");
  });

  it('build (classic builder) makes an image from a Dockerfile and a context', async () => {
    const ctxDir = join(tmp, 'build');
    mkdirSync(ctxDir);
    writeFileSync(join(ctxDir, 'Dockerfile'), `FROM ${HOST_IMAGE}\nLABEL built=yes\nCOPY a.txt /data/a.txt\nRUN echo from-run > run.txt\nCMD ["echo", "built image"]\n`);
    writeFileSync(join(ctxDir, 'a.txt'), 'context file\n');
    const b = await run(['build', '-t', 'built/by-daemon:1', ctxDir], { env: { DOCKER_BUILDKIT: '0' } });
    expect(b.code, b.stderr + b.stdout).toBe(0);
    expect(b.stdout).toContain('Step 1/5 : FROM');
    expect(b.stdout).toMatch(/Successfully built [0-9a-f]{12}/);
    expect(b.stdout).toContain('Successfully tagged built/by-daemon:1');
    const r = await run(['run', '--name', 'from-built', 'built/by-daemon:1']);
    expect(r.stdout).toBe('built image\n');
    expect((await run(['inspect', '--format', '{{.Config.Labels.built}}', 'built/by-daemon:1'])).stdout.trim()).toBe('yes');
    const dest = join(tmp, 'built-out');
    mkdirSync(dest);
    expect((await run(['cp', 'from-built:/data/a.txt', join(dest, 'a.txt')])).code).toBe(0);
    expect(readFileSync(join(dest, 'a.txt'), 'utf8')).toBe('context file\n');
    expect((await run(['cp', 'from-built:/run.txt', join(dest, 'run.txt')])).code).toBe(0);
    expect(readFileSync(join(dest, 'run.txt'), 'utf8')).toBe('from-run\n');
    const bad = await run(['build', '-t', 'broken', '-f', join(ctxDir, 'Dockerfile.bad'), ctxDir], { env: { DOCKER_BUILDKIT: '0' } });
    expect(bad.code).not.toBe(0);
    await run(['rm', 'from-built']);
  });
});

describe('docker pull and push through skiff daemon', () => {
  let reg: RegistryServer;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('push to a local registry, remove, pull back and run', async () => {
    const name = `${reg.domain}/skiff/pushed:1`;
    expect((await run(['tag', IMG, name])).code).toBe(0);
    const push = await run(['push', name]);
    expect(push.code, push.stderr + push.stdout).toBe(0);
    expect(push.stdout).toContain(`The push refers to repository [${reg.domain}/skiff/pushed]`);
    expect(push.stdout).toMatch(/1: digest: sha256:[0-9a-f]{64} size: \d+/);
    expect((await run(['rmi', name])).code).toBe(0);
    const pull = await run(['pull', name]);
    expect(pull.code, pull.stderr + pull.stdout).toBe(0);
    expect(pull.stdout).toMatch(/Digest: sha256:[0-9a-f]{64}/);
    expect(pull.stdout).toContain(`Status: Downloaded newer image for ${name}`);
    const again = await run(['pull', name]);
    expect(again.stdout).toContain(`Status: Image is up to date for ${name}`);
    const r = await run(['run', '--rm', name, 'echo', 'pulled']);
    expect(r.stdout).toBe('pulled\n');
    // run of an image that is only in the registry: the CLI pulls it on the 404 and retries.
    expect((await run(['rmi', name])).code).toBe(0);
    const auto = await run(['run', '--rm', name, 'echo', 'auto-pulled']);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stdout).toBe('auto-pulled\n');
    expect(auto.stderr).toContain(`Unable to find image '${name}' locally`);
    const missing = await run(['pull', `${reg.domain}/skiff/never-pushed:1`]);
    expect(missing.code).toBe(1);
  });
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
