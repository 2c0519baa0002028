/**
 * Finding and running peer programs. A missing peer is reported by the case as
 * "not measured" with the package that provides it, never hidden.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Debian packages that provide each peer command (bench/scripts/setup-peers.sh installs them). */
export const PEER_PACKAGES: Record<string, string> = {
  skopeo: 'skopeo',
  umoci: 'umoci',
  'docker-registry': 'docker-registry',
  crun: 'crun',
  runc: 'runc',
  tar: 'tar',
  gzip: 'gzip',
  busybox: 'busybox-static',
  unshare: 'util-linux',
};

/** The absolute path of `cmd` on PATH (plus the sbin folders), or undefined. */
export function which(cmd: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why a peer command cannot be measured, or undefined when it is present. */
export function missingTool(cmd: string): string | undefined {
  if (which(cmd)) return undefined;
  const pkg = PEER_PACKAGES[cmd];
  return `${cmd} is not installed${pkg ? ` (Debian package ${pkg}; run bench/scripts/setup-peers.sh as root)` : ''}`;
}

export interface RunOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; fails with its stderr when it exits non-zero (unless `allowFail`). */
export function exec(cmd: string, args: string[], o: SpawnOptions & { allowFail?: boolean; input?: string } = {}): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...o, stdio: [o.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (o.input !== undefined) child.stdin!.end(o.input);
    child.once('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.once('close', (code, signal) => {
      const r = { code: code ?? 128, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if ((code !== 0 || signal) && !o.allowFail) reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${r.stderr.trim().slice(-2000)}`));
      else resolve(r);
    });
  });
}

/** Yields to the event loop (timers and I/O callbacks run). */
export function yieldToLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
