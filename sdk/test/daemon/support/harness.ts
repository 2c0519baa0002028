/**
 * Starting daemon processes for the tests (each in a temp root, stopped by
 * its PID) and running the real docker CLI against them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll } from 'vitest';
import { buildNodeWorker } from '../../../../runtime-wasm/test/worker/support/build-worker.js';

/** Temp dirs this module made; removed after the test file (vitest ends its workers without an 'exit' event). */
const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  bundles.clear();
});

/** The repository checkout. */
export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

const bundles = new Map<string, Promise<string>>();

/** A support script bundled to one .mjs (the tests run TypeScript sources; a child process cannot). */
export function bundle(entry: string): Promise<string> {
  let p = bundles.get(entry);
  if (!p) {
    p = (async () => {
      const dir = mkdtempSync(join(tmpdir(), 'skiff-daemon-bin-'));
      made.push(dir);
      const out = join(dir, entry.replace(/\.ts$/, '.mjs'));
      await build({
        entryPoints: [fileURLToPath(new URL(`./${entry}`, import.meta.url))],
        bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'error',
        banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
        // Backends from their sources, importing this same sdk (one copy: one SkiffError class).
        alias: {
          '@skiff/sdk/node': join(REPO, 'sdk/src/node/index.ts'),
          '@skiff/sdk': join(REPO, 'sdk/src/index.ts'),
          '@skiff/runtime-wasm/node': join(REPO, 'runtime-wasm/src/node.ts'),
          '@skiff/runtime-wasm': join(REPO, 'runtime-wasm/src/index.ts'),
          '@skiff/runtime-linux': join(REPO, 'runtime-linux/src/index.ts'),
        },
      });
      return out;
    })();
    bundles.set(entry, p);
  }
  return p;
}

/** The daemon launcher (daemon-main.ts), bundled. */
export function daemonScript(): Promise<string> {
  return bundle('daemon-main.ts');
}

export interface DaemonProcess {
  pid: number;
  root: string;
  socket: string;
  /** DOCKER_HOST */
  url: string;
  urls: string[];
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  root?: string;
  backends?: string[];
  hosts?: string[];
  debug?: boolean;
  /** The daemon's default log driver and options (skiff daemon --log-driver/--log-opt). */
  logConfig?: { type: string; config: Record<string, string> };
  /**
   * Start the daemon holding an open descriptor (fd 3, a pipe, not
   * close-on-exec), as a careless parent may leave one: none may reach a
   * container.
   */
  strayFd?: boolean;
}

