/**
 * docker import through `skiff daemon` (Linux backend) and a real dockerd
 * side by side: a root file system tarball (plain and gzip) and a container's
 * `docker export` piped into `docker import -` with --change and -m give an
 * image of one layer that runs, with the same Cmd, Env, Os, Comment and
 * history on both daemons; a refused change and a damaged tar fail on both
 * and store nothing; an unnamed import is dangling. skiff alone: --platform
 * sets the image's platform, the SDK client's images.import, a URL source is
 * refused.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { busyboxContext, docker, type DockerResult } from './support/harness.js';
import { sideBySide } from './support/side-by-side.js';
import { connectDocker } from '../../src/client/node-transport.js';

const daemons = sideBySide('import', () => ({}));
let rootfsTar: string;

/** Runs one docker command on both daemons: [dockerd, skiff]. */
async function both(args: string[], o: { input?: Buffer } = {}): Promise<[DockerResult, DockerResult]> {
  const r = await daemons.both(args, o);
  return [r.dockerd, r.skiff];
}

/** Every image ID a daemon has, tagged or not. */
async function imageIds(url: string): Promise<string[]> {
  return (await docker(url, ['images', '-a', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean).sort();
}

beforeAll(() => {
  // A busybox root file system (the Dockerfile busyboxContext writes is not used).
  const ctx = busyboxContext(join(daemons.tmp, 'ctx'), ['sh', 'cat', 'echo', 'ls', 'env'], { 'etc/motd': 'from the tarball\n' });
  rootfsTar = join(daemons.tmp, 'rootfs.tar');
  execFileSync('tar', ['-C', join(ctx, 'rootfs'), '-cf', rootfsTar, '.']);
  execFileSync('sh', ['-c', `gzip -c ${rootfsTar} > ${rootfsTar}.gz`]);
});

describe('docker import, dockerd and skiff daemon side by side', () => {
  it('a tarball file, plain and gzip: the image ID printed, one layer, the same config and history; it runs', async () => {
    for (const [file, name] of [[rootfsTar, 'imp-base:1'], [`${rootfsTar}.gz`, 'imp-gz:1']] as const) {
      const made = await both(['import', '--change', 'ENV PATH=/bin', '--change', 'CMD ["sh"]', file, name]);
      for (const r of made) {
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
      }
      const ids = await both(['image', 'inspect', '--format', '{{.Id}}', name]);
      expect(ids.map((r) => r.stdout.trim())).toEqual(made.map((r) => r.stdout.trim()));
      const shape = await both(['image', 'inspect', '--format', '{{json .Config.Cmd}}|{{json .Config.Env}}|{{.Os}}|{{.Comment}}|{{len .RootFS.Layers}}', name]);
      expect(shape[1].stdout).toBe(shape[0].stdout);
      expect(shape[1].stdout).toBe('["sh"]|["PATH=/bin"]|linux|Imported from -|1\n');
      const out = await both(['run', '--rm', name, 'cat', '/etc/motd']);
      for (const r of out) expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'from the tarball\n' });
    }
    // The same tar, compressed or not, is the same layer (the diffID is of the tar as given, uncompressed).
    const layers = await both(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'imp-base:1', 'imp-gz:1']);
    for (const r of layers) {
      const [plain, gz] = r.stdout.trim().split('\n');
      expect(gz).toBe(plain);
    }
    expect(layers[1].stdout).toBe(layers[0].stdout);
    // An import event per image, named by its ID.
    const until = String(Math.ceil(Date.now() / 1000) + 1);
    const events = await both(['events', '--since', '0', '--until', until, '--filter', 'event=import', '--format', '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}']);
    for (const r of events) {
      const lines = r.stdout.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(2);
      for (const l of lines) expect(l).toMatch(/^image import (sha256:[a-f0-9]{64}) \1$/);
    }
  }, 120_000);

  it('docker export | docker import - with --change and -m: runs, and inspect and history match dockerd', async () => {
    const name = 'imp-exported:1';
    const ids: string[] = [];
    for (const url of [daemons.real.url, daemons.skiff.url]) {
      const ran = await docker(url, ['run', '--name', 'imp-src', 'imp-base:1', 'sh', '-c', 'echo made in the container > /made']);
      expect(ran.code, ran.stderr).toBe(0);
      const file = join(daemons.tmp, `export-${url === daemons.real.url ? 'dockerd' : 'skiff'}.tar`);
      const exported = await docker(url, ['export', '-o', file, 'imp-src']);
      expect(exported.code, exported.stderr).toBe(0);
      const made = await docker(url, ['import', '--change', 'CMD ["sh"]', '--change', 'ENV A=1', '-m', 'msg', '-', name], { input: readFileSync(file) });
      expect(made.code, made.stderr).toBe(0);
      expect(made.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
      ids.push(made.stdout.trim());
      expect((await docker(url, ['rm', 'imp-src'])).code).toBe(0);
    }
    const run = await both(['run', '--rm', name, 'sh', '-c', 'cat /made; echo "A=$A"; cat /etc/motd']);
    for (const r of run) expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'made in the container\nA=1\nfrom the tarball\n' });
    // A bare `docker run` takes the CMD from the change.
    const bare = await both(['run', '--rm', '-i', name], { input: Buffer.from('echo from stdin\n') });
    for (const r of bare) expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'from stdin\n' });

    const format = '{{json .Config.Cmd}}|{{json .Config.Env}}|{{json .Config.Entrypoint}}|{{.Os}}|{{.Architecture}}|{{.Comment}}|{{len .RootFS.Layers}}|{{.Author}}';
    const shape = await both(['image', 'inspect', '--format', format, name]);
    expect(shape[1].stdout).toBe(shape[0].stdout);
    expect(shape[1].stdout).toMatch(/^\["sh"\]\|\["A=1"\]\|null\|linux\|\w+\|msg\|1\|\n$/);
    const history = await both(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Comment}}', name]);
    // One row: the image, no created_by, the message as its comment.
    for (const [i, r] of history.entries()) expect(r.stdout, r.stderr).toBe(`${ids[i]}||msg\n`);
  }, 120_000);

  it('an unnamed import is a dangling image on both', async () => {
    const made = await both(['import', rootfsTar]);
    for (const r of made) expect(r.code, r.stderr).toBe(0);
    for (const [i, url] of [daemons.real.url, daemons.skiff.url].entries()) {
      const dangling = await docker(url, ['images', '-q', '--no-trunc', '-f', 'dangling=true']);
      expect(dangling.stdout.split('\n')).toContain(made[i]!.stdout.trim());
    }
  }, 60_000);

  it.each([
    ['FROM x', 'from is not a valid change command'],
    ['RUN x', 'run is not a valid change command'],
  ])('--change "%s" is refused on both with docker\'s words; nothing is stored', async (change, words) => {
    const before = await Promise.all([imageIds(daemons.real.url), imageIds(daemons.skiff.url)]);
    const r = await both(['import', '--change', change, rootfsTar, 'imp-bad:1']);
    for (const x of r) {
      expect(x.code).toBe(1);
      expect(x.stderr).toContain(words);
    }
    expect(await Promise.all([imageIds(daemons.real.url), imageIds(daemons.skiff.url)])).toEqual(before);
    for (const x of await both(['image', 'inspect', 'imp-bad:1'])) expect(x.code).toBe(1);
  }, 60_000);

  it('a damaged tarball fails on both; skiff says what is wrong; nothing is stored', async () => {
    const before = await Promise.all([imageIds(daemons.real.url), imageIds(daemons.skiff.url)]);
    const garbage = Buffer.from('this is not a tar archive, only text long enough to fill some header blocks. '.repeat(40));
    const cut = readFileSync(rootfsTar).subarray(0, 100_000);
    for (const input of [garbage, cut]) {
      const r = await both(['import', '-', 'imp-corrupt:1'], { input });
      for (const x of r) expect(x.code, x.stdout).not.toBe(0);
      expect(r[1].stderr).toMatch(/not a valid tar archive \(plain or gzip-compressed\): (corrupt|truncated) tar archive/);
      for (const x of await both(['image', 'inspect', 'imp-corrupt:1'])) expect(x.code).toBe(1);
    }
    expect(await Promise.all([imageIds(daemons.real.url), imageIds(daemons.skiff.url)])).toEqual(before);
  }, 60_000);
});

