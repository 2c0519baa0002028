/** `skiff daemon`: serves the Docker Engine API until SIGTERM or SIGINT. */
import { parseArgs, helpText, list, requireArgs, str, type FlagSpec, HELP_FLAG } from '../args.js';
import type { Command } from '../context.js';
import { runDaemon } from '../../daemon/run.js';

const specs: FlagSpec[] = [
  { name: 'host', short: 'H', type: 'list', help: 'Where to listen: unix:///path/to.sock (default <root>/skiff.sock) or tcp://127.0.0.1:PORT; repeatable', value: 'list' },
  { name: 'root', type: 'string', help: 'Root of the store (default: the global --root)', value: 'string' },
  { name: 'allow-remote-tcp', type: 'bool', help: 'Allow tcp:// on addresses other than loopback (the API has no authentication)' },
  { name: 'debug', short: 'D', type: 'bool', help: 'Log every request to stderr' },
];

export const daemon: Command = {
  name: 'daemon',
  usage: 'skiff daemon [OPTIONS]',
  description: 'Serve the Docker Engine API (docker, dockerode and testcontainers can use it) on a unix socket',
  async run(argv, ctx) {
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, specs)), 0;
    requireArgs(args, 0, 'daemon', 0);
    const log = (line: string) => void ctx.io.stderr.write(`skiff daemon: ${line}\n`);
    const running = await runDaemon({
      root: str(flags.root) ?? ctx.root,
      hosts: list(flags.host),
      ...(flags['allow-remote-tcp'] ? { allowRemoteTcp: true } : {}),
      log: flags.debug ? log : (line) => { if (!/^(GET|HEAD|POST|PUT|DELETE) /.test(line)) log(line); },
    });
    for (const l of running.daemon.listeners) ctx.out(`listening on ${l.url}\n`);
    await running.done;
    return 0;
  },
};
