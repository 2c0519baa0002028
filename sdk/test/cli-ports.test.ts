/** `skiff run -p`, `skiff port` and the PORTS column of `skiff ps`, on the Linux backend; and the WASI backend's refusal. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { buildBusybox, linuxReady, skiff } from './support/cli.js';

const ready = linuxReady('the published-ports CLI test');

let base: string;
let root: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'skiff-cli-ports-'));
  root = join(base, 'root');
  if (!ready) return;
  await buildBusybox(root, base);
}, 120_000);

afterAll(async () => {
  if (ready) await skiff(root, 'rm', '-f', 'echo-server');
  rmSync(base, { recursive: true, force: true });
});

function reply(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    let got = '';
    s.on('data', (d) => { got += d.toString(); });
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

it.skipIf(!ready)('run -d -p, port, ps', async () => {
  const r = await skiff(root, 'run', '-d', '--name', 'echo-server', '-p', '127.0.0.1::7000', '-p', '127.0.0.1::7000/udp', 'bb:1', 'sh', '-c', 'while true; do nc -l -p 7000 -e cat; done');
  expect(r.code, r.stderr).toBe(0);
  const p = await skiff(root, 'port', 'echo-server');
  const m = /^7000\/tcp -> 127\.0\.0\.1:(\d+)\n7000\/udp -> 127\.0\.0\.1:(\d+)\n$/.exec(p.stdout);
  expect(m, p.stdout + p.stderr).not.toBeNull();
  expect((await skiff(root, 'port', 'echo-server', '7000/udp')).stdout).toBe(`127.0.0.1:${m![2]}\n`);
  let got = '';
  for (let i = 0; i < 100 && got === ''; i++) {
    got = await reply(Number(m![1]), 'over the proxy\n').catch(() => '');
    if (!got) await new Promise((res) => setTimeout(res, 50));
  }
  expect(got).toBe('over the proxy\n');
  expect((await skiff(root, 'ps')).stdout).toContain(`127.0.0.1:${m![1]}->7000/tcp, 127.0.0.1:${m![2]}->7000/udp`);
  expect((await skiff(root, 'port', 'echo-server', '7001')).stderr).toContain("No public port '7001/tcp'");
});

it('the WASI backend refuses published ports with a clear error', async () => {
  const r = await skiff(root, 'run', '--rm', '-p', '8080:80', 'skiff/toolbox', 'true');
  expect(r.code).toBe(125);
  expect(r.stderr).toContain('the wasm backend does not support published ports');
});
