/**
 * `skiff attach CONTAINER`: a running container's output from now on, and
 * the local stdin as one more attacher when it was created with `-i` (its
 * end detaches; with StdinOnce it closes the container's stdin). Works on a
 * container another process started: the Linux shim keeps its stdin and log.
 */
import { Readable } from 'node:stream';
import type { ReadStream as TtyReadStream, WriteStream as TtyWriteStream } from 'node:tty';
import { parseArgs, helpText, requireArgs, HELP_FLAG, type FlagSpec } from '../args.js';
import type { Command } from '../context.js';
import { conflict } from '../../errors/index.js';

const usage = 'skiff attach [OPTIONS] CONTAINER';
const description = 'Attach local standard input, output, and error streams to a running container';
const specs: FlagSpec[] = [
  { name: 'no-stdin', type: 'bool', help: 'Do not attach STDIN' },
];

export const attach: Command = {
  name: 'attach',
  usage,
  description,
  async run(argv, ctx) {
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(usage, description, specs)), 0;
    requireArgs(args, 1, usage, 1);
    const engine = await ctx.engine();
    const r = await engine.record(args[0]!);
    if (r.state.status !== 'running') throw conflict(`You cannot attach to a stopped container ${r.name}, start it first`);
    const withStdin = r.openStdin && !flags['no-stdin'];
    const stdin = withStdin ? (Readable.toWeb(ctx.io.stdin as Readable) as ReadableStream<Uint8Array>) : undefined;
    const output = await engine.attach(r.id, stdin ? { stdin } : {});
    // A terminal container with our terminal: keys go through as typed, and the window follows ours.
    const local = ctx.io.stdin as Partial<TtyReadStream>;
    const raw = r.tty && withStdin && !!local.isTTY && typeof local.setRawMode === 'function';
    if (raw) local.setRawMode!(true);
    const out = ctx.io.stdout as Partial<TtyWriteStream>;
    const resize = () => { if (out.rows && out.columns) void engine.resize(r.id, { rows: out.rows, cols: out.columns }).catch(() => {}); };
    if (r.tty && out.isTTY) {
      resize();
      out.on?.('resize', resize);
    }
    try {
      for await (const e of output as unknown as AsyncIterable<{ stream: string; data: Uint8Array }>) {
        (e.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout).write(e.data);
      }
      return (await engine.wait(r.id)).exitCode;
    } finally {
      out.off?.('resize', resize);
      if (raw) local.setRawMode!(false);
      if (stdin) (ctx.io.stdin as Readable).destroy?.(); // the container is gone: stop reading ours
    }
  },
};
