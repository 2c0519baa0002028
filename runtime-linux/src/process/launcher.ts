/**
 * A launcher for shims, saving Node's `spawn` (about 2 ms) on every start and
 * exec. One `skiff-runtime serve` per backend keeps a shim forked ahead of
 * time waiting for the next request (framed: length, newline, JSON); the
 * shim connects back to an abstract unix socket of ours once per stream
 * ("TOKEN N\n": 0 stdin, 1 stdout, 2 stderr, 3 status) and uses the
 * connections as its fds 0-3, exactly as a spawned helper uses Node's pipes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { internal, unavailable } from '@skiff/sdk';

export interface LaunchedStreams {
  stdin?: Socket;
  stdout: Socket;
  stderr: Socket;
  status: Socket;
}

interface Waiting {
  streams: Array<Socket | undefined>;
  need: number[];
  resolve: (s: LaunchedStreams) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

const CONNECT_TIMEOUT_MS = 10_000;

export class Launcher {
  private readonly waiting = new Map<string, Waiting>();
  private closed = false;

  private constructor(private readonly server: Server, private readonly proc: ChildProcess, readonly name: string) {
    server.on('connection', (s) => this.accept(s));
    proc.on('exit', () => {
      this.closed = true;
      for (const [token, w] of this.waiting) { clearTimeout(w.timer); w.reject(internal('the skiff-runtime launcher exited')); this.waiting.delete(token); }
    });
  }

  static async start(helper: string): Promise<Launcher> {
    const name = `skiff-${process.pid}-${randomBytes(8).toString('hex')}`;
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(`\0${name}`, () => { server.off('error', reject); resolve(); });
    });
    const proc = spawn(helper, ['serve', '--socket', name], { stdio: ['pipe', 'ignore', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve);
      proc.once('error', (e) => reject(unavailable(`start the skiff-runtime launcher: ${e.message}`, e)));
    });
    // Neither keeps this process alive on its own; running containers' streams do.
    server.unref();
    proc.unref();
    (proc.stdin as unknown as { unref?: () => void }).unref?.();
    proc.stdin!.on('error', () => {});
    return new Launcher(server, proc, name);
  }

  get alive(): boolean {
    return !this.closed;
  }

  private accept(s: Socket): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 200) s.destroy();
        return;
      }
      s.off('data', onData);
      s.pause();
      const [token, stream] = head.subarray(0, nl).toString('utf8').split(' ');
      const rest = head.subarray(nl + 1);
      if (rest.length) s.unshift(rest);
      const w = this.waiting.get(token ?? '');
      const i = Number(stream);
      if (!w || !w.need.includes(i) || w.streams[i]) { s.destroy(); return; }
      w.streams[i] = s;
      if (w.need.every((n) => w.streams[n])) {
        clearTimeout(w.timer);
        this.waiting.delete(token!);
        w.resolve({ ...(w.streams[0] ? { stdin: w.streams[0] } : {}), stdout: w.streams[1]!, stderr: w.streams[2]!, status: w.streams[3]! });
      }
    };
    s.on('data', onData);
    s.on('error', () => {});
  }

  /** Forks a shim running `args` (run or exec); resolves with its streams once all are connected. */
  launch(args: string[], o: { stdin: boolean; env?: Record<string, string> }): Promise<LaunchedStreams> {
    if (this.closed) return Promise.reject(internal('the skiff-runtime launcher is closed'));
    const token = randomBytes(16).toString('hex');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const w = this.waiting.get(token);
        this.waiting.delete(token);
        for (const s of w?.streams ?? []) s?.destroy();
        reject(internal(`the skiff-runtime launcher did not start "${args[0]}" within ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
      this.waiting.set(token, { streams: [], need: o.stdin ? [0, 1, 2, 3] : [1, 2, 3], resolve, reject, timer });
      this.send({ token, args, stdin: o.stdin, ...(o.env ? { env: o.env } : {}) });
    });
  }

  /** Deletes directory trees in a process of the launcher's (fire and forget). */
  remove(dirs: string[]): boolean {
    if (this.closed) return false;
    return this.send({ remove: dirs }) || true;
  }

  /** One request: its length in bytes on a line, then the JSON (a waiting shim reads exactly that much). */
  private send(request: object): boolean {
    const body = JSON.stringify(request);
    return this.proc.stdin!.write(`${Buffer.byteLength(body)}\n${body}`);
  }

  close(): void {
    this.closed = true;
    this.proc.stdin?.end();
    this.server.close();
  }
}
