/**
 * Exec: `POST /containers/{id}/exec` makes an exec instance (kept in memory,
 * as dockerd does), `POST /exec/{id}/start` runs it (hijacked for the CLI, a
 * plain streamed 200 for dockerode and testcontainers), `GET /exec/{id}/json`
 * reports it, with the final ExitCode set before the start stream ends.
 */
import { randomBytes } from 'node:crypto';
import { conflict, invalidArgument, notFound, unsupported } from '../../errors/index.js';
import type { BackendProcess, TtySize } from '../../runtime/backend.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys, watchDetachKeys } from '../detach-keys.js';
import { encodeFrames, MULTIPLEXED, RAW_STREAM, type StdStream } from '../../client/stdcopy.js';
import type { Router } from '../router.js';
import type { DaemonContext } from '../context.js';
import type { ResponseStream } from '../exchange.js';

export interface ExecConfig {
  Cmd?: string[] | string;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Tty?: boolean;
  /** [rows, cols] of the client's terminal (API 1.42+). */
  ConsoleSize?: [number, number] | null;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Privileged?: boolean;
  DetachKeys?: string;
}

export interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  cmd: string[];
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  /** The running process, for resize. */
  process?: BackendProcess;
  /** Settles with the process once a start has made it (undefined if it could not). */
  starting?: Promise<BackendProcess | undefined>;
  /** A resize that came before any start: the process starts with that size. */
  pendingSize?: TtySize;
}

/** `?h=ROWS&w=COLS` of a resize request; undefined for 0x0, which clients send when they know no size (a no-op, as in dockerd). */
export function ttySize(h: string | undefined, w: string | undefined): TtySize | undefined {
  const rows = Number(h);
  const cols = Number(w);
  if (h === undefined || w === undefined || !Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || rows > 65535 || cols > 65535) {
    throw invalidArgument(`invalid terminal size h=${h ?? ''} w=${w ?? ''}: both must be whole numbers from 0 to 65535`);
  }
  return rows && cols ? { rows, cols } : undefined;
}

/** Keep at most this many finished exec instances. */
const MAX_FINISHED = 1000;

function execJson(e: ExecInstance) {
  return {
    ID: e.id,
    Running: e.running,
    ExitCode: e.exitCode,
    ProcessConfig: { tty: e.config.Tty ?? false, entrypoint: e.cmd[0] ?? '', arguments: e.cmd.slice(1), privileged: e.config.Privileged ?? false, user: e.config.User ?? '' },
    OpenStdin: e.config.AttachStdin ?? false,
    OpenStderr: e.config.AttachStderr ?? false,
    OpenStdout: e.config.AttachStdout ?? false,
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: e.config.DetachKeys ?? '',
    Pid: e.pid,
  };
}

/** A writable that sends each chunk to the client: framed without a TTY, raw with one. */
function sink(out: ResponseStream | undefined, stream: StdStream, tty: boolean, enabled: boolean) {
  let last: Promise<void> = Promise.resolve();
  return {
    stream: new WritableStream<Uint8Array>({
      write(chunk) {
        if (!out || !enabled || chunk.length === 0) return;
        last = out.write(tty ? chunk : encodeFrames(stream, chunk));
        return last;
      },
    }),
    /** Waits for chunks the backend wrote before its process ended. */
    async flushed() {
      await new Promise((res) => setImmediate(res));
      await last;
    },
  };
}

function prune(ctx: DaemonContext): void {
  const finished = [...ctx.execs.values()].filter((e) => e.started && !e.running);
  for (const e of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED))) ctx.execs.delete(e.id);
}

