/**
 * `skiff compose`: a compose.yaml project on this machine's Engine, with
 * docker compose's verbs (up, down, ps, logs, build, exec, start, stop,
 * restart, config). See sdk/src/compose/ for what a file may hold.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { parseArgs, helpText, requireArgs, list, str, UsageError, type FlagSpec, HELP_FLAG } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { json, table } from '../format.js';
import { loadComposeFile } from '../../node/compose.js';
import { unsupported } from '../../errors/index.js';
import { ComposeRunner, LABEL_SERVICE } from '../../compose/project.js';
import type { ServiceConfig } from '../../compose/model.js';
import { Builder } from '../../build/builder.js';
import { stepText } from '../../build/progress-text.js';
import { DirectoryContext } from '../../node/build-context.js';
import { FsBuildCache } from '../../node/build-cache.js';
import { rootPaths } from '../../node/root.js';
import type { Engine } from '../../runtime/engine.js';
import type { LogEntry } from '../../runtime/logs.js';
import { portsText } from './port.js';
import { statusText } from './containers.js';

const globalSpecs: FlagSpec[] = [
  { name: 'file', short: 'f', type: 'list', help: 'Compose configuration file (default: compose.yaml in the current directory)', value: 'list' },
  { name: 'project-name', short: 'p', type: 'string', help: 'Project name', value: 'string' },
  { name: 'project-directory', type: 'string', help: 'Alternate working directory (default: the directory of the compose file)', value: 'string' },
  { name: 'profile', type: 'list', help: 'Specify a profile to enable', value: 'list' },
];

const description = `Define and run multi-container applications from a compose file

Commands:
  build       Build or rebuild services
  config      Show the project as skiff reads it
  down        Stop and remove containers (and with -v, named volumes)
  exec        Execute a command in a running service container
  logs        View output from containers
  ps          List containers
  restart     Restart service containers
  start       Start services
  stop        Stop services
  up          Create and start containers`;

const subSpecs: Record<string, FlagSpec[]> = {
  up: [
    { name: 'detach', short: 'd', type: 'bool', help: 'Run containers in the background' },
    { name: 'build', type: 'bool', help: 'Build images before starting containers' },
    { name: 'force-recreate', type: 'bool', help: 'Recreate containers even if their configuration has not changed' },
    { name: 'remove-orphans', type: 'bool', help: 'Remove containers for services not defined in the compose file' },
  ],
  down: [
    { name: 'volumes', short: 'v', type: 'bool', help: 'Remove the named volumes declared in the volumes section' },
  ],
  ps: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all stopped containers' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' },
    { name: 'format', type: 'string', help: "'table' or 'json'", value: 'string' },
  ],
  logs: [
    { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
    { name: 'no-log-prefix', type: 'bool', help: "Don't print a prefix in logs" },
    { name: 'tail', short: 'n', type: 'string', help: 'Number of lines to show from the end of the logs', value: 'string' },
  ],
  build: [{ name: 'no-cache', type: 'bool', help: 'Do not use cache when building the image' }],
  exec: [
    { name: 'env', short: 'e', type: 'list', help: 'Set environment variables', value: 'list' },
    { name: 'workdir', short: 'w', type: 'string', help: 'Path to workdir directory for this command', value: 'string' },
    { name: 'user', short: 'u', type: 'string', help: 'Run the command as this user', value: 'string' },
  ],
  stop: [{ name: 'timeout', short: 't', type: 'number', help: 'Seconds to wait before killing the container', value: 'seconds' }],
  restart: [{ name: 'timeout', short: 't', type: 'number', help: 'Seconds to wait before killing the container', value: 'seconds' }],
  start: [],
  config: [],
};

/** Builds a service's image the way `skiff build` does. */
function builderFor(engine: Engine, ctx: CliContext, noCache = false) {
  const builder = new Builder(engine, new FsBuildCache(rootPaths(ctx.root).root + '/build-cache.json'));
  return async (s: ServiceConfig, image: string) => {
    const b = s.build!;
    const dockerfile = b.dockerfile ?? 'Dockerfile';
    const abs = resolve(b.context, dockerfile);
    const inside = abs.startsWith(b.context.replace(/\/+$/, '') + '/');
    await builder.build({
      context: new DirectoryContext(b.context),
      ...(inside ? { dockerfile: abs.slice(b.context.replace(/\/+$/, '').length + 1) } : { dockerfile: abs, dockerfileText: readFileSync(abs, 'utf8') }),
      tags: [image],
      buildArgs: b.args,
      ...(b.target ? { target: b.target } : {}),
      ...(s.create.platform ? { platform: s.create.platform } : {}),
      ...(noCache ? { noCache: true } : {}),
      onProgress: (e) => {
        if (e.type === 'output') (e.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout).write(e.data);
        else {
          const text = stepText(e);
          if (text !== undefined) ctx.out(text);
        }
      },
    });
  };
}

