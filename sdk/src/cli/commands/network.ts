/** `skiff network create|ls|inspect|rm|prune|connect|disconnect`: user-defined bridge networks. */
import { parseArgs, helpText, requireArgs, list, UsageError, type FlagSpec, HELP_FLAG } from '../args.js';
import type { Command } from '../context.js';
import { json, table } from '../format.js';

const description = `Manage networks

Commands:
  connect     Connect a container to a network
  create      Create a network
  disconnect  Disconnect a container from a network
  inspect     Display detailed information on one or more networks
  ls          List networks
  prune       Remove all networks no container is on
  rm          Remove one or more networks`;

const subSpecs: Record<string, FlagSpec[]> = {
  create: [
    { name: 'label', type: 'list', help: 'Set metadata on a network', value: 'list' },
    { name: 'internal', type: 'bool', help: 'Restrict external access to the network (skiff networks never route off the machine)' },
    { name: 'driver', short: 'd', type: 'string', help: 'Driver to manage the Network (bridge)', value: 'string' },
  ],
  ls: [
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display network names' },
    { name: 'format', type: 'string', help: "'table' or 'json'", value: 'string' },
  ],
  list: [],
  inspect: [],
  rm: [],
  remove: [],
  prune: [{ name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' }],
  connect: [{ name: 'alias', type: 'list', help: 'Add network-scoped alias for the container', value: 'list' }],
  disconnect: [],
};
subSpecs.list = subSpecs.ls!;

export const network: Command = {
  name: 'network',
  usage: 'skiff network COMMAND',
  description,
  async run(argv, ctx) {
    const [sub, ...rest] = argv;
    if (!sub || sub === '--help' || sub === 'help') return ctx.out(helpText(this.usage, this.description, [])), 0;
    const specs = subSpecs[sub];
    if (!specs) throw new UsageError(`unknown network command "${sub}"; see skiff network --help`);
    const { flags, args } = parseArgs(rest, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(`skiff network ${sub} [OPTIONS]`, '', specs)), 0;
    const engine = await ctx.engine();
    switch (sub) {
      case 'create': {
        requireArgs(args, 1, 'network create NAME', 1);
        if (flags.driver !== undefined && flags.driver !== 'bridge') throw new UsageError(`network driver "${String(flags.driver)}" is not supported: skiff makes bridge networks`);
        const labels = Object.fromEntries(list(flags.label).map((l) => { const i = l.indexOf('='); return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)]; }));
        const n = await engine.createNetwork(args[0]!, { labels, internal: !!flags.internal });
        ctx.out(n.id + '\n');
        return 0;
      }
      case 'ls':
      case 'list': {
        const nets = await engine.listNetworks();
        if (flags.quiet) return ctx.out(nets.map((n) => n.name + '\n').join('')), 0;
        if (flags.format === 'json') return ctx.out(nets.map((n) => JSON.stringify({ ID: n.id.slice(0, 12), Name: n.name, Driver: n.driver, Subnet: n.subnet, Labels: n.labels }) + '\n').join('')), 0;
        ctx.out(table(nets.map((n) => [n.id.slice(0, 12), n.name, n.driver, n.subnet]), ['NETWORK ID', 'NAME', 'DRIVER', 'SUBNET']));
        return 0;
      }
      case 'inspect': {
        requireArgs(args, 1, 'network inspect NETWORK');
        const out = [];
        for (const a of args) {
          const { info, containers } = await engine.network(a);
          out.push({ ...info, containers: containers.map((c) => ({ id: c.record.id, name: c.record.name, ip: c.attachment.ip, aliases: c.attachment.aliases })) });
        }
        ctx.out(json(out));
        return 0;
      }
      case 'rm':
      case 'remove': {
        requireArgs(args, 1, 'network rm NETWORK');
        let rc = 0;
        for (const a of args) {
          try {
            await engine.removeNetwork(a);
            ctx.out(a + '\n');
          } catch (err) {
            ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
            rc = 1;
          }
        }
        return rc;
      }
      case 'prune': {
        for (const n of await engine.listNetworks()) {
          if ((await engine.network(n.name)).containers.length) continue;
          await engine.removeNetwork(n.name);
          ctx.out(`Deleted Networks:\n${n.name}\n`);
        }
        return 0;
      }
      case 'connect':
        requireArgs(args, 2, 'network connect NETWORK CONTAINER', 2);
        await engine.connectNetwork(args[1]!, args[0]!, list(flags.alias));
        return 0;
      case 'disconnect':
        requireArgs(args, 2, 'network disconnect NETWORK CONTAINER', 2);
        await engine.disconnectNetwork(args[1]!, args[0]!);
        return 0;
    }
    return 1;
  },
};
