/**
 * `skiff compose` end to end through the CLI and its on-disk store: a WASI
 * project (dependencies, a named volume, .env interpolation, logs, ps,
 * recreate on change, down -v) and a Linux project built from its own
 * Dockerfile whose services reach each other by name on the project's
 * network and publish a port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skiff } from './support/cli.js';

const CI = process.env.CI === 'true';
let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'skiff-compose-'));
});
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

/** Runs `skiff compose ...` with the project directory as the working directory. */
async function compose(root: string, dir: string, ...args: string[]) {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return await skiff(root, 'compose', ...args);
  } finally {
    process.chdir(cwd);
  }
}

describe('skiff compose on the WASI backend', () => {
  let root: string;
  let dir: string;
  beforeAll(() => {
    root = join(base, 'wasi-root');
    dir = join(base, 'Shop App');
    mkdirSync(dir);
    writeFileSync(join(dir, '.env'), 'GREETING=hello from .env\n');
    writeFileSync(join(dir, 'compose.yaml'), [
      'services:',
      '  reader:',
      '    image: skiff/toolbox',
      '    command: ["sh", "-c", "cat /data/note; echo \\"reader sees $$FLAVOR\\""]',
      '    environment: { FLAVOR: "${FLAVOR:-default-mode}" }',
      '    volumes: ["notes:/data:ro"]',
      '    depends_on:',
      '      writer: { condition: service_completed_successfully }',
      '  writer:',
      '    image: skiff/toolbox',
      '    command: ["sh", "-c", "echo \\"${GREETING}\\" > /data/note; echo wrote"]',
      '    volumes: ["notes:/data"]',
      'volumes:',
      '  notes: {}',
      '',
    ].join('\n'));
  });

  it('up runs dependencies first, shares the named volume, prints prefixed output; ps shows the project', async () => {
    const detached = await compose(root, dir, 'up', '-d');
    expect(detached.code).toBe(1);
    expect(detached.stderr).toContain('up -d needs the daemon');
    expect((await skiff(root, 'ps', '-a', '-q')).stdout).toBe('');
    const up = await compose(root, dir, 'up');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain('Volume shopapp_notes  Created');
    expect(up.stderr.indexOf('Container shopapp-writer-1  Started')).toBeLessThan(up.stderr.indexOf('Container shopapp-reader-1  Started'));
    expect(up.stdout).toContain('shopapp-writer-1  | wrote\n');
    expect(up.stdout).toContain('shopapp-reader-1  | hello from .env\nshopapp-reader-1  | reader sees default-mode\n');
    const ps = await compose(root, dir, 'ps', '-a', '--format', 'json');
    const rows = JSON.parse(ps.stdout) as Array<{ Name: string; Service: string; State: string; ExitCode: number }>;
    expect(rows.map((r) => [r.Name, r.Service, r.State, r.ExitCode]).sort()).toEqual([['shopapp-reader-1', 'reader', 'exited', 0], ['shopapp-writer-1', 'writer', 'exited', 0]]);
    expect((await compose(root, dir, 'logs', '--no-log-prefix', 'reader')).stdout).toBe('hello from .env\nreader sees default-mode\n');
  });

  it('a second up starts unchanged containers again and recreates changed ones', async () => {
    const again = await compose(root, dir, 'up');
    expect(again.stderr).toContain('Container shopapp-reader-1  Started');
    expect(again.stderr).not.toContain('Recreated');
    process.env.FLAVOR = 'changed';
    try {
      const changed = await compose(root, dir, 'up');
      expect(changed.stderr).toContain('Container shopapp-reader-1  Recreated');
      expect(changed.stdout).toContain('reader sees changed');
    } finally {
      delete process.env.FLAVOR;
    }
  });

  it('down -v removes the containers and the named volume', async () => {
    const down = await compose(root, dir, 'down', '-v');
    expect(down.code, down.stderr).toBe(0);
    expect((await skiff(root, 'ps', '-a', '-q')).stdout).toBe('');
    expect((await skiff(root, 'volume', 'ls', '-q')).stdout).not.toContain('shopapp_notes');
  });

  it('bad files fail with the file and the key named, and change nothing', async () => {
    const bad = join(base, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'compose.yaml'), 'services:\n  a:\n    image: skiff/toolbox\n    deploy_typo: 1\n');
    const r = await compose(root, bad, 'up', '-d');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('compose.yaml: services.a: unknown key "deploy_typo"');
    const none = await compose(root, base, 'ps');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('no compose file');
  });
});

describe('skiff compose on the Linux backend', () => {
  const ready = process.getuid?.() === 0 && existsSync('/bin/busybox') && process.platform === 'linux';
  if (!ready && CI) throw new Error('the Linux compose test needs root and busybox-static (scripts/setup-test-deps.sh installs it)');

  it.skipIf(!ready)('builds an image, services reach each other by name, a port is published, down cleans up', async () => {
    const root = join(base, 'linux-root');
    const dir = join(base, 'web');
    mkdirSync(join(dir, 'www'), { recursive: true });
    copyFileSync('/bin/busybox', join(dir, 'busybox'));
    writeFileSync(join(dir, 'www', 'index.html'), 'served by compose\n');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nCOPY www /www\n');
    writeFileSync(join(dir, 'compose.yaml'), [
      'services:',
      '  api:',
      '    build: .',
      '    command: sh -c "while true; do echo pong | nc -l -p 7300; done"',
      '    healthcheck: { test: ["CMD", "true"], interval: 100ms, retries: 3 }',
      '  web:',
      '    build: .',
      '    command: httpd -f -p 8081 -h /www',
      '    ports: ["127.0.0.1::8081"]',
      '    depends_on: [api]',
      '  client:',
      '    build: .',
      '    command: sh -c "for i in $$(seq 50); do nc api 7300 </dev/null && exec sleep 30; sleep 0.1; done; exit 1"',
      '    depends_on:',
      '      api: { condition: service_healthy }',
      '',
    ].join('\n'));
    const up = await compose(root, dir, 'up', '-d');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain('Service api  Built');
    expect(up.stderr).toContain('Container web-api-1  Healthy');
    let logs = '';
    for (let i = 0; i < 50 && !logs.includes('pong'); i++) {
      logs = (await compose(root, dir, 'logs', 'client')).stdout;
      if (!logs.includes('pong')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(logs).toBe('web-client-1  | pong\n');
    const ps = await compose(root, dir, 'ps');
    const port = /127\.0\.0\.1:(\d+)->8081\/tcp/.exec(ps.stdout)?.[1];
    expect(port, ps.stdout).toBeDefined();
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('served by compose\n');
    expect((await compose(root, dir, 'exec', 'web', 'cat', '/www/index.html')).stdout).toBe('served by compose\n');
    expect((await skiff(root, 'network', 'ls', '-q')).stdout).toBe('web_default\n');
    expect((await compose(root, dir, 'down')).code).toBe(0);
    expect((await skiff(root, 'ps', '-a', '-q')).stdout).toBe('');
    expect((await skiff(root, 'network', 'ls', '-q')).stdout).toBe('');
  });
});