describe('docker import, what only skiff answers', () => {
  it('--platform sets the platform of the image', async () => {
    const made = await docker(daemons.skiff.url, ['import', '--platform', 'linux/arm64', rootfsTar, 'imp-arm:1']);
    expect(made.code, made.stderr).toBe(0);
    expect((await docker(daemons.skiff.url, ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', 'imp-arm:1'])).stdout).toBe('linux/arm64\n');
  });

  it('the SDK client: images.import with a name, changes, message and platform; a refused change is the API error', async () => {
    const client = connectDocker(daemons.skiff.url);
    try {
      const made = await client.images.import(readFileSync(`${rootfsTar}.gz`), { reference: 'imp-client:1', changes: ['CMD ["cat", "/etc/motd"]'], message: 'from the client', platform: { os: 'linux', architecture: 'amd64' } });
      expect(made.id).toMatch(/^sha256:[a-f0-9]{64}$/);
      const img = await client.images.inspect('imp-client:1');
      expect(img).toMatchObject({ Id: made.id, Comment: 'from the client', Os: 'linux', Architecture: 'amd64', Config: { Cmd: ['cat', '/etc/motd'] } });
      const out = await docker(daemons.skiff.url, ['run', '--rm', 'imp-client:1']);
      expect(out, out.stderr).toMatchObject({ code: 0, stdout: 'from the tarball\n' });
      await expect(client.images.import(readFileSync(rootfsTar), { changes: ['RUN x'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('run is not a valid change command') });
    } finally {
      client.close();
    }
  });

  it('a URL source is refused, saying why and what to do', async () => {
    const r = await docker(daemons.skiff.url, ['import', 'http://127.0.0.1:9/rootfs.tar', 'imp-url:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('importing from a URL (http://127.0.0.1:9/rootfs.tar) is not supported');
    expect(r.stderr).toContain('download the tarball yourself');
  });
});
