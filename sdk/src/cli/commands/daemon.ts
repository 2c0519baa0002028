/** `skiff daemon`: serves the Docker Engine API until SIGTERM or SIGINT. */
import { parseArgs, helpText, list, requireArgs, str, type FlagSpec, HELP_FLAG } from '../args.js';
import type { Command } from '../context.js';
import { runDaemon } from '../../daemon/run.js';
import { checkLogConfig, parseLogOpts } from '../../runtime/log-config.js';

const specs: FlagSpec[] = [
  { name: 'host', short: 'H', type: 'list', help: 'Where to listen: unix:///path/to.sock (default <root>/skiff.sock) or tcp://127.0.0.1:PORT; repeatable', value: 'list' },
  { name: 'root', type: 'string', help: 'Root of the store (default: the global --root)', value: 'string' },
  { name: 'allow-remote-tcp', type: 'bool', help: 'Allow tcp:// on addresses other than loopback (the API has no authentication)' },
  { name: 'log-driver', type: 'string', help: 'Default logging driver of containers: json-file (default), local or none', value: 'string' },
  { name: 'log-opt', type: 'list', help: 'Default log driver options, e.g. max-size=10m, max-file=3 (a container of the same driver takes those it does not set)', value: 'list' },
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
    const logOpts = list(flags['log-opt']);
    const defaultLogConfig = str(flags['log-driver']) !== undefined || logOpts.length ? checkLogConfig({ type: str(flags['log-driver']) ?? 'json-file', config: parseLogOpts(logOpts) }) : undefined;
    const log = (line: string) => void ctx.io.stderr.write(`skiff daemon: ${line}\n`);
    const running = await runDaemon({
      root: str(flags.root) ?? ctx.root,
      hosts: list(flags.host),
      ...(flags['allow-remote-tcp'] ? { allowRemoteTcp: true } : {}),
      ...(defaultLogConfig ? { defaultLogConfig } : {}),
      log: flags.debug ? log : (line) => { if (!/^(GET|HEAD|POST|PUT|DELETE) /.test(line)) log(line); },
    });
    for (const l of running.daemon.listeners) ctx.out(`listening on ${l.url}\n`);
    await running.done;
    return 0;
  },
};
