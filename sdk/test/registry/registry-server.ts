/**
 * Starts Debian's docker-registry (distribution 2.8) on a free loopback port
 * with its own config and storage in a temp dir, optionally behind htpasswd
 * Basic auth; `stop()` ends it by its PID and removes the dir.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface RegistryServer {
  /** `127.0.0.1:PORT`, the domain part of image references. */
  domain: string;
  url: string;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

export function requireTool(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: install the Debian package ${pkg} (scripts/setup-test-deps.sh does)`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function htpasswdLine(user: string, password: string): string {
  requireTool('/usr/bin/htpasswd', 'apache2-utils');
  // bcrypt, the only hash distribution's htpasswd accepts.
  const r = spawnSync('/usr/bin/htpasswd', ['-Bbn', user, password], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
  return r.stdout.trim();
}

export interface TokenAuthConfig {
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate(s) whose keys sign the tokens. */
  rootCertBundle: string;
}

function config(dir: string, port: number, auth: boolean, token?: TokenAuthConfig): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: skiff-test-${Math.random().toString(36).slice(2)}`,
    ...(auth ? ['auth:', '  htpasswd:', '    realm: skiff-test', `    path: ${join(dir, 'htpasswd')}`] : []),
    ...(token ? ['auth:', '  token:', `    realm: ${token.realm}`, `    service: ${token.service}`, `    issuer: ${token.issuer}`, `    rootcertbundle: ${token.rootCertBundle}`] : []),
    '',
  ].join('\n');
}

async function waitReady(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}) before it answered: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    try {
      const res = await fetch(`${url}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${url} within 15 s: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRegistry(o: { auth?: { username: string; password: string }; token?: TokenAuthConfig } = {}): Promise<RegistryServer> {
  requireTool(REGISTRY_BIN, 'docker-registry');
  const dir = mkdtempSync(join(tmpdir(), 'skiff-registry-'));
  if (o.auth) writeFileSync(join(dir, 'htpasswd'), `${htpasswdLine(o.auth.username, o.auth.password)}\n`);
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    writeFileSync(join(dir, 'config.yml'), config(dir, port, !!o.auth, o.token));
    const logFile = join(dir, 'registry.log');
    const fd = openSync(logFile, 'a');
    const child = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, logFile);
    } catch (err) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      // Another process took the port between our probe and the registry's bind: try another.
      if (tries < 3 && /address already in use/.test(readFileSync(logFile, 'utf8'))) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return {
      domain: `127.0.0.1:${port}`,
      url,
      dir,
      pid: child.pid!,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          process.kill(child.pid!, 'SIGTERM');
          const t = setTimeout(() => { if (child.exitCode === null) process.kill(child.pid!, 'SIGKILL'); }, 5000);
          await exited;
          clearTimeout(t);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
