/**
 * `skiff daemon` (the CLI command) as a process: where it listens, what it
 * refuses, and a clean exit on SIGTERM and SIGINT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, bundle, docker } from './support/harness.js';

const roots: string[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function skiffDaemon(args: string[]) {
  const script = await bundle('cli-daemon-main.ts');
  const root = mkdtempSync(join(tmpdir(), 'skiff-cli-daemon-'));
  roots.push(root);
  const child = spawn(process.execPath, [script, root, ...args.map((a) => a.replace('ROOT', root))], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const listening = async (n: number) => {
    const end = Date.now() + 30_000;
    while ((out.match(/^listening on /gm) ?? []).length < n) {
      if (child.exitCode !== null) throw new Error(`skiff daemon exited ${child.exitCode}: ${err}`);
      if (Date.now() > end) throw new Error(`skiff daemon did not listen: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return [...out.matchAll(/^listening on (\S+)$/gm)].map((m) => m[1]!);
  };
  return { root, child, exited, listening, out: () => out, err: () => err };
}

describe('skiff daemon', () => {
  it('listens on <root>/skiff.sock (mode 0660) by default and closes cleanly on SIGTERM', async () => {
    const d = await skiffDaemon([]);
    const [url] = await d.listening(1);
    const sock = join(d.root, 'skiff.sock');
    expect(url).toBe(`unix://${sock}`);
    expect(statSync(sock).mode & 0o777).toBe(0o660);
    const info = await docker(url!, ['info', '--format', '{{.OperatingSystem}} {{.DockerRootDir}}']);
    expect(info.stdout.trim()).toBe(`skiff ${d.root}`);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(existsSync(sock)).toBe(false);
    expect(d.err()).toContain('SIGTERM: closing');
  });

  it('serves several hosts (a socket and loopback TCP) and stops on SIGINT', async () => {
    const d = await skiffDaemon(['--host', 'unix://ROOT/api.sock', '-H', 'tcp://127.0.0.1:0']);
    const urls = await d.listening(2);
    expect(urls[0]).toMatch(/api\.sock$/);
    expect(urls[1]).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    for (const u of urls) expect((await docker(u, ['version', '--format', '{{.Server.APIVersion}}'])).stdout.trim()).toBe('1.50');
    d.child.kill('SIGINT');
    expect(await d.exited).toBe(0);
  });

  it('refuses TCP beyond loopback unless allowed, and bad hosts', async () => {
    const wide = await skiffDaemon(['--host', 'tcp://0.0.0.0:0']);
    expect(await wide.exited).toBe(1);
    expect(wide.err()).toContain('refusing to listen on tcp://0.0.0.0:0');
    expect(wide.err()).toContain('--allow-remote-tcp');
    const bad = await skiffDaemon(['--host', 'ftp://x']);
    expect(await bad.exited).toBe(1);
    expect(bad.err()).toContain('invalid --host ftp://x');
    const allowed = await skiffDaemon(['--host', 'tcp://0.0.0.0:0', '--allow-remote-tcp']);
    expect((await allowed.listening(1))[0]).toMatch(/^tcp:\/\/0\.0\.0\.0:\d+$/);
    allowed.child.kill('SIGTERM');
    expect(await allowed.exited).toBe(0);
  });

  it('--help', async () => {
    const d = await skiffDaemon(['--help']);
    expect(await d.exited).toBe(0);
    expect(d.out()).toContain('Usage:  skiff daemon [OPTIONS]');
    expect(d.out()).toContain('--host');
  });
});
