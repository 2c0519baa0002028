/**
 * A test backend that runs each container as an ordinary host process (no
 * isolation), in a directory of its own that stands for its root. It lets the
 * daemon's API be tested with real processes, real signals, real stdin and
 * long-running containers, apart from the isolating backends.
 *
 * - Commands are host programs found on PATH (sh, echo, cat, sleep...).
 * - Processes run in their own process group, detached from the daemon, so
 *   they keep running when the daemon stops. A later backend finds them by
 *   the PID it wrote (checking the start time against PID reuse); their
 *   output after that is lost and their exit code is unknown (255).
 * - exportChanges() is the container directory as a tar: files a process
 *   writes with relative paths show up at `/` in the container.
 * - Mounts, limits, users and terminals are refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { notFound, unsupported } from '../../../src/errors/index.js';
import type { Backend, BackendCapabilities, BackendContainer, BackendContext, BackendProcess, ContainerSpec, ExitStatus, ProcessSpec, ProcessStats, Stdio } from '../../../src/runtime/backend.js';
import { TarWriter, type TarHeader } from '../../../src/layers/tar-writer.js';
import type { Platform } from '../../../src/image/types.js';

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };
export const HOST_PLATFORM: Platform = { os: 'linux', architecture: GO_ARCH[process.arch] ?? process.arch };

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

function envObject(env: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Copies a Node stream into a web WritableStream; resolves at its end. */
function pump(from: Readable, to: WritableStream<Uint8Array>): Promise<void> {
  const writer = to.getWriter();
  let last: Promise<void> = Promise.resolve();
  return new Promise<void>((resolve) => {
    from.on('data', (c: Buffer) => {
      last = writer.write(new Uint8Array(c)).catch(() => {});
    });
    from.once('close', () => {
      void last.then(() => {
        writer.releaseLock();
        resolve();
      });
    });
  });
}

/** Feeds a web stream into a child's stdin, then closes it. */
function feed(child: ChildProcess, stdin: ReadableStream<Uint8Array> | undefined): void {
  const sink = child.stdin!;
  sink.on('error', () => {}); // the process may exit before reading
  if (!stdin) return void sink.end();
  void (async () => {
    const reader = stdin.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || sink.destroyed) break;
        if (!sink.write(value)) await new Promise((r) => sink.once('drain', r));
      }
    } catch {
      // stdin source failed: close the process's stdin
    } finally {
      sink.end();
      reader.releaseLock();
    }
  })();
}

function statusOf(code: number | null, signal: NodeJS.Signals | null): ExitStatus {
  if (signal) return { exitCode: 128 + (SIGNALS[signal] ?? 0), signal };
  return { exitCode: code ?? 255 };
}

function spawnProcess(p: ProcessSpec, cwd: string, detached: boolean): Promise<ChildProcess> {
  const child = spawn(p.args[0]!, p.args.slice(1), { cwd, env: envObject(p.env), detached, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child));
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(notFound(`exec: "${p.args[0]}": executable file not found in $PATH`));
      else reject(err);
    });
  });
}

class HostContainer implements BackendContainer {
  pid?: number;
  private exited?: Promise<ExitStatus>;
  private child?: ChildProcess;

  constructor(readonly id: string, private readonly spec: ContainerSpec, private readonly dir: string) {}

  private get root(): string {
    return join(this.dir, 'rootfs');
  }

  /** Finds a process started by an earlier backend instance. */
  reattach(): boolean {
    try {
      const { pid, start } = JSON.parse(readFileSync(join(this.dir, 'pid.json'), 'utf8')) as { pid: number; start: string };
      if (!alive(pid) || startTime(pid) !== start) return false;
      this.pid = pid;
      this.exited = new Promise((resolve) => {
        const t = setInterval(() => {
          if (alive(pid) && startTime(pid) === start) return;
          clearInterval(t);
          rmSync(join(this.dir, 'pid.json'), { force: true });
          this.pid = undefined;
          resolve({ exitCode: 255, error: 'exit status unknown: the process was started by an earlier daemon' });
        }, 100);
      });
      return true;
    } catch {
      return false;
    }
  }

