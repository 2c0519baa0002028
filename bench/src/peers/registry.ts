/**
 * A throwaway Debian docker-registry (distribution 2.8) on a free loopback
 * port, storage in a temp dir; `stop()` ends it by its PID and removes the dir.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from './tools.js';

export interface LocalRegistry {
  /** `127.0.0.1:PORT`, the domain part of image references. */
  domain: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startLocalRegistry(): Promise<LocalRegistry> {
  const bin = which('docker-registry');
  if (!bin) throw new Error('docker-registry is not installed (Debian package docker-registry)');
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(config, [
    'version: 0.1',
    'log:', '  level: error', '  accesslog:', '    disabled: true',
    'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`,
    '  maintenance:', '    uploadpurging:', '      enabled: false',
    'http:', `  addr: 127.0.0.1:${port}`, `  secret: bench-${Math.random().toString(36).slice(2)}`,
    '',
  ].join('\n'));
  const logFile = join(dir, 'registry.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, ['serve', config], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (alive()) {
      process.kill(child.pid!, 'SIGTERM');
      const t = setTimeout(() => { if (alive()) process.kill(child.pid!, 'SIGKILL'); }, 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (!alive()) {
      const log = readFileSync(logFile, 'utf8').slice(-2000);
      await stop();
      throw new Error(`docker-registry exited before it answered: ${log}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      await res.body?.cancel();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on 127.0.0.1:${port} within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { domain: `127.0.0.1:${port}`, stop };
}
