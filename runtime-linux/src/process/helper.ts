/**
 * Where skiff-runtime (the native helper) is, building it when it is missing
 * or older than its sources, and running its small one-shot subcommands.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkiffError, unavailable, type ErrorCode } from '@skiff/sdk';

/** The package root (the folder with runtime-linux's package.json), from src/ or from dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === '@skiff/runtime-linux') return dir;
      } catch { /* keep looking */ }
    }
    dir = dirname(dir);
  }
  throw unavailable('cannot find the @skiff/runtime-linux package folder (its native/ helper lives there)');
}

function newestSource(nativeDir: string): number {
  let newest = 0;
  for (const f of readdirSync(join(nativeDir, 'src'))) newest = Math.max(newest, statSync(join(nativeDir, 'src', f)).mtimeMs);
  return Math.max(newest, statSync(join(nativeDir, 'build.sh')).mtimeMs);
}

/**
 * The helper's path. SKIFF_RUNTIME_HELPER overrides it. A missing or stale
 * binary is rebuilt from native/src when a C compiler is there; otherwise the
 * error says which package to install.
 */
export function findHelper(): string {
  const override = process.env.SKIFF_RUNTIME_HELPER;
  if (override) {
    if (!existsSync(override)) throw unavailable(`SKIFF_RUNTIME_HELPER points at ${override}, which does not exist`);
    return override;
  }
  const nativeDir = join(packageRoot(), 'native');
  const bin = join(nativeDir, 'build', 'skiff-runtime');
  const hasSources = existsSync(join(nativeDir, 'src')) && existsSync(join(nativeDir, 'build.sh'));
  const stale = hasSources && existsSync(bin) && statSync(bin).mtimeMs < newestSource(nativeDir);
  if ((!existsSync(bin) || stale) && hasSources) {
    const r = spawnSync('sh', [join(nativeDir, 'build.sh')], { encoding: 'utf8' });
    if (!existsSync(bin)) {
      const why = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').filter(Boolean).slice(0, 4).join(' ');
      throw unavailable(`the linux backend's native helper (skiff-runtime) is not built: ${why || 'the build script failed'}`);
    }
  }
  if (!existsSync(bin)) throw unavailable(`the linux backend's native helper is missing at ${bin}; install a C compiler (Debian/Ubuntu: apt-get install gcc) and run: npm rebuild @skiff/runtime-linux`);
  return bin;
}

/** An error the helper reported as a JSON line: {"error","op","errno"}. */
export interface HelperError {
  error: string;
  op: string;
  errno: number;
}

const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 12: 'ENOMEM', 13: 'EACCES', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 20: 'ENOTDIR', 22: 'EINVAL', 28: 'ENOSPC', 30: 'EROFS', 38: 'ENOSYS', 40: 'ELOOP', 95: 'EOPNOTSUPP' };

/** The SkiffError for a helper error: exec failures by errno, setup failures as INTERNAL or UNAVAILABLE. */
export function helperError(e: HelperError, context: string): SkiffError {
  let code: ErrorCode = 'INTERNAL';
  if (e.op === 'exec') code = e.errno === 2 ? 'NOT_FOUND' : e.errno === 13 || e.errno === 8 ? 'PERMISSION_DENIED' : 'INTERNAL';
  else if (e.op === 'config' || e.op === 'usage' || e.op === 'cwd' || e.op === 'user') code = 'INVALID_ARGUMENT';
  else if (e.errno === 19 || e.errno === 38 || e.errno === 95) code = 'UNAVAILABLE';
  else if (e.op === 'cgroup' && e.errno === 3) code = 'FAILED_PRECONDITION';
  const errno = e.errno ? ` (${ERRNO_NAMES[e.errno] ?? `errno ${e.errno}`})` : '';
  // The errno's text in lower case, as Go's (runc's) errors read: the docker CLI
  // finds "permission denied" or "no such file or directory" in the daemon's
  // message to exit 126 or 127 instead of 125.
  const text = e.op === 'exec' ? e.error.replace(/: ([A-Z][a-z]+(?: [a-z]+)*)$/, (_m, s: string) => `: ${s.toLowerCase()}`) : e.error;
  return new SkiffError(code, `${context}: ${text}${errno}`);
}

export function parseHelperError(text: string): HelperError | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const j = JSON.parse(line) as Partial<HelperError>;
      if (typeof j.error === 'string') return { error: j.error, op: j.op ?? '', errno: j.errno ?? 0 };
    } catch { /* not ours */ }
  }
  return undefined;
}

/** Runs a one-shot subcommand (apply-special, list-opaque) with input on stdin; resolves with stdout. */
export function runHelper(helper: string, args: string[], input?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(helper, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(unavailable(`run ${helper}: ${e.message}`, e)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out));
      const text = Buffer.concat(err).toString('utf8');
      const he = parseHelperError(text);
      reject(he ? helperError(he, `skiff-runtime ${args[0]}`) : new SkiffError('INTERNAL', `skiff-runtime ${args[0]} failed (${signal ?? `exit ${code}`}): ${text.trim()}`));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? new Uint8Array());
  });
}