  async start(stdio: Stdio): Promise<void> {
    mkdirSync(this.root, { recursive: true });
    const child = await spawnProcess(this.spec.process, this.root, true);
    this.child = child;
    this.pid = child.pid;
    writeFileSync(join(this.dir, 'pid.json'), JSON.stringify({ pid: child.pid, start: startTime(child.pid!) }));
    feed(child, stdio.stdin);
    const drained = Promise.all([pump(child.stdout!, stdio.stdout), pump(child.stderr!, stdio.stderr)]);
    const exit = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve(statusOf(code, signal))));
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (this.spec.timeoutMs) timer = setTimeout(() => void this.kill('SIGKILL'), this.spec.timeoutMs);
    this.exited = (async () => {
      const status = await exit;
      if (timer) clearTimeout(timer);
      // Output first: a grandchild holding the pipes must not keep the exit waiting for long.
      await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
      rmSync(join(this.dir, 'pid.json'), { force: true });
      this.pid = undefined;
      return status;
    })();
  }

  wait(): Promise<ExitStatus> {
    return this.exited ?? Promise.resolve({ exitCode: 255, error: 'the process is gone: it was started by an earlier daemon' });
  }

  async kill(signal = 'SIGKILL'): Promise<void> {
    if (this.pid === undefined) return;
    try {
      process.kill(-this.pid, signal as NodeJS.Signals);
    } catch {
      try { process.kill(this.pid, signal as NodeJS.Signals); } catch { /* already gone */ }
    }
  }

  async exec(p: ProcessSpec, stdio: Stdio): Promise<BackendProcess> {
    const child = await spawnProcess(p, this.root, false);
    feed(child, stdio.stdin);
    const drained = Promise.all([pump(child.stdout!, stdio.stdout), pump(child.stderr!, stdio.stderr)]);
    const exit = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve(statusOf(code, signal))));
    const done = exit.then(async (s) => {
      await drained;
      return s;
    });
    return {
      pid: child.pid!,
      wait: () => done,
      kill: async (signal = 'SIGKILL') => void child.kill(signal as NodeJS.Signals),
    };
  }

  exportChanges(): ReadableStream<Uint8Array> {
    const w = new TarWriter();
    const walk = async (abs: string, rel: string) => {
      for (const name of readdirSync(abs).sort()) {
        const p = join(abs, name);
        const r = rel ? `${rel}/${name}` : name;
        const st = lstatSync(p);
        const base: Omit<TarHeader, 'type' | 'size'> = { path: r, mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: Math.floor(st.mtimeMs / 1000) };
        if (st.isDirectory()) {
          await w.add({ ...base, type: 'directory', size: 0 });
          await walk(p, r);
        } else if (st.isSymbolicLink()) await w.add({ ...base, type: 'symlink', size: 0, linkname: readlinkSync(p) });
        else if (st.isFile()) await w.add({ ...base, type: 'file', size: st.size }, new Uint8Array(readFileSync(p)));
      }
    };
    void (async () => {
      if (existsSync(this.root)) await walk(this.root, '');
      await w.finish();
    })().catch((err) => w.abort(err));
    return w.readable;
  }

  async stats(): Promise<ProcessStats> {
    if (this.pid === undefined) return {};
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8').slice(0).split(') ')[1]!.split(' ');
      const ticks = Number(stat[11]) + Number(stat[12]);
      return { memoryBytes: rss, cpuNanos: ticks * 10_000_000, pids: 1 };
    } catch {
      return {};
    }
  }

  async remove(): Promise<void> {
    if (this.pid !== undefined) {
      await this.kill('SIGKILL');
      await this.exited;
    }
    this.child?.removeAllListeners();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class HostProcessBackend implements Backend {
  readonly name = 'host';
  readonly platforms = [HOST_PLATFORM];
  readonly capabilities: BackendCapabilities = {
    signals: true, exec: true, tty: false, bindMounts: false, memoryLimit: false, cpuLimit: false,
    pidsLimit: false, users: false, hostname: false, network: true, publishPorts: false,
  };
  private stateDir = '';

  async init(ctx: BackendContext): Promise<void> {
    this.stateDir = ctx.stateDir ?? join(tmpdir(), `skiff-host-backend-${process.pid}`);
    mkdirSync(this.stateDir, { recursive: true });
  }

  private check(spec: ContainerSpec): void {
    if (spec.mounts.length) throw unsupported(`the host test backend does not support mounts (${spec.mounts.map((m) => m.target).join(', ')})`);
    if (spec.process.tty) throw unsupported('the host test backend does not support a terminal (-t)');
    if (spec.process.user && spec.process.user !== 'root' && spec.process.user !== '0') throw unsupported('the host test backend cannot run as another user');
  }

  async create(spec: ContainerSpec): Promise<BackendContainer> {
    this.check(spec);
    const dir = join(this.stateDir, spec.id);
    mkdirSync(join(dir, 'rootfs'), { recursive: true });
    return new HostContainer(spec.id, spec, dir);
  }

  async restore(id: string, spec: ContainerSpec): Promise<BackendContainer | undefined> {
    const dir = join(this.stateDir, id);
    if (!existsSync(dir)) return undefined;
    const c = new HostContainer(id, spec, dir);
    c.reattach();
    return c;
  }
}
