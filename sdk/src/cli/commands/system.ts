import { isSkiffError } from '../../errors/index.js';
import { parseArgs, helpText, requireArgs, type FlagSpec, HELP_FLAG } from '../args.js';
import type { Command } from '../context.js';
import { json } from '../format.js';
import { inspectImage } from './images.js';


export const version: Command = {
  name: 'version',
  usage: 'skiff version',
  description: 'Show the skiff version information',
  async run(_argv, ctx) {
    const engine = await ctx.engine();
    ctx.out(`skiff version 0.1.0\nnode ${process.version}\nroot ${ctx.root}\nbackends: ${engine.backends.map((b) => b.name).join(', ') || 'none'}\n`);
    return 0;
  },
};

/** `skiff inspect NAME`: a container, else an image, else a volume — docker's lookup chain. */
export const inspect: Command = {
  name: 'inspect',
  usage: 'skiff inspect NAME|ID [NAME|ID...]',
  description: 'Return low-level information on skiff objects',
  async run(argv, ctx) {
    const { flags, args } = parseArgs(argv, [HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, [])), 0;
    requireArgs(args, 1, 'inspect');
    const engine = await ctx.engine();
    const out: unknown[] = [];
    let rc = 0;
    for (const a of args) {
      const tries: Array<() => Promise<unknown>> = [() => engine.record(a), () => inspectImage(ctx, a), () => engine.volumes.inspect(a)];
      let found = false;
      for (const t of tries) {
        try {
          out.push(await t());
          found = true;
          break;
        } catch (err) {
          if (!isSkiffError(err, 'NOT_FOUND') && !isSkiffError(err, 'INVALID_ARGUMENT')) throw err;
        }
      }
      if (!found) {
        ctx.err(`Error: No such object: ${a}\n`);
        rc = 1;
      }
    }
    ctx.out(json(out));
    return rc;
  },
};

/** `skiff system check`: verifies every blob of the store and every name's target. */
export const system: Command = {
  name: 'system',
  usage: 'skiff system check',
  description: 'Manage skiff\n\nCommands:\n  check       Verify every blob in the store against its digest',
  async run(argv, ctx) {
    if (argv[0] !== 'check') return ctx.out(helpText(this.usage, this.description, [])), argv[0] === '--help' ? 0 : 1;
    const engine = await ctx.engine();
    const layout = engine.layout as { verify?: () => Promise<string[]> };
    if (!layout.verify) { ctx.err('skiff: this store cannot be verified\n'); return 1; }
    const problems = await layout.verify();
    for (const p of problems) ctx.err(`${p}\n`);
    ctx.out(problems.length ? `${problems.length} problem(s) found\n` : 'the store is consistent\n');
    return problems.length ? 1 : 0;
  },
};
