/** `skiff port`: a running container's published ports, and their text for `ps`. */
import { parseArgs, helpText, requireArgs, HELP_FLAG } from '../args.js';
import type { Command } from '../context.js';
import type { ContainerRecord } from '../../runtime/records.js';
import { notFound } from '../../errors/index.js';
import { portKey } from '../../runtime/ports.js';

const hostOf = (ip: string) => (ip === '' ? '0.0.0.0' : ip.includes(':') ? `[${ip}]` : ip);

/** docker's PORTS column: `127.0.0.1:32768->80/tcp, 443/tcp`. */
export function portsText(r: ContainerRecord): string {
  if (r.state.status !== 'running') return '';
  return (r.state.ports ?? []).map((p) => `${hostOf(p.hostIp)}:${p.hostPort}->${portKey(p)}`).join(', ');
}

const usage = 'skiff port CONTAINER [PRIVATE_PORT[/PROTO]]';
const description = 'List port mappings or a specific mapping for the container';

export const port: Command = {
  name: 'port',
  usage,
  description,
  async run(argv, ctx) {
    const { flags, args } = parseArgs(argv, [HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(usage, description, [])), 0;
    requireArgs(args, 1, usage, 2);
    const r = await (await ctx.engine()).record(args[0]!);
    const ports = r.state.status === 'running' ? (r.state.ports ?? []) : [];
    const wanted = args[1] === undefined ? undefined : args[1].includes('/') ? args[1] : `${args[1]}/tcp`;
    const shown = ports.filter((p) => wanted === undefined || portKey(p) === wanted);
    if (wanted !== undefined && shown.length === 0) throw notFound(`No public port '${wanted}' published for ${args[0]}`);
    for (const p of shown) ctx.out(wanted ? `${hostOf(p.hostIp)}:${p.hostPort}\n` : `${portKey(p)} -> ${hostOf(p.hostIp)}:${p.hostPort}\n`);
    return 0;
  },
};
