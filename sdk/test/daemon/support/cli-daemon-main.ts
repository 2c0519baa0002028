/**
 * `skiff daemon` as its own process, the way the CLI's main runs a command:
 * `node cli-daemon-main.mjs ROOT [daemon flags...]`. (The lead registers the
 * command in the CLI; this runs the same command object.)
 */
import { daemon } from '../../../src/cli/commands/daemon.js';
import { exitCodeFor } from '../../../src/cli/exit-code.js';
import { installNodeHasher } from '../../../src/node/hasher.js';
import type { CliContext, Io } from '../../../src/cli/context.js';

installNodeHasher();
const [root, ...argv] = process.argv.slice(2) as [string, ...string[]];
const ctx: CliContext = {
  io: process as unknown as Io,
  root,
  engine: async () => { throw new Error('the daemon command makes its own engine'); },
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};
try {
  process.exitCode = await daemon.run(argv, ctx);
} catch (err) {
  process.stderr.write(`skiff: ${(err as Error).message}\n`);
  process.exitCode = exitCodeFor(err, daemon.name);
}
