import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, helpText, requireArgs, list, str, UsageError, type FlagSpec, HELP_FLAG } from '../args.js';
import type { Command } from '../context.js';
import { Builder } from '../../build/builder.js';
import { resultText, stepText } from '../../build/progress-text.js';
import { DirectoryContext } from '../../node/build-context.js';
import { FsBuildCache } from '../../node/build-cache.js';
import { rootPaths } from '../../node/root.js';

const specs: FlagSpec[] = [
  { name: 'tag', short: 't', type: 'list', help: "Name and optionally a tag in the 'name:tag' format", value: 'list' },
  { name: 'file', short: 'f', type: 'string', help: "Name of the Dockerfile (default: 'PATH/Dockerfile')", value: 'string' },
  { name: 'build-arg', type: 'list', help: 'Set build-time variables', value: 'list' },
  { name: 'target', type: 'string', help: 'Set the target build stage to build', value: 'string' },
  { name: 'no-cache', type: 'bool', help: 'Do not use cache when building the image' },
  { name: 'platform', type: 'string', help: 'Set platform for stages without --platform (e.g. wasip1/wasm)', value: 'string' },
  { name: 'label', type: 'list', help: 'Set metadata for an image', value: 'list' },
  { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the build output and print image ID on success' },
];

export const build: Command = {
  name: 'build',
  usage: 'skiff build [OPTIONS] PATH',
  description: 'Build an image from a Dockerfile',
  async run(argv, ctx) {
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, specs)), 0;
    requireArgs(args, 1, 'build', 1);
    const dir = resolve(args[0]!);
    const context = new DirectoryContext(dir);
    const kv = (items: string[], what: string) => Object.fromEntries(items.map((a) => {
      const i = a.indexOf('=');
      if (i <= 0) {
        if (what === 'build-arg' && i < 0 && process.env[a] !== undefined) return [a, process.env[a]!];
        throw new UsageError(`invalid --${what} "${a}": expected KEY=VALUE`);
      }
      return [a.slice(0, i), a.slice(i + 1)];
    }));
    const engine = await ctx.engine();
    const builder = new Builder(engine, new FsBuildCache(rootPaths(ctx.root).root + '/build-cache.json'));
    const quiet = !!flags.quiet;
    const file = str(flags.file);
    const epoch = process.env.SOURCE_DATE_EPOCH;
    const result = await builder.build({
      context,
      ...(file ? (resolve(file).startsWith(dir + '/') ? { dockerfile: resolve(file).slice(dir.length + 1) } : { dockerfile: file, dockerfileText: readFileSync(file, 'utf8') }) : {}),
      tags: list(flags.tag),
      buildArgs: kv(list(flags['build-arg']), 'build-arg'),
      labels: kv(list(flags.label), 'label'),
      ...(str(flags.target) ? { target: str(flags.target)! } : {}),
      ...(flags['no-cache'] ? { noCache: true } : {}),
      ...(str(flags.platform) ? { platform: str(flags.platform)! } : {}),
      ...(epoch !== undefined && /^\d+$/.test(epoch) ? { sourceDateEpoch: Number(epoch) } : {}),
      onProgress: (e) => {
        if (quiet) return;
        // RUN output goes through as bytes, to the stream it came on.
        if (e.type === 'output') (e.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout).write(e.data);
        else {
          const text = stepText(e);
          if (text !== undefined) ctx.out(text);
        }
      },
    });
    if (quiet) ctx.out(result.id + '\n');
    else for (const line of resultText(result.id, result.names)) ctx.out(line);
    return 0;
  },
};