export function execRoutes(r: Router<DaemonContext>): void {
  r.add('POST', '/containers/:id/exec', async (x, ctx) => {
    const rec = await ctx.engine.record(x.params.id!);
    const config = (await x.json<ExecConfig>()) ?? {};
    const cmd = typeof config.Cmd === 'string' ? [config.Cmd] : (config.Cmd ?? []);
    if (cmd.length === 0) throw invalidArgument('No exec command specified');
    if (config.DetachKeys) parseDetachKeys(config.DetachKeys); // a bad one is refused now, not at start
    if (rec.state.status !== 'running') throw conflict(`container ${rec.id} is not running`);
    // Refused here, with a clear answer, rather than in the hijacked stream of the start.
    const backend = ctx.engine.backends.find((b) => b.name === rec.backend);
    if (config.Tty && backend && !backend.capabilities.tty) throw unsupported(`the ${backend.name} backend does not support a terminal (docker exec -t); run it without -t (stdin still works with -i)`);
    const id = randomBytes(32).toString('hex');
    ctx.execs.set(id, { id, containerId: rec.id, config, cmd, running: false, started: false, exitCode: null, pid: 0 });
    prune(ctx);
    ctx.events.emit('container', `exec_create: ${cmd.join(' ')}`, rec.id, { ...ctx.containerAttributes(rec), execID: id });
    x.sendJson(201, { Id: id });
  });

  r.add('POST', '/exec/:id/start', async (x, ctx) => {
    const e = ctx.execs.get(x.params.id!);
    if (!e) throw notFound(`No such exec instance: ${x.params.id}`);
    const body = (await x.json<{ Detach?: boolean; Tty?: boolean }>()) ?? {};
    if (e.started) throw conflict(`exec instance ${e.id} has already been started`);
    const rec = await ctx.engine.record(e.containerId);
    if (rec.state.status !== 'running') throw conflict(`container ${rec.id} is not running`);
    const tty = body.Tty ?? e.config.Tty ?? false;
    e.started = true;
    const detach = body.Detach ?? false;
    const out = detach ? undefined : x.hijack(tty ? RAW_STREAM : MULTIPLEXED);
    let stdin = !detach && e.config.AttachStdin && out && 'input' in out ? (out as { input?: ReadableStream<Uint8Array> }).input : undefined;
    if (stdin) {
      // The detach keys end this client's connection; the process runs on.
      const watched = watchDetachKeys(stdin, parseDetachKeys(e.config.DetachKeys || DEFAULT_DETACH_KEYS));
      stdin = watched.input;
      void watched.detached.then((d) => { if (d) out?.end(); });
    }
    const stdout = sink(out, 'stdout', tty, e.config.AttachStdout ?? true);
    const stderr = sink(out, 'stderr', tty, e.config.AttachStderr ?? true);
    let proc: BackendProcess;
    let started!: (p: BackendProcess | undefined) => void;
    e.starting = new Promise((r) => (started = r));
    try {
      proc = await ctx.engine.execStreams(e.containerId, {
        cmd: e.cmd,
        ...(e.config.Env?.length ? { env: e.config.Env } : {}),
        ...(e.config.WorkingDir ? { workingDir: e.config.WorkingDir } : {}),
        ...(e.config.User ? { user: e.config.User } : {}),
        ...(tty ? { tty: true } : {}),
        ...(tty && e.pendingSize ? { consoleSize: e.pendingSize } : tty && e.config.ConsoleSize && e.config.ConsoleSize[0] > 0 && e.config.ConsoleSize[1] > 0 ? { consoleSize: { rows: e.config.ConsoleSize[0], cols: e.config.ConsoleSize[1] } } : {}),
      }, {
        stdout: stdout.stream,
        stderr: stderr.stream,
        ...(stdin ? { stdin } : {}),
      });
    } catch (err) {
      started(undefined);
      e.exitCode = 126;
      if (!out) throw err;
      // The answer has begun: report the failure in the stream, as dockerd does.
      await out.write(tty ? new TextEncoder().encode(`${(err as Error).message}\r\n`) : encodeFrames('stderr', new TextEncoder().encode(`${(err as Error).message}\n`)));
      out.end();
      return;
    }
    e.running = true;
    e.pid = proc.pid ?? 0;
    e.process = proc;
    started(proc);
    ctx.events.emit('container', `exec_start: ${e.cmd.join(' ')}`, rec.id, { ...ctx.containerAttributes(rec), execID: e.id });
    if (detach) x.send(200);
    const status = await proc.wait().catch((err: Error) => ({ exitCode: 126, error: err.message }));
    await Promise.all([stdout.flushed(), stderr.flushed()]);
    // Final before the stream ends: clients read ExitCode right after EOF.
    e.exitCode = status.exitCode;
    e.running = false;
    delete e.process;
    ctx.events.emit('container', 'exec_die', rec.id, { ...ctx.containerAttributes(rec), execID: e.id, exitCode: String(status.exitCode) });
    out?.end();
  });

  r.add('GET', '/exec/:id/json', async (x, ctx) => {
    const e = ctx.execs.get(x.params.id!);
    if (!e) throw notFound(`No such exec instance: ${x.params.id}`);
    x.sendJson(200, execJson(e));
  });

  r.add('POST', '/exec/:id/resize', async (x, ctx) => {
    const e = ctx.execs.get(x.params.id!);
    if (!e) throw notFound(`No such exec instance: ${x.params.id}`);
    const size = ttySize(x.str('h'), x.str('w'));
    if (e.config.Tty && size) {
      // During a start, wait for the process: the answer comes once the size is set.
      const proc = e.process ?? (await e.starting);
      if (proc?.resize && e.running) await proc.resize(size);
      else if (!e.started) e.pendingSize = size; // the start uses it
    }
    x.send(200);
  });
}
