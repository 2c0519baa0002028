/** Container verbs: create, start, ps, rm, logs, exec, stop, kill, wait, inspect. */
import { Readable } from 'node:stream';
import type { ReadStream as TtyReadStream, WriteStream as TtyWriteStream } from 'node:tty';
import { parseArgs, helpText, requireArgs, str, UsageError, type FlagSpec, HELP_FLAG } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { json, since, shortId, table } from '../format.js';
import { runningSuffix, type ContainerRecord } from '../../runtime/records.js';
import { logTimestamp, splitLines, type LogEntry } from '../../runtime/logs.js';
import { createFlags, createOptions, attachAndWait } from './run.js';
import { portsText } from './port.js';
import { startingProcess } from '../exit-code.js';


function simple(name: string, usage: string, description: string, specs: FlagSpec[], body: (flags: Record<string, unknown>, args: string[], ctx: CliContext) => Promise<number>, opts: { min?: number; max?: number; stopAtFirstArg?: boolean; aliases?: string[] } = {}): Command {
  return {
    name,
    ...(opts.aliases ? { aliases: opts.aliases } : {}),
    usage,
    description,
    async run(argv, ctx) {
      const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG], opts.stopAtFirstArg ? { stopAtFirstArg: true } : {});
      if (flags.help) return ctx.out(helpText(usage, description, specs)), 0;
      requireArgs(args, opts.min ?? 0, usage, opts.max ?? Infinity);
      return body(flags, args, ctx);
    },
  };
}

/** Runs a verb on several containers like docker: prints each name, reports each failure, exit 1 if any failed. */
async function each(args: string[], ctx: CliContext, fn: (id: string) => Promise<void>): Promise<number> {
  let rc = 0;
  for (const a of args) {
    try {
      await fn(a);
      ctx.out(a + '\n');
    } catch (err) {
      ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
      rc = 1;
    }
  }
  return rc;
}

export const create = simple('create', 'skiff create [OPTIONS] IMAGE [COMMAND] [ARG...]', 'Create a new container', createFlags, async (flags, args, ctx) => {
  const [image, ...cmd] = args as [string, ...string[]];
  const c = await (await ctx.engine()).create(createOptions(flags, image, cmd));
  ctx.out(c.id + '\n');
  return 0;
}, { min: 1, stopAtFirstArg: true });

export const start = simple('start', 'skiff start [OPTIONS] CONTAINER [CONTAINER...]', 'Start one or more stopped containers', [
  { name: 'attach', short: 'a', type: 'bool', help: 'Attach STDOUT/STDERR and forward signals' },
  { name: 'interactive', short: 'i', type: 'bool', help: "Attach container's STDIN" },
], async (flags, args, ctx) => {
  const engine = await ctx.engine();
  if (flags.attach || flags.interactive) {
    if (args.length > 1) throw new UsageError('you cannot start and attach multiple containers at once');
    return attachAndWait(engine, (await engine.record(args[0]!)).id, ctx, { stdin: !!flags.interactive });
  }
  return each(args, ctx, (id) => engine.start(id));
}, { min: 1 });

export function statusText(r: ContainerRecord): string {
  const s = r.state;
  if (s.status === 'running') return `Up ${since(s.startedAt).replace(/ ago$/, '')}${runningSuffix(s)}`;
  if (s.status === 'exited') return `Exited (${s.exitCode}) ${since(s.finishedAt)}`;
  return s.status === 'created' ? 'Created' : s.status;
}

