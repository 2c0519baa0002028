/**
 * The docker CLI against `skiff daemon` over the WASI backend, with
 * runtime-wasm's sample images (skiff/hello, skiff/toolbox). The first
 * suite runs guests in the daemon's process, so its containers are
 * short-lived ones: a guest holds the thread while it runs. The second runs
 * each container in a worker thread, as `skiff daemon` does, with
 * long-running containers, docker exec and docker cp into them.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerBinary, startDaemon, type DaemonProcess, shutdownDaemon, startWorkerDaemon } from './support/harness.js';

const TOOLBOX = 'skiff/toolbox';
let d: DaemonProcess;
let tmp: string;
const run = (args: string[], o: Parameters<typeof docker>[2] = {}) => docker(d.url, args, o);

beforeAll(async () => {
  dockerBinary();
  tmp = mkdtempSync(join(tmpdir(), 'skiff-docker-wasm-'));
  d = await startDaemon({ backends: ['wasm'] });
});

afterAll(() => shutdownDaemon(d, tmp));

describe('docker CLI against skiff daemon on the WASI backend', () => {
  it('runs the bundled hello image (pulled from the bundle, no registry)', async () => {
    const pull = await run(['pull', 'skiff/hello']);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain('Status: Downloaded newer image for skiff/hello:latest');
    const r = await run(['run', '--rm', 'skiff/hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
  });

  it('run --rm: output streams and exit code', async () => {
    const r = await run(['run', '--rm', TOOLBOX, 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('to-out\n');
    expect(r.stderr).toBe('to-err\n');
  });

  it('run -i with stdin', async () => {
    const r = await run(['run', '--rm', '-i', TOOLBOX, 'cat'], { input: 'line one\nline two\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('line one\nline two\n');
  });

  it('images, ps -a and inspect show a wasip1 container', async () => {
    expect((await run(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout).toMatch(/^skiff\/toolbox:latest$/m);
    expect((await run(['run', '--name', 'wasm-exited', TOOLBOX, 'sh', '-c', 'exit 4'])).code).toBe(4);
    const ps = await run(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    expect(ps.stdout).toMatch(/^wasm-exited Exited \(4\) /m);
    const insp = await run(['inspect', '--format', '{{.Platform}} {{.Driver}} {{.State.ExitCode}} {{.Config.Image}}', 'wasm-exited']);
    expect(insp.stdout.trim()).toBe('wasip1 wasm 4 skiff/toolbox');
    const img = await run(['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', TOOLBOX]);
    expect(img.stdout.trim()).toBe('wasip1/wasm');
    expect((await run(['rm', 'wasm-exited'])).code).toBe(0);
  });

  it('a named volume keeps data between containers', async () => {
    const w = await run(['run', '--rm', '-v', 'wdata:/data', TOOLBOX, 'sh', '-c', 'echo persisted > /data/f']);
    expect(w.code, w.stderr).toBe(0);
    const r = await run(['run', '--rm', '-v', 'wdata:/data', TOOLBOX, 'cat', '/data/f']);
    expect(r.stdout).toBe('persisted\n');
    expect(readFileSync(join(d.root, 'volumes', 'wdata', '_data', 'f'), 'utf8')).toBe('persisted\n');
    const busy = await run(['create', '-v', 'wdata:/data', '--name', 'holds-wdata', TOOLBOX, 'true']);
    expect(busy.code).toBe(0);
    const rm = await run(['volume', 'rm', 'wdata']);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain('volume is in use');
    await run(['rm', 'holds-wdata']);
    expect((await run(['volume', 'rm', 'wdata'])).code).toBe(0);
  });

  it('logs of an exited container, and cp of what it wrote', async () => {
    expect((await run(['run', '--name', 'wasm-writer', TOOLBOX, 'sh', '-c', 'echo hello > /tmp/made.txt; echo logged; echo warned >&2'])).code).toBe(0);
    const logs = await run(['logs', 'wasm-writer']);
    expect(logs.stdout).toBe('logged\n');
    expect(logs.stderr).toBe('warned\n');
    const dest = join(tmp, 'cp');
    mkdirSync(dest);
    const cp = await run(['cp', 'wasm-writer:/tmp/made.txt', join(dest, 'made.txt')]);
    expect(cp.code, cp.stderr).toBe(0);
    expect(readFileSync(join(dest, 'made.txt'), 'utf8')).toBe('hello\n');
    const osr = await run(['cp', 'wasm-writer:/etc/os-release', join(dest, 'os-release')]);
    expect(osr.code, osr.stderr).toBe(0);
    expect(readFileSync(join(dest, 'os-release'), 'utf8')).toContain('skiff');
    await run(['rm', 'wasm-writer']);
  });

  it('refuses what WASI cannot do, with docker-shaped errors', async () => {
    const tty = await run(['run', '--rm', '-t', TOOLBOX, 'true']);
    expect(tty.code).toBe(125);
    expect(tty.stderr).toContain('does not support a terminal');
    const user = await run(['run', '--rm', '-u', '1000', TOOLBOX, 'true']);
    expect(user.code).toBe(125);
    expect(user.stderr).toMatch(/another user/);
    const missing = await run(['run', '--rm', TOOLBOX, 'no-such-applet']);
    expect(missing.code).toBe(127);
  });

  it('build (classic builder): RUN steps run on the WASI backend', async () => {
    const ctxDir = join(tmp, 'build');
    mkdirSync(ctxDir);
    writeFileSync(join(ctxDir, 'Dockerfile'), `FROM ${TOOLBOX}\nCOPY greeting.txt /greeting.txt\nRUN echo "built at step 3" > /built.txt\nCMD ["cat", "/greeting.txt", "/built.txt"]\n`);
    writeFileSync(join(ctxDir, 'greeting.txt'), 'hello from the context\n');
    const b = await run(['build', '-t', 'wasm/built:1', ctxDir], { env: { DOCKER_BUILDKIT: '0' } });
    expect(b.code, b.stderr + b.stdout).toBe(0);
    expect(b.stdout).toContain('Successfully tagged wasm/built:1');
    const r = await run(['run', '--rm', 'wasm/built:1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello from the context\nbuilt at step 3\n');
  });

  it('system df: an image a container uses is not reclaimable, except the layers it shares', async () => {
    const images = async () => {
      const r = await run(['system', 'df', '--format', '{{json .}}']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { Type: string; Active: string; Reclaimable: string }).find((row) => row.Type === 'Images')!;
    };
    expect((await run(['create', '--name', 'df-user', TOOLBOX, 'true'])).code).toBe(0);
    const used = await images();
    expect(Number(used.Active)).toBeGreaterThanOrEqual(1);
    expect(used.Reclaimable).not.toMatch(/\(100%\)/);
    expect((await run(['rm', 'df-user'])).code).toBe(0);
    const unused = await images();
    expect(unused.Active).toBe('0');
    expect(unused.Reclaimable).toMatch(/\(100%\)/);
  });

  it('20 concurrent docker run --rm finish with their own output', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => run(['run', '--rm', '-e', `N=${i}`, TOOLBOX, 'sh', '-c', 'echo "n=$N"'], { timeoutMs: 120_000 })));
    results.forEach((r, i) => expect({ i, code: r.code, out: r.stdout }).toEqual({ i, code: 0, out: `n=${i}\n` }));
    expect((await run(['ps', '-aq'])).stdout.trim()).toBe('');
  }, 180_000);
});

describe('docker CLI against skiff daemon on the WASI backend in worker mode', () => {
  let wd: Awaited<ReturnType<typeof startWorkerDaemon>> | undefined;
  const wrun = (args: string[], o: Parameters<typeof docker>[2] = {}) => docker(wd!.url, args, o);

  beforeAll(async () => {
    wd = await startWorkerDaemon();
  });

  afterAll(() => wd?.close());

  it('docker exec into a running container: output, exit codes, stdin, and the main process sees what it wrote', async () => {
    // The main process sleeps (execs run inside its wait), then reads what the exec wrote.
    const started = await wrun(['run', '-d', '--name', 'wexec', TOOLBOX, 'sh', '-c', 'sleep 6; cat /tmp/f']);
    expect(started.code, started.stderr).toBe(0);
    const write = await wrun(['exec', 'wexec', 'sh', '-c', 'echo hi > /tmp/f; cat /tmp/f']);
    expect(write, write.stderr).toMatchObject({ code: 0, stdout: 'hi\n' });
    const codes = await wrun(['exec', 'wexec', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(codes).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    const cat = await wrun(['exec', '-i', 'wexec', 'cat'], { input: 'line one\nline two\n' });
    expect(cat, cat.stderr).toMatchObject({ code: 0, stdout: 'line one\nline two\n' });
    const missing = await wrun(['exec', 'wexec', 'no-such-applet']);
    // The daemon reports any exec that cannot start as 126 (dockerd: 127 for a missing program).
    expect(missing.code).toBe(126);
    expect(missing.stderr).toContain('no-such-applet');
    // Served while the main process sleeps, not after it: it is still up.
    const ps = await wrun(['ps', '--format', '{{.Names}} {{.Status}}']);
    expect(ps.stdout).toMatch(/^wexec Up /m);
    expect((await wrun(['wait', 'wexec'])).stdout.trim()).toBe('0');
    expect((await wrun(['logs', 'wexec'])).stdout).toBe('hi\n');
    expect((await wrun(['exec', 'wexec', 'true'])).code).not.toBe(0);
    expect((await wrun(['rm', 'wexec'])).code).toBe(0);
  }, 60_000);

  it('docker network connect of a running container is refused: the WASI backend has no networks', async () => {
    expect((await wrun(['network', 'create', 'wnet'])).code).toBe(0);
    expect((await wrun(['run', '-d', '--name', 'wnetc', TOOLBOX, 'sleep', '10'])).code).toBe(0);
    const r = await wrun(['network', 'connect', 'wnet', 'wnetc']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('the wasm backend does not support user-defined networks: container wnetc cannot be connected to or disconnected from one');
    expect((await wrun(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'wnetc'])).stdout).not.toContain('wnet"');
    expect((await wrun(['rm', '-f', 'wnetc'])).code).toBe(0);
    expect((await wrun(['network', 'rm', 'wnet'])).code).toBe(0);
  }, 60_000);

  it('docker cp into and out of a running container (served while its main process sleeps)', async () => {
    expect((await wrun(['run', '-d', '--name', 'wcp', TOOLBOX, 'sh', '-c', 'sleep 30'])).code).toBe(0);
    const dir = join(tmp, 'wcp');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'f'), 'copied in\n');
    const cpIn = await wrun(['cp', join(dir, 'f'), 'wcp:/tmp/']);
    expect(cpIn.code, cpIn.stderr).toBe(0);
    expect(await wrun(['exec', 'wcp', 'cat', '/tmp/f'])).toMatchObject({ code: 0, stdout: 'copied in\n' });
    expect((await wrun(['exec', 'wcp', 'sh', '-c', 'echo made > /tmp/m'])).code).toBe(0);
    const cpOut = await wrun(['cp', 'wcp:/tmp/m', join(dir, 'm')]);
    expect(cpOut.code, cpOut.stderr).toBe(0);
    expect(readFileSync(join(dir, 'm'), 'utf8')).toBe('made\n');
    const diff = await wrun(['diff', 'wcp']);
    expect(diff.stdout).toMatch(/^A \/tmp\/m$/m);
    const exported = await wrun(['export', 'wcp']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('tmp/m');
    expect(exported.stdout).toContain('copied in\n');
    // Still running: the copies did not wait for it to end.
    expect((await wrun(['inspect', '--format', '{{.State.Status}}', 'wcp'])).stdout.trim()).toBe('running');
    expect((await wrun(['rm', '-f', 'wcp'])).code).toBe(0);
  }, 60_000);

  it('docker stop ends a container and the exec running inside it', async () => {
    expect((await wrun(['run', '-d', '--name', 'w2', TOOLBOX, 'sleep', '30'])).code).toBe(0);
    const t0 = performance.now();
    const held = wrun(['exec', 'w2', 'sh', '-c', 'echo started; sleep 20']);
    await new Promise((r) => setTimeout(r, 1000));
    const stop = await wrun(['stop', '-t', '0', 'w2']);
    expect(stop.code, stop.stderr).toBe(0);
    const ended = await held;
    expect(ended.stdout).toBe('started\n');
    expect(ended.code).not.toBe(0);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect((await wrun(['inspect', '--format', '{{.State.Status}}', 'w2'])).stdout.trim()).toBe('exited');
    expect((await wrun(['rm', 'w2'])).code).toBe(0);
  }, 60_000);
});
