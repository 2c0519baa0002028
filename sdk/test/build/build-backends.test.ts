/**
 * Dockerfile builds on both backends, through the CLI with its on-disk store:
 * RUN steps run in containers of the stage's platform, the built images run as
 * written, and real tools (umoci, skopeo) accept what the builder wrote.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skiff } from '../support/cli.js';

const CI = process.env.CI === 'true';
const isRoot = process.getuid?.() === 0;
const tool = (cmd: string) => { try { execFileSync('sh', ['-c', `command -v ${cmd}`]); return true; } catch { return false; } };

describe('builds on the WASI backend', () => {
  let root: string;
  let ctx: string;
  beforeAll(() => {
    const base = mkdtempSync(join(tmpdir(), 'skiff-build-wasm-'));
    root = join(base, 'root');
    ctx = join(base, 'ctx');
    mkdirSync(join(ctx, 'site'), { recursive: true });
    writeFileSync(join(ctx, 'site', 'index.html'), '<h1>hi</h1>\n');
    writeFileSync(join(ctx, 'Dockerfile'), [
      'FROM skiff/toolbox AS base',
      'ENV GREETING=hello',
      'WORKDIR /app',
      'COPY site/ ./site/',
      'RUN mkdir -p /app/generated && echo "$GREETING from RUN" > /app/generated/note && ls site > /app/generated/listing',
      'RUN ["/bin/sh", "-c", "rm /app/site/index.html && echo exec-form >> /app/generated/note"]',
      'FROM skiff/toolbox',
      'COPY --from=base /app/generated /out',
      'CMD ["sh", "-c", "cat /out/note /out/listing; ls /app 2>&1 || true"]',
    ].join('\n') + '\n');
  });

  it('runs RUN steps in WASI containers and the image behaves as written', async () => {
    const b = await skiff(root, 'build', '-t', 'site:1', ctx);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/Step 5\/9 : RUN mkdir/);
    const r = await skiff(root, 'run', '--rm', 'site:1');
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['hello from RUN', 'exec-form', 'index.html']);
    expect(r.code).toBe(0);
    // The second stage does not carry the first stage's files.
    expect((await skiff(root, 'run', '--rm', 'site:1', 'cat', '/app/site/index.html')).code).not.toBe(0);
    // The whiteout of the deleted file hides it in the first stage's image too.
    await skiff(root, 'build', '-t', 'base:1', '--target', 'base', ctx);
    expect((await skiff(root, 'run', '--rm', 'base:1', 'cat', '/app/site/index.html')).code).not.toBe(0);
    // An unchanged rebuild takes every step from the cache and gives the same image.
    const id1 = JSON.parse((await skiff(root, 'image', 'inspect', 'site:1')).stdout)[0].Id;
    const again = await skiff(root, 'build', '-t', 'site:1', ctx);
    expect(again.stdout.match(/Using cache/g)?.length).toBeGreaterThanOrEqual(7);
    expect(JSON.parse((await skiff(root, 'image', 'inspect', 'site:1')).stdout)[0].Id).toBe(id1);
  });

  it('runs a base image\'s ONBUILD RUN trigger in the child build', async () => {
    const dir = join(ctx, '..', 'onbuild');
    mkdirSync(join(dir, 'base'), { recursive: true });
    mkdirSync(join(dir, 'child'), { recursive: true });
    writeFileSync(join(dir, 'base', 'Dockerfile'), 'FROM skiff/toolbox\nONBUILD COPY name.txt /name.txt\nONBUILD RUN echo "hello $(cat /name.txt)" > /greeting\n');
    writeFileSync(join(dir, 'child', 'Dockerfile'), 'FROM onbuild-base:1\nCMD ["cat", "/greeting"]\n');
    writeFileSync(join(dir, 'child', 'name.txt'), 'child');
    expect((await skiff(root, 'build', '-t', 'onbuild-base:1', join(dir, 'base'))).code).toBe(0);
    const b = await skiff(root, 'build', '-t', 'onbuild-child:1', join(dir, 'child'));
    expect(b.stderr).toBe('');
    expect(b.stdout).toContain('# Executing 2 build triggers');
    expect(await skiff(root, 'run', '--rm', 'onbuild-child:1')).toMatchObject({ code: 0, stdout: 'hello child\n' });
  });

  it('fails a RUN that exits non-zero with docker words, and keeps the store as it was', async () => {
    const bad = join(ctx, '..', 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'Dockerfile'), 'FROM skiff/toolbox\nRUN echo partial > /f && exit 3\n');
    const before = (await skiff(root, 'images', '-q')).stdout;
    const r = await skiff(root, 'build', '-t', 'bad:1', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Dockerfile:2:1: RUN: The command '/bin/sh -c echo partial > /f && exit 3' returned a non-zero code: 3");
    expect((await skiff(root, 'images', '-q')).stdout).toBe(before);
  });

  it('writes images that skopeo and umoci read', async (t) => {
    if (!tool('skopeo') || !tool('umoci')) {
      if (CI) throw new Error('skopeo and umoci are needed (scripts/setup-test-deps.sh installs them)');
      return t.skip();
    }
    const out = execFileSync('skopeo', ['inspect', `oci:${join(root, 'images')}:docker.io/library/site:1`]).toString();
    expect(JSON.parse(out)).toMatchObject({ Os: 'wasip1', Architecture: 'wasm' });
    // umoci makes no runtime config for wasip1, so unpack the root file system only.
    const rootfs = join(root, '..', 'rootfs');
    execFileSync('umoci', ['raw', 'unpack', ...(isRoot ? [] : ['--rootless']), '--image', `${join(root, 'images')}:docker.io/library/site:1`, rootfs]);
    expect(readFileSync(join(rootfs, 'out', 'note'), 'utf8')).toBe('hello from RUN\nexec-form\n');
    expect(existsSync(join(rootfs, 'bin', 'toolbox.wasm'))).toBe(true);
  });
});

describe('builds on the Linux backend', () => {
  const ready = isRoot && existsSync('/bin/busybox') && process.platform === 'linux';
  it('builds a busybox image with RUN, COPY, ENV, WORKDIR, USER and two stages, and runs it', async (t) => {
    if (!ready) {
      if (CI) throw new Error('the Linux build test needs root and busybox-static (scripts/setup-test-deps.sh installs it)');
      return t.skip();
    }
    const base = mkdtempSync(join(tmpdir(), 'skiff-build-linux-'));
    const root = join(base, 'root');
    const ctx = join(base, 'ctx');
    mkdirSync(ctx);
    copyFileSync('/bin/busybox', join(ctx, 'busybox'));
    writeFileSync(join(ctx, 'app.sh'), '#!/bin/sh\necho "app as $(id -u) in $(pwd) with $MODE"\ncat /etc/built-by\n');
    writeFileSync(join(ctx, 'Dockerfile'), [
      'FROM scratch AS bb',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'RUN mkdir -p /etc && echo "root:x:0:0::/root:/bin/sh" > /etc/passwd && echo "app:x:1000:1000::/home/app:/bin/sh" >> /etc/passwd',
      'FROM bb',
      'ENV MODE=production',
      'WORKDIR /srv/app',
      'COPY --chmod=755 app.sh ./',
      // A name from the /etc/passwd the RUN step above wrote (no group "app": the user's primary group).
      'COPY --chown=app app.sh /srv/owned.sh',
      'RUN echo "a RUN step" > /etc/built-by && chown -R 1000:1000 /srv/app',
      'USER 1000',
      'CMD ["/srv/app/app.sh"]',
    ].join('\n') + '\n');
    const b = await skiff(root, 'build', '-t', 'linux-app:1', '--platform', 'linux/amd64', ctx);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    const r = await skiff(root, 'run', '--rm', 'linux-app:1');
    expect(r).toMatchObject({ code: 0, stdout: 'app as 1000 in /srv/app with production\na RUN step\n' });
    const ins = JSON.parse((await skiff(root, 'image', 'inspect', 'linux-app:1')).stdout)[0];
    expect(ins).toMatchObject({ Os: 'linux', Architecture: 'amd64', Config: { User: '1000', WorkingDir: '/srv/app' } });
    expect(await skiff(root, 'run', '--rm', 'linux-app:1', 'stat', '-c', '%u:%g', '/srv/owned.sh')).toMatchObject({ code: 0, stdout: '1000:1000\n' });
  });
});
