/**
 * Starting skiff-runtime `run` or `exec` and talking to it. The helper writes
 * JSON lines on fd 3: {"pid":N} once the process has exec'd (or {"error":..}
 * if it could not start), then {"exit":{"code":..,"signal":..}}. The
 * container's stdout and stderr are the helper's own pipes, so output goes
 * from the process to Node without a copy in between.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Launcher } from './launcher.js';
import type { Stdio } from '@skiff/sdk';
import { internal, unavailable } from '@skiff/sdk';
import { helperError, type HelperError } from './helper.js';

export interface ShimExit {
  code: number;
  signal: number;
}

export interface Shim {
  /** The helper process, when spawned directly (not through a launcher). */
  readonly child?: ChildProcess;
  /** Host PID of the started process (the container's PID 1 for `run`). */
  readonly pid: number;
  /** The exit the helper reported; rejects if the helper itself died without one. */
  readonly exit: Promise<ShimExit>;
  /** Settles when stdout and stderr have been copied to the end. */
  readonly drained: Promise<void>;
  /**
   * Lets this Node process exit while the shim runs on (the streams keep
   * working while it lives): for an Engine that closes with containers
   * running, such as `skiff run -d`. Output then goes to the shim's log only.
   */
  release(): void;
}

/** Copies a Node stream into a web WritableStream, honouring its backpressure. */
function pump(from: Readable, to: WritableStream<Uint8Array>): Promise<void> {
  const writer = to.getWriter();
  return new Promise<void>((resolve) => {
    let failed = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      writer.close().catch(() => {}).finally(() => { writer.releaseLock(); resolve(); });
    };
    from.on('data', (chunk: Buffer) => {
      if (failed) return;
      const w = writer.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      w.catch(() => { failed = true; from.resume(); });
      if ((writer.desiredSize ?? 1) <= 0) {
        from.pause();
        writer.ready.then(() => from.resume(), () => from.resume());
      }
    });
    from.on('error', () => {});
    from.on('end', finish);
    from.on('close', finish);
    // A launcher's socket may have ended before we got it (a fast process, a busy event loop):
    // an empty stream can end while paused, and its 'end'/'close' are gone by now.
    if (from.readableEnded || from.destroyed) finish();
    else from.resume(); // a launcher's sockets arrive paused
  });
}

/** Feeds a web ReadableStream into the child's stdin, then closes it (EOF). */
async function feed(from: ReadableStream<Uint8Array>, to: Writable): Promise<void> {
  to.on('error', () => {}); // the process may exit without reading its input
  const reader = from.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || to.destroyed) break;
      if (!to.write(value)) await new Promise<void>((r) => { to.once('drain', r); to.once('close', r); });
    }
  } catch { /* the input failed: end what the process sees */ }
  finally {
    reader.releaseLock();
    to.end();
  }
}

export function startShim(helper: string, args: string[], stdio: Stdio, context: string, env?: NodeJS.ProcessEnv): Promise<Shim> {
  let child: ChildProcess;
  try {
    child = spawn(helper, args, {
      stdio: [stdio.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
      // Its own session: the container outlives this Node process, and a terminal's ^C does not reach it unasked.
      detached: true,
      ...(env ? { env } : {}),
    });
  } catch (err) {
    return Promise.reject(unavailable(`${context}: cannot start ${helper}: ${(err as Error).message}`, err));
  }
  let ended: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };
  child.on('exit', (code, signal) => { ended = { code, signal }; });
  const how = () => ended.signal ?? (ended.code !== null ? `exit ${ended.code}` : 'closed its status pipe');
  return new Promise((resolve, reject) => {
    child.on('error', (err) => reject(unavailable(`${context}: cannot run ${helper}: ${err.message}`, err)));
    attach({ stdin: child.stdin ?? undefined, stdout: child.stdout!, stderr: child.stderr!, status: child.stdio[3] as Readable }, stdio, context, how, child).then(resolve, reject);
  });
}

/** The same through a launcher: no spawn per start. */
export async function launchShim(launcher: Launcher, args: string[], stdio: Stdio, context: string, env?: Record<string, string>): Promise<Shim> {
  const s = await launcher.launch(args, { stdin: !!stdio.stdin, ...(env ? { env } : {}) });
  return attach({ stdin: s.stdin, stdout: s.stdout, stderr: s.stderr, status: s.status }, stdio, context, () => 'closed its status stream');
}

interface Streams {
  stdin?: Writable | undefined;
  stdout: Readable;
  stderr: Readable;
  status: Readable;
}

/** Wires a shim's streams: output pumps, the status lines, stdin once the process runs. */
function attach(io: Streams, stdio: Stdio, context: string, how: () => string, child?: ChildProcess): Promise<Shim> {
  return new Promise((resolve, reject) => {
    let started = false;
    let gotExit = false;
    let exitResolve!: (e: ShimExit) => void;
    let exitReject!: (e: unknown) => void;
    const exit = new Promise<ShimExit>((res, rej) => { exitResolve = res; exitReject = rej; });
    exit.catch(() => {});
    const drained = Promise.all([pump(io.stdout, stdio.stdout), pump(io.stderr, stdio.stderr)]).then(() => {});
    let buf = '';
    io.status.setEncoding('utf8');
    io.status.on('error', () => {});
    io.status.on('data', (s: string) => {
      buf += s;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg: { pid?: number; exit?: ShimExit } & Partial<HelperError>;
        try { msg = JSON.parse(line); } catch { continue; }
        if (typeof msg.error === 'string') {
          const err = helperError({ error: msg.error, op: msg.op ?? '', errno: msg.errno ?? 0 }, context);
          if (!started) { started = true; reject(err); }
          continue;
        }
        if (typeof msg.pid === 'number' && !started) {
          started = true;
          if (stdio.stdin && io.stdin) void feed(stdio.stdin, io.stdin);
          const release = () => {
            child?.unref();
            for (const s of [io.stdin, io.stdout, io.stderr, io.status]) (s as { unref?: () => void } | undefined)?.unref?.();
          };
          resolve({ ...(child ? { child } : {}), pid: msg.pid, exit, drained, release });
        }
        if (msg.exit) { gotExit = true; exitResolve(msg.exit); }
      }
    });
    // The status stream closes when the helper is gone (its children never hold it): judge then.
    const ended = () => {
      if (!started) { started = true; reject(internal(`${context}: skiff-runtime ended (${how()}) before the process started`)); }
      if (!gotExit) exitReject(internal(`${context}: skiff-runtime ended (${how()}) without reporting the exit status`));
    };
    io.status.on('end', () => setImmediate(ended));
    io.status.on('close', ended);
    if (io.status.readableEnded || io.status.destroyed) setImmediate(ended);
    else io.status.resume();
  });
}
