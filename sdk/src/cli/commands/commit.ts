/** skiff commit: a new image from a container's changes (docker commit). */
import { parseArgs, helpText, requireArgs, type FlagSpec, HELP_FLAG } from '../args.js';
import type { Command } from '../context.js';
import type { CommitOptions } from '../../runtime/commit.js';

const USAGE = 'skiff commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]';
const DESCRIPTION = "Create a new image from a container's changes";

const flags: FlagSpec[] = [
  { name: 'author', short: 'a', type: 'string', help: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")', value: 'string' },
  { name: 'change', short: 'c', type: 'list', help: 'Apply Dockerfile instruction to the created image', value: 'list' },
  { name: 'message', short: 'm', type: 'string', help: 'Commit message', value: 'string' },
  { name: 'pause', short: 'p', type: 'bool', help: 'Pause container during commit (default true)' },
];

export const commit: Command = {
  name: 'commit',
  usage: USAGE,
  description: DESCRIPTION,
  async run(argv, ctx) {
    const { flags: f, args } = parseArgs(argv, [...flags, HELP_FLAG]);
    if (f.help) return ctx.out(helpText(USAGE, DESCRIPTION, flags)), 0;
    requireArgs(args, 1, USAGE, 2);
    const o: CommitOptions = { pause: f.pause !== false, changes: (f.change as string[] | undefined) ?? [] };
    if (args[1]) o.repo = args[1];
    if (typeof f.author === 'string' && f.author) o.author = f.author;
    if (typeof f.message === 'string' && f.message) o.comment = f.message;
    const engine = await ctx.engine();
    const made = await engine.commit(args[0]!, o);
    ctx.out(made.id + '\n');
    return 0;
  },
};
