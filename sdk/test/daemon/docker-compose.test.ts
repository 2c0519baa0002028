/**
 * Debian's docker-compose (1.29, the Python client of the Docker API)
 * against `skiff daemon` on the Linux backend: it builds an image, makes the
 * project network, starts services in dependency order that find each other
 * by service name, execs, shows logs and ps, and tears it all down.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { docker, shutdownDaemon, startDaemon, type DaemonProcess } from './support/harness.js';

let d: DaemonProcess;
let tmp: string;
let project: string;

function compose(...args: string[]) {
  const r = spawnSync('docker-compose', args, { cwd: project, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', DOCKER_HOST: d.url }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error('docker-compose is missing: install it (apt-get install docker-compose; scripts/setup-test-deps.sh does)');
  }
  tmp = mkdtempSync(join(tmpdir(), 'skiff-docker-compose-'));
  project = join(tmp, 'shop');
  mkdirSync(join(project, 'ctx'), { recursive: true });
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox is missing: install busybox-static (scripts/setup-test-deps.sh does)');
  copyFileSync(busybox, join(project, 'ctx', 'busybox'));
  writeFileSync(join(project, 'ctx', 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n');
  writeFileSync(join(project, 'docker-compose.yml'), [
    'version: "3.8"',
    'services:',
    '  api:',
    '    build: ./ctx',
    '    image: shop-bb',
    '    command: sh -c "while true; do echo pong | nc -l -p 7300; done"',
    '  client:',
    '    image: shop-bb',
    '    command: sh -c "for i in $$(seq 50); do nc api 7300 </dev/null && exec sleep 30; sleep 0.1; done; exit 1"',
    '    depends_on: [api]',
    '',
  ].join('\n'));
  d = await startDaemon({ backends: ['linux'] });
}, 60_000);

afterAll(() => shutdownDaemon(d, tmp));

it('up -d, ps, logs, exec, down', async () => {
  const up = compose('up', '-d');
  expect(up.code, up.stderr).toBe(0);
  expect(up.stderr).toContain('Creating shop_client_1 ... done');
  let logs = '';
  for (let i = 0; i < 50 && !logs.includes('pong'); i++) {
    logs = compose('logs', '--no-color', 'client').stdout;
    if (!logs.includes('pong')) await new Promise((r) => setTimeout(r, 100));
  }
  expect(logs).toMatch(/client_1\s+\| pong/);
  const ps = compose('ps');
  expect(ps.stdout).toMatch(/shop_api_1 .* Up/);
  expect(ps.stdout).toMatch(/shop_client_1 .* Up/);
  expect(compose('exec', '-T', 'api', 'sh', '-c', 'echo in api').stdout).toBe('in api\n');
  expect((await docker(d.url, ['network', 'ls', '--format', '{{.Name}}'])).stdout).toContain('shop_default');
  const down = compose('down');
  expect(down.code, down.stderr).toBe(0);
  expect(down.stderr).toContain('Removing network shop_default');
  expect((await docker(d.url, ['ps', '-aq'])).stdout).toBe('');
});