export const ps = simple('ps', 'skiff ps [OPTIONS]', 'List containers', [
  { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
  { name: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
  { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
  { name: 'format', type: 'string', help: "Output format: 'table' or 'json'", value: 'string' },
], async (flags, _args, ctx) => {
  const list = await (await ctx.engine()).list({ all: !!flags.all });
  if (flags.quiet) return ctx.out(list.map((r) => (flags['no-trunc'] ? r.id : shortId(r.id)) + '\n').join('')), 0;
  if (flags.format === 'json') return ctx.out(list.map((r) => JSON.stringify(psJson(r)) + '\n').join('')), 0;
  const rows = list.map((r) => {
    const cmd = [r.path, ...r.args].join(' ');
    return [flags['no-trunc'] ? r.id : shortId(r.id), r.image, JSON.stringify(flags['no-trunc'] || cmd.length <= 20 ? cmd : cmd.slice(0, 19) + '…'), since(r.created), statusText(r), portsText(r), r.backend, r.name];
  });
  ctx.out(table(rows, ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'BACKEND', 'NAMES']));
  return 0;
});

function psJson(r: ContainerRecord) {
  return { ID: r.id, Image: r.image, Command: [r.path, ...r.args].join(' '), CreatedAt: r.created, State: r.state.status, Status: statusText(r), Ports: portsText(r), Names: r.name, Backend: r.backend, Labels: r.labels };
}

export const rm = simple('rm', 'skiff rm [OPTIONS] CONTAINER [CONTAINER...]', 'Remove one or more containers', [
  { name: 'force', short: 'f', type: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' },
  { name: 'volumes', short: 'v', type: 'bool', help: 'Remove anonymous volumes associated with the container' },
], async (flags, args, ctx) => {
  const engine = await ctx.engine();
  return each(args, ctx, (id) => engine.remove(id, { force: !!flags.force, volumes: !!flags.volumes }));
}, { min: 1 });

export const stop = simple('stop', 'skiff stop [OPTIONS] CONTAINER [CONTAINER...]', 'Stop one or more running containers', [
  { name: 'time', short: 't', type: 'number', help: 'Seconds to wait before killing the container (default 10)', value: 'int' },
  { name: 'signal', short: 's', type: 'string', help: 'Signal to send to the container', value: 'string' },
], async (flags, args, ctx) => {
  const engine = await ctx.engine();
  return each(args, ctx, (id) => engine.stop(id, { ...(typeof flags.time === 'number' ? { timeoutSec: flags.time } : {}), ...(str(flags.signal) ? { signal: str(flags.signal)! } : {}) }));
}, { min: 1 });

export const kill = simple('kill', 'skiff kill [OPTIONS] CONTAINER [CONTAINER...]', 'Kill one or more running containers', [
  { name: 'signal', short: 's', type: 'string', help: 'Signal to send to the container (default KILL)', value: 'string' },
], async (flags, args, ctx) => {
  const engine = await ctx.engine();
  return each(args, ctx, (id) => engine.kill(id, str(flags.signal) ?? 'SIGKILL'));
}, { min: 1 });

export const wait = simple('wait', 'skiff wait CONTAINER [CONTAINER...]', 'Block until one or more containers stop, then print their exit codes', [], async (_flags, args, ctx) => {
  const engine = await ctx.engine();
  let rc = 0;
  for (const a of args) {
    try {
      ctx.out(`${(await engine.wait(a)).exitCode}\n`);
    } catch (err) {
      ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
      rc = 1;
    }
  }
  return rc;
}, { min: 1 });

export const logs = simple('logs', 'skiff logs [OPTIONS] CONTAINER', 'Fetch the logs of a container', [
  { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
  { name: 'tail', short: 'n', type: 'string', help: 'Number of lines to show from the end of the logs (default "all")', value: 'string' },
  { name: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
  { name: 'since', type: 'string', help: 'Show logs since a timestamp (RFC 3339 or unix seconds)', value: 'string' },
], async (flags, args, ctx) => {
  const engine = await ctx.engine();
  const tail = str(flags.tail);
  const o: { follow?: boolean; tail?: number; since?: number } = { follow: !!flags.follow };
  if (tail !== undefined && tail !== 'all') {
    const n = Number(tail);
    if (!Number.isInteger(n)) throw new UsageError(`invalid --tail "${tail}": give a number of lines or "all"`);
    o.tail = n;
  }
  const sinceFlag = str(flags.since);
  if (sinceFlag !== undefined) {
    const t = /^\d+(\.\d+)?$/.test(sinceFlag) ? Number(sinceFlag) * 1000 : Date.parse(sinceFlag);
    if (!Number.isFinite(t)) throw new UsageError(`invalid --since "${sinceFlag}": use RFC 3339 or unix seconds`);
    o.since = t;
  }
  const stream = await engine.logs(args[0]!, o);
  for await (const e of stream as unknown as AsyncIterable<LogEntry>) {
    const w = e.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout;
    // As docker logs -t: each line after its time, in nanoseconds.
    for (const line of flags.timestamps ? splitLines([e]) : [e]) {
      if (flags.timestamps) w.write(logTimestamp(line) + ' ');
      w.write(line.data);
    }
  }
  return 0;
}, { min: 1, max: 1 });

export const exec = simple('exec', 'skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]', 'Execute a command in a running container', [
  { name: 'env', short: 'e', type: 'list', help: 'Set environment variables', value: 'list' },
  { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container', value: 'string' },
  { name: 'user', short: 'u', type: 'string', help: 'Username or UID', value: 'string' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
], async (flags, args, ctx) => {
  const engine = await ctx.engine();
  const [id, ...cmd] = args as [string, ...string[]];
  const stdout = new WritableStream<Uint8Array>({ write: (b) => void ctx.io.stdout.write(b) });
  const stderr = new WritableStream<Uint8Array>({ write: (b) => void ctx.io.stderr.write(b) });
  const tty = !!flags.tty;
  const win = ctx.io.stdout as Partial<TtyWriteStream>;
  const o = { cmd, ...(flags.env ? { env: flags.env as string[] } : {}), ...(str(flags.workdir) ? { workingDir: str(flags.workdir)! } : {}), ...(str(flags.user) ? { user: str(flags.user)! } : {}), ...(tty ? { tty: true, ...(win.isTTY && win.rows && win.columns ? { consoleSize: { rows: win.rows, cols: win.columns } } : {}) } : {}) };
  // With -it on a terminal, keys go to the container's terminal as typed (raw mode), as with docker exec -it.
  const local = ctx.io.stdin as Partial<TtyReadStream>;
  const raw = tty && !!flags.interactive && !!local.isTTY && typeof local.setRawMode === 'function';
  if (raw) local.setRawMode!(true);
  try {
    await engine.record(id); // a missing container is not a process that failed to start
    const p = await startingProcess(engine.execStreams(id, o, { stdout, stderr, ...(flags.interactive ? { stdin: Readable.toWeb(ctx.io.stdin as Readable) as ReadableStream<Uint8Array> } : {}) }));
    const out = ctx.io.stdout as Partial<TtyWriteStream>;
    const resize = () => { if (out.rows && out.columns) void p.resize?.({ rows: out.rows, cols: out.columns }).catch(() => {}); };
    if (tty && out.isTTY) {
      resize();
      out.on?.('resize', resize);
    }
    try {
      return (await p.wait()).exitCode;
    } finally {
      out.off?.('resize', resize);
      // The process is gone: stop reading our stdin (a terminal never ends, and would keep this process alive).
      if (flags.interactive) (ctx.io.stdin as Readable).destroy?.();
    }
  } finally {
    if (raw) local.setRawMode!(false);
  }
}, { min: 2, stopAtFirstArg: true });

export const inspectContainer = simple('container-inspect', 'skiff container inspect CONTAINER [CONTAINER...]', 'Display detailed information on one or more containers', [], async (_f, args, ctx) => {
  const engine = await ctx.engine();
  const out = [];
  for (const a of args) out.push(await engine.record(a));
  ctx.out(json(out));
  return 0;
}, { min: 1 });

export const rename = simple('rename', 'skiff rename CONTAINER NEW_NAME', 'Rename a container', [], async (_f, args, ctx) => {
  await (await ctx.engine()).rename(args[0]!, args[1]!);
  return 0;
}, { min: 2, max: 2 });

export const pause = simple('pause', 'skiff pause CONTAINER [CONTAINER...]', 'Pause all processes within one or more containers', [], async (_f, args, ctx) => {
  const engine = await ctx.engine();
  return each(args, ctx, (id) => engine.pause(id));
}, { min: 1 });

export const unpause = simple('unpause', 'skiff unpause CONTAINER [CONTAINER...]', 'Unpause all processes within one or more containers', [], async (_f, args, ctx) => {
  const engine = await ctx.engine();
  return each(args, ctx, (id) => engine.unpause(id));
}, { min: 1 });
