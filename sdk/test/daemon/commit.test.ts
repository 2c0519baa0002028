/**
 * docker commit through `skiff daemon`: on the Linux backend a container's
 * new file and a file it deleted (a whiteout) reach the new image, with its
 * --change, message and author in history and inspect; a running container
 * is committed (paused meanwhile, running after); an unnamed commit is a
 * dangling image; bad changes are 400s and a missing container a 404;
 * dockerode's container.commit() and testcontainers' commit(). On the WASI
 * backend (worker mode) the same with skiff/toolbox.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/client/node-transport.js';
import { busyboxContext, docker, dockerBinary, shutdownDaemon, startDaemon, type DaemonProcess, startWorkerDaemon, until } from './support/harness.js';

const IMAGE = 'skiff-commit/bb:1';

describe('docker commit on the Linux backend', () => {
  let d: DaemonProcess;
  let tmp: string;
  const run = (args: string[]) => docker(d.url, args, { env: { DOCKER_BUILDKIT: '0' } });
  const inspect = async (format: string, name: string) => (await run(['inspect', '--format', format, name])).stdout.trim();

  beforeAll(async () => {
    dockerBinary();
    tmp = mkdtempSync(join(tmpdir(), 'skiff-commit-'));
    const ctx = busyboxContext(join(tmp, 'ctx'), ['sh', 'sleep', 'cat', 'rm', 'test', 'echo', 'ls'], { 'etc/gone': 'in the image\n' });
    d = await startDaemon({ backends: ['linux'] });
    const built = await run(['build', '-q', '-t', IMAGE, ctx]);
    if (built.code !== 0) throw new Error(`docker build failed: ${built.stderr}`);
  }, 120_000);

  afterAll(() => shutdownDaemon(d, tmp));

  it('an exited container: its new file and its deletion reach the image; --change, -m and -a show in inspect and history', async () => {
    expect((await run(['run', '--name', 'cm-exited', IMAGE, 'sh', '-c', 'echo hello > /hello; rm /etc/gone'])).code).toBe(0);
    const c = await run(['commit', '-c', 'CMD ["cat","/hello"]', '-c', 'ENV COMMITTED=1', '-m', 'msg', '-a', 'Ann Author <ann@example.test>', 'cm-exited', 'skiff-commit/img:1']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect(await inspect('{{.Id}}', 'skiff-commit/img:1')).toBe(c.stdout.trim());

    const out = await run(['run', '--rm', 'skiff-commit/img:1']);
    expect(out, out.stderr).toMatchObject({ code: 0, stdout: 'hello\n' });
    const gone = await run(['run', '--rm', 'skiff-commit/img:1', 'sh', '-c', 'test -e /etc/gone && echo present || echo gone; echo "$COMMITTED"']);
    expect(gone.stdout).toBe('gone\n1\n');

    expect(await inspect('{{json .Config.Cmd}}|{{.Author}}|{{.Comment}}', 'skiff-commit/img:1')).toBe('["cat","/hello"]|Ann Author <ann@example.test>|msg');
    const layers = async (name: string) => JSON.parse(await inspect('{{json .RootFS.Layers}}', name)) as string[];
    expect((await layers('skiff-commit/img:1')).length).toBe((await layers(IMAGE)).length + 1);
    const history = await run(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'skiff-commit/img:1']);
    expect(history.stdout.split('\n')[0]).toBe('sh -c echo hello > /hello; rm /etc/gone|msg');

    const events = await run(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'event=commit', '--format', '{{.Actor.Attributes.imageRef}} {{.Actor.Attributes.comment}}']);
    expect(events.stdout).toContain('skiff-commit/img:1 msg');
    expect((await run(['rm', 'cm-exited'])).code).toBe(0);
  }, 60_000);

  it('a running container is committed and keeps running; an unnamed commit is a dangling image', async () => {
    expect((await run(['run', '-d', '--name', 'cm-live', IMAGE, 'sh', '-c', 'echo live > /live; exec sleep 300'])).code).toBe(0);
    await until(async () => (await run(['exec', 'cm-live', 'cat', '/live'])).stdout, (s) => s === 'live\n', 'the file written');
    const c = await run(['commit', 'cm-live']);
    expect(c.code, c.stderr).toBe(0);
    const id = c.stdout.trim();
    expect(await inspect('{{.State.Status}} {{.State.Paused}}', 'cm-live')).toBe('running false');
    expect((await run(['run', '--rm', id, 'cat', '/live'])).stdout).toBe('live\n');
    const dangling = await run(['images', '-q', '--no-trunc', '-f', 'dangling=true']);
    expect(dangling.stdout.split('\n')).toContain(id);
    expect((await run(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout).toContain(`<none>:<none> ${id.slice(7, 19)}`);
    // Named later: no longer dangling.
    expect((await run(['tag', id, 'skiff-commit/live:1'])).code).toBe(0);
    expect((await run(['images', '-q', '--no-trunc', '-f', 'dangling=true'])).stdout).not.toContain(id);

    // -p=false: not paused, the same result.
    const np = await run(['commit', '-p=false', 'cm-live', 'skiff-commit/live:2']);
    expect(np.code, np.stderr).toBe(0);
    expect((await run(['run', '--rm', 'skiff-commit/live:2', 'cat', '/live'])).stdout).toBe('live\n');
    expect((await run(['rm', '-f', 'cm-live'])).code).toBe(0);

    // docker image prune (without -a) removes dangling images only.
    expect((await run(['run', '--name', 'cm-prune', IMAGE, 'sh', '-c', 'echo x > /x'])).code).toBe(0);
    const unnamed = (await run(['commit', 'cm-prune'])).stdout.trim();
    expect((await run(['rm', 'cm-prune'])).code).toBe(0);
    const prune = await run(['image', 'prune', '-f']);
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stdout).toContain(`deleted: ${unnamed}`);
    expect((await run(['image', 'inspect', unnamed])).code).toBe(1);
    expect((await run(['image', 'inspect', 'skiff-commit/live:1'])).code).toBe(0);
  }, 60_000);

  it('refuses a change docker commit does not take (400) and a missing container (404)', async () => {
    expect((await run(['create', '--name', 'cm-bad', IMAGE, 'true'])).code).toBe(0);
    const bad = await run(['commit', '-c', 'RUN rm -rf /', 'cm-bad', 'skiff-commit/bad:1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Error response from daemon: run is not a valid change command');
    const port = await run(['commit', '-c', 'EXPOSE http', 'cm-bad']);
    expect(port.code).toBe(1);
    expect(port.stderr).toContain('Invalid containerPort: http; use PORT[/PROTOCOL], e.g. 8080/tcp (in --change "EXPOSE http")');
    expect((await run(['image', 'inspect', 'skiff-commit/bad:1'])).code).toBe(1);
    const none = await run(['commit', 'no-such-container', 'skiff-commit/none:1']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No such container: no-such-container');
    expect((await run(['rm', 'cm-bad'])).code).toBe(0);
  }, 60_000);

  it("dockerode: container.commit() with repo, tag, comment and changes", async () => {
    const client = new Docker({ socketPath: d.socket });
    const c = await client.createContainer({ Image: IMAGE, Cmd: ['sh', '-c', 'echo from-dockerode > /made'] });
    try {
      await c.start();
      await c.wait();
      const answer = (await c.commit({ repo: 'skiff-commit/dockerode', tag: '1', comment: 'via dockerode', changes: ['ENV FROM_DOCKERODE=yes', 'LABEL made.by=dockerode'] })) as { Id: string };
      expect(answer.Id).toMatch(/^sha256:[a-f0-9]{64}$/);
      const img = await client.getImage('skiff-commit/dockerode:1').inspect();
      expect(img.Id).toBe(answer.Id);
      expect(img.Comment).toBe('via dockerode');
      expect(img.Config.Env).toContain('FROM_DOCKERODE=yes');
      expect(img.Config.Labels).toMatchObject({ 'made.by': 'dockerode' });
      expect((await run(['run', '--rm', 'skiff-commit/dockerode:1', 'cat', '/made'])).stdout).toBe('from-dockerode\n');
    } finally {
      await c.remove({ force: true });
    }
  }, 60_000);

  it("skiff's DockerClient: commit() with a Config body the container's config fills", async () => {
    const client = connectDocker(d.url);
    try {
      const { id } = await client.create({ image: IMAGE, cmd: ['sh', '-c', 'echo from-client > /client'] });
      await client.start(id);
      await client.wait(id);
      const made = await client.commit(id, { repo: 'skiff-commit/client', tag: '1', config: { Env: ['ONLY=body'], Cmd: ['cat', '/client'] }, changes: ['LABEL via=client'] });
      expect(made.id).toMatch(/^sha256:[a-f0-9]{64}$/);
      const out = await run(['run', '--rm', 'skiff-commit/client:1']);
      expect(out.stdout).toBe('from-client\n');
      // The body's Env first, the container's variables it lacks after (dockerd's merge).
      expect(JSON.parse(await inspect('{{json .Config.Env}}', 'skiff-commit/client:1'))).toEqual(['ONLY=body', 'PATH=/bin']);
      expect(await inspect('{{.Config.Labels.via}}', 'skiff-commit/client:1')).toBe('client');
      await client.remove(id);
    } finally {
      client.close();
    }
  }, 60_000);

  it('testcontainers: StartedTestContainer.commit()', async () => {
    // testcontainers reads these at its first use (this file's worker only); Ryuk's image is not reachable here.
    process.env.DOCKER_HOST = d.url;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    const { GenericContainer } = await import('testcontainers');
    const container = await new GenericContainer(IMAGE).withCommand(['sh', '-c', 'echo from-testcontainers > /tc; exec sleep 300']).start();
    try {
      await until(async () => (await container.exec(['cat', '/tc'])).output, (s) => s === 'from-testcontainers\n', 'the file written');
      const id = await container.commit({ repo: 'skiff-commit/tc', tag: '1', changes: ['ENV TC=1'] });
      expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
      const r = await run(['run', '--rm', 'skiff-commit/tc:1', 'sh', '-c', 'cat /tc; echo "$TC"']);
      expect(r.stdout).toBe('from-testcontainers\n1\n');
      // Its session label is set by the change testcontainers adds.
      expect(await inspect('{{index .Config.Labels "org.testcontainers.session-id"}}', 'skiff-commit/tc:1')).not.toBe('');
    } finally {
      await container.stop();
    }
  }, 60_000);
});

describe('docker commit on the WASI backend (worker mode)', () => {
  let wd: Awaited<ReturnType<typeof startWorkerDaemon>> | undefined;
  const run = (args: string[]) => docker(wd!.url, args);

  beforeAll(async () => {
    dockerBinary();
    wd = await startWorkerDaemon();
  }, 120_000);

  afterAll(() => wd?.close());

  it('skiff/toolbox: an exited and a running container become images whose containers see their files', async () => {
    expect((await run(['run', '--name', 'wcm', 'skiff/toolbox', 'sh', '-c', 'echo hi > /f'])).code).toBe(0);
    const c = await run(['commit', '-c', 'CMD ["cat", "/f"]', '-m', 'wasm commit', 'wcm', 'skiff-commit/wasm:1']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect((await run(['run', '--rm', 'skiff-commit/wasm:1'])).stdout).toBe('hi\n');
    expect((await run(['image', 'inspect', '--format', '{{.Os}} {{.Comment}}', 'skiff-commit/wasm:1'])).stdout.trim()).toBe('wasip1 wasm commit');

    expect((await run(['run', '-d', '--name', 'wcm-live', 'skiff/toolbox', 'sh', '-c', 'echo running > /r; sleep 300'])).code).toBe(0);
    await until(async () => (await run(['exec', 'wcm-live', 'cat', '/r'])).stdout, (s) => s === 'running\n', 'the file written');
    const live = await run(['commit', 'wcm-live', 'skiff-commit/wasm:live']);
    expect(live.code, live.stderr).toBe(0);
    expect((await run(['inspect', '--format', '{{.State.Status}}', 'wcm-live'])).stdout.trim()).toBe('running');
    expect((await run(['run', '--rm', 'skiff-commit/wasm:live', 'cat', '/r'])).stdout).toBe('running\n');
    expect((await run(['rm', '-f', 'wcm', 'wcm-live'])).code).toBe(0);
  }, 60_000);
});