export async function startDaemon(o: StartOptions = {}): Promise<DaemonProcess> {
  const script = await daemonScript();
  const root = o.root ?? mkdtempSync(join(tmpdir(), 'skiff-daemon-root-'));
  mkdirSync(root, { recursive: true });
  const socket = join(root, 'skiff.sock');
  const hosts = o.hosts ?? [`unix://${socket}`];
  const child = spawn(process.execPath, [script, JSON.stringify({ root, hosts, backends: o.backends ?? ['host'], debug: o.debug ?? false, repo: REPO, ...(o.logConfig ? { logConfig: o.logConfig } : {}) })], { stdio: ['ignore', 'pipe', 'pipe', ...(o.strayFd ? ['pipe' as const] : [])], cwd: REPO });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const ready = await new Promise<{ ready: string[]; pid: number }>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line) {
        child.stdout!.off('data', onData);
        resolve(JSON.parse(line) as { ready: string[]; pid: number });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the daemon exited (${code}) before it was ready:\n${err}`)));
    setTimeout(() => reject(new Error(`the daemon did not start within 30 s:\n${err}`)), 30_000).unref();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    pid: child.pid!,
    root,
    socket,
    url: ready.ready[0]!,
    urls: ready.ready,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      process.kill(child.pid!, 'SIGTERM');
      const t = setTimeout(() => { try { process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** The docker CLI: $SKIFF_TEST_DOCKER, /usr/local/bin/docker or one on PATH; fails clearly when there is none. */
export function dockerBinary(): string {
  const chosen = process.env.SKIFF_TEST_DOCKER;
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`SKIFF_TEST_DOCKER=${chosen} does not exist`);
    return chosen;
  }
  if (existsSync('/usr/local/bin/docker')) return '/usr/local/bin/docker';
  const which = spawnSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  if (!found) throw new Error('the docker CLI is not installed: run scripts/setup-test-deps.sh (it installs Debian\'s docker.io)');
  return found;
}

export interface DockerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dockerConfig: string | undefined;

/** Runs the docker CLI against a daemon. */
export function docker(host: string, args: string[], o: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<DockerResult> {
  if (!dockerConfig) made.push((dockerConfig = mkdtempSync(join(tmpdir(), 'skiff-docker-config-'))));
  const config = dockerConfig;
  return new Promise((resolve, reject) => {
    const child = spawn(dockerBinary(), args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', DOCKER_HOST: host, DOCKER_CONFIG: config, DOCKER_CLI_HINTS: 'false', ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`docker ${args.join(' ')} did not finish within ${o.timeoutMs ?? 60_000} ms; stderr so far: ${Buffer.concat(err).toString()}`));
    }, o.timeoutMs ?? 60_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => {});
    if (o.input !== undefined) child.stdin.end(o.input);
    else child.stdin.end();
  });
}

/** Removes every container of a daemon, for afterAll: bounded in time, never throws. */
export async function removeAllContainers(host: string): Promise<void> {
  try {
    const ids = (await docker(host, ['ps', '-aq'], { timeoutMs: 15_000 })).stdout.split('\n').filter(Boolean);
    if (ids.length) await docker(host, ['rm', '-f', ...ids], { timeoutMs: 30_000 });
  } catch {
    // The daemon is stopped next, by its PID, whatever happened here.
  }
}

/** For afterAll: removes a daemon's containers, stops it, and deletes its root and the given folders. */
export async function shutdownDaemon(d: DaemonProcess | undefined, ...dirs: Array<string | undefined>): Promise<void> {
  if (d) {
    await removeAllContainers(d.url);
    // User-defined networks have bridges on the host: they go with the test.
    await docker(d.url, ['network', 'prune', '-f'], { timeoutMs: 15_000 }).catch(() => {});
    await d.stop();
    rmSync(d.root, { recursive: true, force: true });
  }
  for (const dir of dirs) if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Polls `get` (every 100 ms, for up to 10 s) until `ok` holds, and returns that value; fails saying what it still was. */
export async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  let v = await get();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await get();
  }
  if (!ok(v)) throw new Error(`${what}: still ${JSON.stringify(v)}`);
  return v;
}

/**
 * `skiff daemon` running WASI containers in worker threads, as it does by
 * default, with this checkout's worker bundle. `close` shuts it down
 * (containers, networks, its root) and drops the bundle.
 */
export async function startWorkerDaemon(): Promise<DaemonProcess & { close(): Promise<void> }> {
  const worker = await buildNodeWorker();
  process.env.SKIFF_TEST_WASM_WORKER = worker.url.href;
  try {
    const d = await startDaemon({ backends: ['wasm-worker'] });
    return Object.assign(d, { close: async () => { await shutdownDaemon(d); worker.dispose(); } });
  } catch (err) {
    worker.dispose();
    throw err;
  }
}

/**
 * A docker build context in `dir` for a busybox image (with a /tmp): `rootfs/bin` holds the
 * host's static busybox and the named applets, `files` are added under
 * `rootfs/`, and the Dockerfile copies the root in.
 */
export function busyboxContext(dir: string, applets: string[], files: Record<string, string> = {}, dockerfileTail = 'ENV PATH=/bin\nCMD ["sh"]\n'): string {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox is missing: install busybox-static (scripts/setup-test-deps.sh does)');
  mkdirSync(join(dir, 'rootfs/bin'), { recursive: true });
  mkdirSync(join(dir, 'rootfs/tmp'), { mode: 0o1777 });
  copyFileSync(busybox, join(dir, 'rootfs/bin/busybox'));
  for (const a of applets) symlinkSync('busybox', join(dir, 'rootfs/bin', a));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'rootfs', path)), { recursive: true });
    writeFileSync(join(dir, 'rootfs', path), text);
  }
  writeFileSync(join(dir, 'Dockerfile'), `FROM scratch\nCOPY rootfs/ /\n${dockerfileTail}`);
  return dir;
}
