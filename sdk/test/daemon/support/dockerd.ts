/**
 * A real dockerd (Debian's docker.io) for differential tests: its own data
 * root, exec root and socket in a temp dir, no iptables and no bridge; stopped
 * by its PID. Needs root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, removeAllContainers } from './harness.js';

export interface Dockerd {
  url: string;
  dir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function dockerdBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v dockerd'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error("dockerd is not installed: run scripts/setup-test-deps.sh (Debian's docker.io has it)");
  if (process.getuid?.() !== 0) throw new Error('dockerd needs root for the differential tests');
  return found;
}

export async function startDockerd(): Promise<Dockerd> {
  const bin = dockerdBinary();
  const dir = mkdtempSync(join(tmpdir(), 'skiff-dockerd-'));
  const sock = join(dir, 'docker.sock');
  const child = spawn(bin, ['--iptables=false', '--bridge=none', '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'), '-H', `unix://${sock}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  const url = `unix://${sock}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dockerd exited (${child.exitCode}):\n${log.slice(-3000)}`);
    if (existsSync(sock) && (await docker(url, ['version', '--format', '{{.Server.Version}}'])).code === 0) break;
    if (Date.now() > deadline) throw new Error(`dockerd did not answer within 60 s:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    dir,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // dockerd leaves the bridges of its networks on the host when it exits: take them down with it.
        await removeAllContainers(url);
        await docker(url, ['network', 'prune', '-f'], { timeoutMs: 15_000 }).catch(() => {});
        process.kill(child.pid!, 'SIGTERM');
        const t = setTimeout(() => { try { process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 20_000);
        await exited;
        clearTimeout(t);
      }
      // Overlay mounts under the data root go with dockerd; anything left is unmounted before the delete.
      spawnSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
