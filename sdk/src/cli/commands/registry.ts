/** Registry verbs: pull, push, login, logout. */
import { parseArgs, helpText, requireArgs, str, UsageError, type FlagSpec, HELP_FLAG } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { pullImage, pushImage, type RegistryProgress } from '../../registry/index.js';
import { credentialStore, registryOptions } from '../../node/registry-config.js';
import { login as saveLogin, logout as removeLogin, registryKey } from '../../node/credentials.js';
import { parsePlatform } from '../../image/platform.js';
import { familiarName, parseReference } from '../../image/reference.js';



/** Per-layer progress: redrawn lines on a terminal, one line per change of status otherwise. */
export function progressPrinter(ctx: CliContext) {
  const tty = !!ctx.io.stdout.isTTY;
  const order: string[] = [];
  const lines = new Map<string, string>();
  const verbs: Record<string, string> = { waiting: 'Waiting', downloading: 'Downloading', verifying: 'Verifying Checksum', done: 'Pull complete', exists: 'Already exists', pushing: 'Pushing', mounted: 'Mounted from' };
  let drawn = 0;
  const lastStatus = new Map<string, string>();
  return (e: RegistryProgress) => {
    let text = verbs[e.status] ?? e.status;
    if ((e.status === 'downloading' || e.status === 'pushing') && e.total > 0) {
      const pct = Math.floor((e.current / e.total) * 100);
      text += tty ? ` [${'='.repeat(Math.floor(pct / 4)).padEnd(25)}] ${fmt(e.current)}/${fmt(e.total)}` : '';
    }
    if (e.status === 'done' && e.kind === 'layer' && text === 'Pull complete' && lastStatus.get(e.id)?.startsWith('push')) text = 'Pushed';
    if (!lines.has(e.id)) order.push(e.id);
    lines.set(e.id, `${e.id}: ${text}`);
    if (tty) {
      if (drawn) ctx.out(`\x1b[${drawn}A`);
      for (const id of order) ctx.out(`\x1b[2K${lines.get(id)}\n`);
      drawn = order.length;
    } else if (lastStatus.get(e.id) !== e.status) {
      ctx.out(`${e.id}: ${text}\n`);
    }
    lastStatus.set(e.id, e.status);
  };
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}kB` : `${n}B`;
}

export const pull: Command = {
  name: 'pull',
  usage: 'skiff pull [OPTIONS] NAME[:TAG|@DIGEST]',
  description: 'Download an image from a registry',
  async run(argv, ctx) {
    const specs: FlagSpec[] = [
      { name: 'platform', type: 'string', help: 'Pull this platform of a multi-platform image (default: what this machine runs)', value: 'string' },
      { name: 'all-platforms', short: 'a', type: 'bool', help: 'Pull every platform of the image' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
    ];
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, specs)), 0;
    requireArgs(args, 1, 'pull', 1);
    const engine = await ctx.engine();
    const platform = str(flags.platform);
    const ref = parseReference(args[0]!);
    if (!flags.quiet) ctx.out(`${ref.tag ?? ref.digest}: Pulling from ${familiarName({ ...ref, tag: undefined as never, digest: undefined as never })}\n`);
    const result = await pullImage({
      ...registryOptions(ctx.root),
      layout: engine.layout,
      reference: args[0]!,
      platforms: flags['all-platforms'] ? 'all' : platform ? [parsePlatform(platform)] : engine.platforms.length ? engine.platforms : undefined as never,
      ...(flags.quiet ? {} : { onProgress: progressPrinter(ctx) }),
    });
    if (!flags.quiet) {
      ctx.out(`Digest: ${result.target.digest}\n`);
      ctx.out(`Status: Downloaded newer image for ${familiarName(parseReference(result.name))}\n`);
    }
    ctx.out(`${result.name}\n`);
    return 0;
  },
};

export const push: Command = {
  name: 'push',
  usage: 'skiff push [OPTIONS] NAME[:TAG]',
  description: 'Upload an image to a registry',
  async run(argv, ctx) {
    const specs: FlagSpec[] = [{ name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' }];
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, specs)), 0;
    requireArgs(args, 1, 'push', 2);
    const engine = await ctx.engine();
    const ref = parseReference(args[1] ?? args[0]!);
    if (!flags.quiet) ctx.out(`The push refers to repository [${ref.domain}/${ref.path}]\n`);
    const result = await pushImage({
      ...registryOptions(ctx.root),
      layout: engine.layout,
      reference: args[0]!,
      ...(args[1] ? { target: args[1] } : {}),
      ...(flags.quiet ? {} : { onProgress: progressPrinter(ctx) }),
    });
    ctx.out(`${ref.tag ?? 'latest'}: digest: ${result.target.digest} size: ${result.target.size}\n`);
    return 0;
  },
};

export const login: Command = {
  name: 'login',
  usage: 'skiff login [OPTIONS] [SERVER]',
  description: 'Log in to a registry (credentials are kept in <root>/auth.json, mode 0600)',
  async run(argv, ctx) {
    const specs: FlagSpec[] = [
      { name: 'username', short: 'u', type: 'string', help: 'Username', value: 'string' },
      { name: 'password', short: 'p', type: 'string', help: 'Password', value: 'string' },
      { name: 'password-stdin', type: 'bool', help: 'Take the password from stdin' },
    ];
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, specs)), 0;
    requireArgs(args, 0, 'login', 1);
    const username = str(flags.username);
    let password = str(flags.password);
    if (flags['password-stdin']) {
      const chunks: Buffer[] = [];
      for await (const c of ctx.io.stdin as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
      password = Buffer.concat(chunks).toString().replace(/\r?\n$/, '');
    }
    if (!username || password === undefined) throw new UsageError('give --username and --password (or --password-stdin); interactive prompts are not supported');
    const opts = registryOptions(ctx.root);
    const key = await saveLogin({ registry: args[0] ?? 'docker.io', username, password, store: credentialStore(ctx.root), ...(opts.insecure ? { insecure: opts.insecure } : {}) });
    ctx.out(`Login Succeeded (${key})\n`);
    return 0;
  },
};

export const logout: Command = {
  name: 'logout',
  usage: 'skiff logout [SERVER]',
  description: 'Log out from a registry',
  async run(argv, ctx) {
    const { flags, args } = parseArgs(argv, [HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, [])), 0;
    requireArgs(args, 0, 'logout', 1);
    const key = registryKey(args[0] ?? 'docker.io');
    const removed = await removeLogin({ registry: key, store: credentialStore(ctx.root) });
    ctx.out(removed ? `Removing login credentials for ${key}\n` : `Not logged in to ${key}\n`);
    return 0;
  },
};