/** Prints `service-1  | line` for each line of each container's output until every stream ends. */
async function printLogs(streams: Array<{ prefix: string; stream: ReadableStream<LogEntry> }>, ctx: CliContext, prefixed: boolean): Promise<void> {
  const width = Math.max(0, ...streams.map((s) => s.prefix.length));
  const dec = new TextDecoder();
  await Promise.all(streams.map(async ({ prefix, stream }) => {
    const pending = { stdout: '', stderr: '' };
    const emit = (which: 'stdout' | 'stderr', line: string) => (which === 'stderr' ? ctx.err : ctx.out)(`${prefixed ? `${prefix.padEnd(width)}  | ` : ''}${line}\n`);
    for await (const e of stream as unknown as AsyncIterable<LogEntry>) {
      const which = e.stream === 'stderr' ? 'stderr' : 'stdout';
      const text = pending[which] + dec.decode(e.data);
      const lines = text.split('\n');
      pending[which] = lines.pop()!;
      for (const l of lines) emit(which, l);
    }
    for (const which of ['stdout', 'stderr'] as const) if (pending[which]) emit(which, pending[which]);
  }));
}

export const compose: Command = {
  name: 'compose',
  usage: 'skiff compose [OPTIONS] COMMAND',
  description,
  async run(argv, ctx) {
    const { flags: g, args: rest } = parseArgs(argv, [...globalSpecs, HELP_FLAG], { stopAtFirstArg: true });
    const [sub, ...subArgv] = rest;
    if (g.help || !sub || sub === 'help') return ctx.out(helpText(this.usage, this.description, globalSpecs)), sub || g.help ? 0 : 1;
    const specs = subSpecs[sub];
    if (!specs) throw new UsageError(`unknown compose command "${sub}"; see skiff compose --help`);
    const { flags, args } = parseArgs(subArgv, [...specs, HELP_FLAG], sub === 'exec' ? { stopAtFirstArg: true } : {});
    if (flags.help) return ctx.out(helpText(`skiff compose ${sub} [OPTIONS] [SERVICE...]`, '', specs)), 0;
    const files = list(g.file);
    if (files.length > 1) throw new UsageError('skiff reads one compose file; merging several (-f a.yaml -f b.yaml) is not supported');
    const project = loadComposeFile({
      ...(files[0] ? { file: files[0] } : {}),
      ...(str(g['project-name']) ? { projectName: str(g['project-name'])! } : {}),
      ...(str(g['project-directory']) ? { projectDir: str(g['project-directory'])! } : {}),
    });
    if (sub === 'config') {
      ctx.out(stringify({ name: project.name, services: project.services, volumes: project.volumes }));
      for (const w of project.warnings) ctx.err(`WARN ${w}\n`);
      return 0;
    }
    const engine = await ctx.engine();
    const runner = new ComposeRunner(engine, project, {
      build: builderFor(engine, ctx, !!flags['no-cache']),
      progress: (line) => ctx.err(` ${line.startsWith('WARN') ? line : `✔ ${line}`}\n`),
    });
    const profiles = list(g.profile);
    for (const s of args) if (sub !== 'exec' && !project.services[s]) throw new UsageError(`no such service: ${s}`);
    switch (sub) {
      case 'up': {
        const started = await runner.up({
          ...(args.length ? { services: args } : {}), build: !!flags.build, forceRecreate: !!flags['force-recreate'], removeOrphans: !!flags['remove-orphans'], profiles,
          checkBackend: (service, backend) => {
            if (flags.detach && backend === 'wasm') throw unsupported(`service ${service} runs on the wasm backend, inside the skiff process, so up -d needs the daemon (skiff daemon); run skiff compose up in the foreground instead`);
          },
        });
        if (flags.detach) return 0;
        // In the foreground: follow every container's output until they all stop; Ctrl-C stops them.
        const stop = () => void runner.stop().catch(() => {});
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        try {
          await printLogs(await Promise.all(started.map(async (r) => ({ prefix: r.name, stream: await engine.logs(r.id, { follow: true }) }))), ctx, true);
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
        return 0;
      }
      case 'down':
        await runner.down({ volumes: !!flags.volumes });
        return 0;
      case 'build': {
        const build = builderFor(engine, ctx, !!flags['no-cache']);
        const names = args.length ? args : Object.keys(project.services);
        for (const n of names) {
          const s = project.services[n]!;
          if (!s.build) continue;
          await build(s, runner.imageOf(s));
        }
        return 0;
      }
      case 'ps': {
        const rows = (await runner.containers(!!flags.all)).filter((r) => !args.length || args.includes(r.labels[LABEL_SERVICE] ?? ''));
        if (flags.quiet) return ctx.out(rows.map((r) => r.id + '\n').join('')), 0;
        if (flags.format === 'json') return ctx.out(json(rows.map((r) => ({ ID: r.id, Name: r.name, Service: r.labels[LABEL_SERVICE], Image: r.image, State: r.state.status, Status: statusText(r), ExitCode: r.state.exitCode, Publishers: r.state.ports ?? [] })))), 0;
        ctx.out(table(rows.map((r) => [r.name, r.image, r.labels[LABEL_SERVICE] ?? '', statusText(r), portsText(r)]), ['NAME', 'IMAGE', 'SERVICE', 'STATUS', 'PORTS']));
        return 0;
      }
      case 'logs': {
        const rows = (await runner.containers()).filter((r) => !args.length || args.includes(r.labels[LABEL_SERVICE] ?? ''));
        const tail = str(flags.tail);
        const streams = await Promise.all(rows.map(async (r) => ({ prefix: r.name, stream: await engine.logs(r.id, { follow: !!flags.follow, ...(tail && tail !== 'all' ? { tail: Number(tail) } : {}) }) })));
        await printLogs(streams, ctx, !flags['no-log-prefix']);
        return 0;
      }
      case 'exec': {
        requireArgs(args, 2, 'compose exec SERVICE COMMAND [ARG...]');
        const r = await runner.containerOf(args[0]!);
        const stdout = new WritableStream<Uint8Array>({ write: (b) => void ctx.io.stdout.write(b) });
        const stderr = new WritableStream<Uint8Array>({ write: (b) => void ctx.io.stderr.write(b) });
        const env = list(flags.env);
        const p = await engine.execStreams(r.id, { cmd: args.slice(1), ...(env.length ? { env } : {}), ...(str(flags.workdir) ? { workingDir: str(flags.workdir)! } : {}), ...(str(flags.user) ? { user: str(flags.user)! } : {}) }, { stdout, stderr });
        return (await p.wait()).exitCode;
      }
      case 'stop':
        await runner.stop(args.length ? args : undefined);
        return 0;
      case 'start':
      case 'restart': {
        if (sub === 'restart') await runner.stop(args.length ? args : undefined);
        for (const r of await runner.containers()) {
          if (args.length && !args.includes(r.labels[LABEL_SERVICE] ?? '')) continue;
          if (r.state.status !== 'running') {
            await engine.start(r.id);
            ctx.err(` ✔ Container ${r.name}  Started\n`);
          }
        }
        return 0;
      }
    }
    return 1;
  },
};
