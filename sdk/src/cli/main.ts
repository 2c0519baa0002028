/**
 * The `skiff` CLI: docker's verbs and flags over a local Engine (or, with
 * --host / DOCKER_HOST, a daemon speaking the Docker Engine API).
 */
import { SkiffError } from '../errors/index.js';
import type { Engine } from '../runtime/engine.js';
import { createNodeEngine } from '../node/engine.js';
import { defaultRoot } from '../node/root.js';
import { installNodeHasher } from '../node/hasher.js';
import { UsageError } from './args.js';
import { exitCodeFor, ProcessStartError } from './exit-code.js';
import type { CliContext, Command, Io } from './context.js';
import { commands, findCommand } from './commands/index.js';

const VERSION = '0.1.0';

const usage = (cmds: Command[]) => `Usage:  skiff [OPTIONS] COMMAND

A container runtime with one API over Linux and WASI backends.

Options:
      --root DIR   Root of the store (default $SKIFF_ROOT, /var/lib/skiff as root, ~/.local/share/skiff otherwise)
  -v, --version    Print version information and quit
      --help       Print usage

Commands:
${cmds.filter((c) => !c.name.includes('-')).map((c) => `  ${c.name.padEnd(10)}  ${c.description.split('\n')[0]}`).join('\n')}

Run 'skiff COMMAND --help' for more information on a command.
`;

export async function main(argv: string[], io: Io = process as unknown as Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  installNodeHasher();
  let root = env.SKIFF_ROOT || defaultRoot(env);
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--root') root = argv[++i] ?? '';
    else if (a.startsWith('--root=')) root = a.slice(7);
    else if (a === '--version' || a === '-v') { io.stdout.write(`skiff version ${VERSION}\n`); return 0; }
    else if (a === '--help' || a === '-h') { io.stdout.write(usage(commands)); return 0; }
    else if (a.startsWith('-')) { io.stderr.write(`skiff: unknown flag: ${a}\nSee 'skiff --help'.\n`); return 125; }
    else break;
  }
  if (!root) { io.stderr.write('skiff: --root needs a directory\n'); return 125; }
  const rest = argv.slice(i);
  if (rest.length === 0) { io.stdout.write(usage(commands)); return 0; }
  const { command, args } = findCommand(rest);
  if (!command) {
    io.stderr.write(`skiff: '${rest[0]}' is not a skiff command.\nSee 'skiff --help'\n`);
    return 1; // as docker's unknown command
  }
  let engine: Engine | undefined;
  const ctx: CliContext = {
    io,
    root,
    engine: async () => (engine ??= await createNodeEngine({ root })),
    out: (s) => void io.stdout.write(s),
    err: (s) => void io.stderr.write(s),
  };
  try {
    return await command.run(args, ctx);
  } catch (err) {
    const verb = command.name.replace('-', ' ');
    if (err instanceof UsageError) io.stderr.write(`skiff ${verb}: ${err.message}\nSee 'skiff ${verb} --help'.\n`);
    else if (err instanceof SkiffError || err instanceof ProcessStartError) io.stderr.write(`skiff: ${err.message}\n`);
    else io.stderr.write(`skiff: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return exitCodeFor(err, command.name);
  } finally {
    await engine?.close().catch(() => {});
  }
}

// Run when bundled as the CLI entry (dist/cli.js), not when imported by tests.
const invokedDirectly = typeof process !== 'undefined' && process.argv[1] !== undefined && /skiff(\.js)?$|cli\.js$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`skiff: ${(err as Error).message}\n`);
      process.exitCode = 125;
    },
  );
}
