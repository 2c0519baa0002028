/** `skiff volume create|ls|inspect|rm|prune`. */
import { parseArgs, helpText, requireArgs, UsageError, type FlagSpec, HELP_FLAG } from '../args.js';
import type { Command } from '../context.js';
import { json, table } from '../format.js';


export const volume: Command = {
  name: 'volume',
  usage: 'skiff volume COMMAND',
  description: 'Manage volumes\n\nCommands:\n  create      Create a volume\n  inspect     Display detailed information on one or more volumes\n  ls          List volumes\n  prune       Remove unused anonymous volumes\n  rm          Remove one or more volumes',
  async run(argv, ctx) {
    const [sub, ...rest] = argv;
    if (!sub || sub === '--help' || sub === 'help') return ctx.out(helpText(this.usage, this.description, [])), 0;
    const engine = await ctx.engine();
    const specs: FlagSpec[] = sub === 'ls' || sub === 'list' ? [{ name: 'quiet', short: 'q', type: 'bool', help: 'Only display volume names' }, { name: 'format', type: 'string', help: "'table' or 'json'", value: 'string' }]
      : sub === 'create' ? [{ name: 'label', type: 'list', help: 'Set metadata for a volume', value: 'list' }, { name: 'name', type: 'string', help: 'Specify volume name', value: 'string' }]
      : sub === 'rm' || sub === 'remove' ? [{ name: 'force', short: 'f', type: 'bool', help: 'Do not error when a volume does not exist' }]
      : sub === 'prune' ? [{ name: 'all', short: 'a', type: 'bool', help: 'Remove all unused volumes, not just anonymous ones' }, { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' }] : [];
    const { flags, args } = parseArgs(rest, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(`skiff volume ${sub} [OPTIONS]`, '', specs)), 0;
    switch (sub) {
      case 'create': {
        const labels: Record<string, string> = {};
        for (const l of (flags.label as string[] | undefined) ?? []) { const i = l.indexOf('='); labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1); }
        const v = await engine.volumes.create((flags.name as string | undefined) ?? args[0], { labels });
        ctx.out(v.name + '\n');
        return 0;
      }
      case 'ls':
      case 'list': {
        const vols = await engine.volumes.list();
        if (flags.quiet) return ctx.out(vols.map((v) => v.name + '\n').join('')), 0;
        if (flags.format === 'json') return ctx.out(vols.map((v) => JSON.stringify({ Name: v.name, Driver: v.driver, Mountpoint: v.mountpoint, Labels: v.labels, CreatedAt: v.createdAt }) + '\n').join('')), 0;
        ctx.out(table(vols.map((v) => [v.driver, v.name]), ['DRIVER', 'VOLUME NAME']));
        return 0;
      }
      case 'inspect': {
        requireArgs(args, 1, 'volume inspect');
        const out = [];
        for (const n of args) { const v = await engine.volumes.inspect(n); out.push({ Name: v.name, Driver: v.driver, Mountpoint: v.mountpoint, Labels: v.labels, Scope: 'local', CreatedAt: v.createdAt, Options: null }); }
        ctx.out(json(out));
        return 0;
      }
      case 'rm':
      case 'remove': {
        requireArgs(args, 1, 'volume rm');
        const used = new Set((await engine.list({ all: true })).flatMap((c) => c.mounts.filter((m) => m.type === 'volume').map((m) => m.source)));
        let rc = 0;
        for (const n of args) {
          try {
            if (used.has(n)) throw new Error(`remove ${n}: volume is in use by a container; remove the container first`);
            await engine.volumes.remove(n);
            ctx.out(n + '\n');
          } catch (err) {
            if (flags.force && (err as { code?: string }).code === 'NOT_FOUND') continue;
            ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
            rc = 1;
          }
        }
        return rc;
      }
      case 'prune': {
        const used = new Set((await engine.list({ all: true })).flatMap((c) => c.mounts.filter((m) => m.type === 'volume').map((m) => m.source)));
        const removed: string[] = [];
        for (const v of await engine.volumes.list()) {
          if (used.has(v.name) || (!v.anonymous && !flags.all)) continue;
          await engine.volumes.remove(v.name);
          removed.push(v.name);
        }
        ctx.out(removed.length ? `Deleted Volumes:\n${removed.join('\n')}\n\n` : '');
        ctx.out(`Total reclaimed space: ${removed.length} volume(s)\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "volume ${sub}"; see 'skiff volume --help'`);
    }
  },
};
