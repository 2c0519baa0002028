import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skiff } from '../../test/support/cli.js';

describe('skiff CLI', () => {
  let root: string;
  let ctx: string;
  beforeAll(() => {
    const base = mkdtempSync(join(tmpdir(), 'skiff-cli-'));
    root = join(base, 'root');
    ctx = join(base, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /etc/hello.txt\nENV A=1\nCMD ["/bin/x"]\n');
    writeFileSync(join(ctx, 'hello.txt'), 'hi\n');
  });

  it('prints help and version, and rejects unknown verbs and flags like docker', async () => {
    expect((await skiff(root, '--help')).stdout).toContain('Commands:');
    expect((await skiff(root, 'run', '--help')).stdout).toContain('Usage:  skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]');
    expect(await skiff(root, 'frobnicate')).toMatchObject({ code: 1, stderr: expect.stringContaining("'frobnicate' is not a skiff command") });
    expect(await skiff(root, 'ps', '--bogus')).toMatchObject({ code: 125, stderr: expect.stringContaining('unknown flag: --bogus') });
    expect(await skiff(root, 'run')).toMatchObject({ code: 1, stderr: expect.stringContaining('requires at least 1 argument') });
  });

  it('builds, lists, tags, inspects and removes images', async () => {
    const b = await skiff(root, 'build', '-t', 'demo:1', '--platform', 'wasip1/wasm', ctx);
    expect(b.stderr).toBe('');
    expect(b.stdout).toMatch(/Step 1\/4 : FROM scratch/);
    expect(b.stdout).toMatch(/Successfully tagged demo:1/);
    const again = await skiff(root, 'build', '-t', 'demo:1', '--platform', 'wasip1/wasm', ctx);
    expect(again.stdout).toContain('Using cache');
    const imgs = await skiff(root, 'images');
    expect(imgs.stdout).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+PLATFORM/);
    expect(imgs.stdout).toMatch(/demo\s+1\s+[a-f0-9]{12}/);
    expect((await skiff(root, 'tag', 'demo:1', 'localhost:5000/demo:2')).code).toBe(0);
    const json = (await skiff(root, 'images', '--format', 'json')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(json.map((j: { Repository: string }) => j.Repository).sort()).toEqual(['demo', 'localhost:5000/demo']);
    const ins = JSON.parse((await skiff(root, 'image', 'inspect', 'demo:1')).stdout);
    expect(ins[0]).toMatchObject({ Os: 'wasip1', Architecture: 'wasm', Config: { Env: ['A=1'], Cmd: ['/bin/x'] } });
    expect(ins[0].RepoTags.sort()).toEqual(['demo:1', 'localhost:5000/demo:2']);
    const archive = join(ctx, '..', 'demo.tar');
    expect((await skiff(root, 'save', '-o', archive, 'demo:1')).code).toBe(0);
    const other = join(ctx, '..', 'other-root');
    expect(await skiff(other, 'load', '-i', archive)).toMatchObject({ code: 0, stdout: 'Loaded image: demo:1\n' });
    expect(JSON.parse((await skiff(other, 'image', 'inspect', 'demo:1')).stdout)[0].Id).toBe(ins[0].Id);
    expect(await skiff(other, 'load', '-i', join(ctx, 'hello.txt'))).toMatchObject({ code: 1, stderr: expect.stringContaining('skiff:') });
    const rmi = await skiff(root, 'rmi', 'localhost:5000/demo:2');
    expect(rmi).toMatchObject({ code: 0, stdout: 'Untagged: localhost:5000/demo:2\n' });
    expect(await skiff(root, 'rmi', 'nope:1')).toMatchObject({ code: 1, stderr: expect.stringContaining('No such image: nope:1') });
    expect(await skiff(root, 'inspect', 'nothing-here')).toMatchObject({ code: 1, stderr: 'Error: No such object: nothing-here\n' });
  });

  it('manages volumes', async () => {
    expect(await skiff(root, 'volume', 'create', 'data')).toMatchObject({ code: 0, stdout: 'data\n' });
    expect((await skiff(root, 'volume', 'ls')).stdout).toMatch(/local\s+data/);
    expect(JSON.parse((await skiff(root, 'volume', 'inspect', 'data')).stdout)[0]).toMatchObject({ Name: 'data', Driver: 'local' });
    expect(await skiff(root, 'volume', 'rm', 'data')).toMatchObject({ code: 0, stdout: 'data\n' });
    expect(await skiff(root, 'volume', 'rm', 'data')).toMatchObject({ code: 1, stderr: expect.stringContaining('no such volume') });
    expect(await skiff(root, 'volume', 'create', 'bad name')).toMatchObject({ code: 1, stderr: expect.stringContaining('invalid volume name') });
  });

  it('reports missing images and containers with docker-like errors', async () => {
    expect(await skiff(root, 'run', '--rm', 'localhost:1/no-such-image')).toMatchObject({ code: 125, stderr: expect.stringContaining("Unable to find image 'localhost:1/no-such-image' locally") });
    expect(await skiff(root, 'logs', 'nope')).toMatchObject({ code: 1, stderr: 'skiff: No such container: nope\n' });
    expect((await skiff(root, 'ps', '-a')).stdout).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND/);
  });
});
