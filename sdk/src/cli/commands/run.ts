import { readFileSync } from 'node:fs';
import { inlineSeccompFiles } from '../../runtime/security-opt.js';
import { Readable } from 'node:stream';
import type { ReadStream as TtyReadStream, WriteStream as TtyWriteStream } from 'node:tty';
import { unsupported } from '../../errors/index.js';
import { parseNetworkMode, type CreateOptions } from '../../runtime/options.js';
import { durationSec } from '../../runtime/health.js';
import { parseLogOpts } from '../../runtime/log-config.js';
import { REFUSED_FLAGS } from '../../runtime/refused-options.js';
import type { HealthConfig } from '../../image/types.js';
import type { Engine } from '../../runtime/engine.js';
import { parseArgs, helpText, list, requireArgs, str, UsageError, type FlagSpec, HELP_FLAG } from '../args.js';
import { startingProcess } from '../exit-code.js';
import type { CliContext, Command } from '../context.js';

/** The resource limits of run, create and update, with docker's flag names. */
export const resourceFlags: FlagSpec[] = [
  { name: 'memory', short: 'm', type: 'string', help: 'Memory limit (e.g. 256m)', value: 'bytes' },
  { name: 'cpus', type: 'number', help: 'Number of CPUs', value: 'decimal' },
  { name: 'pids-limit', type: 'number', help: 'Tune container pids limit (-1 for unlimited)', value: 'int' },
  { name: 'memory-swap', type: 'string', help: "Swap limit equal to memory plus swap: -1 to enable unlimited swap", value: 'bytes' },
  { name: 'memory-reservation', type: 'string', help: 'Memory soft limit', value: 'bytes' },
  { name: 'cpu-shares', short: 'c', type: 'number', help: 'CPU shares (relative weight)', value: 'int' },
  { name: 'cpu-quota', type: 'number', help: 'Limit CPU CFS (Completely Fair Scheduler) quota', value: 'int' },
  { name: 'cpu-period', type: 'number', help: 'Limit CPU CFS (Completely Fair Scheduler) period', value: 'int' },
  { name: 'cpuset-cpus', type: 'string', help: 'CPUs in which to allow execution (0-3, 0,1)', value: 'string' },
];

/** docker's flags for the settings of runtime/process-settings.ts. */
const processFlags: FlagSpec[] = [
  { name: 'stop-signal', type: 'string', help: 'Signal to stop the container', value: 'string' },
  { name: 'stop-timeout', type: 'number', help: 'Timeout (in seconds) to stop a container', value: 'int' },
  { name: 'ulimit', type: 'list', help: 'Ulimit options (e.g. nofile=1024:2048)', value: 'ulimit' },
  { name: 'shm-size', type: 'string', help: 'Size of /dev/shm', value: 'bytes' },
  { name: 'pid', type: 'string', help: 'PID namespace to use (host)', value: 'string' },
  { name: 'ipc', type: 'string', help: 'IPC mode to use (private, shareable, host)', value: 'string' },
  { name: 'uts', type: 'string', help: 'UTS namespace to use (host)', value: 'string' },
  { name: 'cgroupns', type: 'string', help: 'Cgroup namespace to use (host|private)', value: 'string' },
  { name: 'group-add', type: 'list', help: 'Add additional groups to join', value: 'list' },
  { name: 'dns', type: 'list', help: 'Set custom DNS servers', value: 'list' },
  { name: 'dns-search', type: 'list', help: 'Set custom DNS search domains', value: 'list' },
  { name: 'dns-option', type: 'list', help: 'Set DNS options', value: 'list' },
  { name: 'sysctl', type: 'list', help: 'Sysctl options (net.*, fs.mqueue.*, kernel.shm*/msg*/sem)', value: 'map' },
  { name: 'oom-score-adj', type: 'number', help: "Tune host's OOM preferences (-1000 to 1000)", value: 'int' },
  { name: 'domainname', type: 'string', help: 'Container NIS domain name', value: 'string' },
];

/** The processFlags as CreateOptions (checked by the Engine, runtime/process-settings.ts). */
function processOptions(flags: Record<string, unknown>, o: CreateOptions): void {
  const s = (k: string) => str(flags[k]);
  if (s('stop-signal') !== undefined) o.stopSignal = s('stop-signal')!;
  if (typeof flags['stop-timeout'] === 'number') o.stopTimeout = flags['stop-timeout'];
  if (list(flags.ulimit).length) o.ulimits = list(flags.ulimit);
  if (s('shm-size') !== undefined) o.shmSize = s('shm-size')!;
  if (s('pid') !== undefined) o.pidMode = s('pid')!;
  if (s('ipc') !== undefined) o.ipcMode = s('ipc')!;
  if (s('uts') !== undefined) o.utsMode = s('uts')!;
  if (s('cgroupns') !== undefined) o.cgroupnsMode = s('cgroupns')!;
  if (list(flags['group-add']).length) o.groupAdd = list(flags['group-add']);
  if (list(flags.dns).length) o.dns = list(flags.dns);
  if (list(flags['dns-search']).length) o.dnsSearch = list(flags['dns-search']);
  if (list(flags['dns-option']).length) o.dnsOptions = list(flags['dns-option']);
  if (list(flags.sysctl).length) o.sysctls = list(flags.sysctl);
  if (typeof flags['oom-score-adj'] === 'number') o.oomScoreAdj = flags['oom-score-adj'];
  if (s('domainname')) o.domainname = s('domainname')!;
}

/** docker's run/create flags skiff refuses (runtime/refused-options.ts), so using one says why rather than "unknown flag". */
const refusedFlags: FlagSpec[] = REFUSED_FLAGS.map(([name, type, why]) => ({ name, type, help: '', refused: why }));

export const createFlags: FlagSpec[] = [
  { name: 'name', type: 'string', help: 'Assign a name to the container', value: 'string' },
  { name: 'env', short: 'e', type: 'list', help: 'Set environment variables', value: 'list' },
  { name: 'volume', short: 'v', type: 'list', help: 'Bind mount a volume (NAME:/path, /host:/path, /path; :ro)', value: 'list' },
  { name: 'tmpfs', type: 'list', help: 'Mount a tmpfs directory', value: 'list' },
  { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container', value: 'string' },
  { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])', value: 'string' },
  { name: 'entrypoint', type: 'string', help: 'Overwrite the default ENTRYPOINT of the image', value: 'string' },
  ...resourceFlags,
  { name: 'hostname', short: 'h', type: 'string', help: 'Container host name', value: 'string' },
  { name: 'read-only', type: 'bool', help: "Mount the container's root filesystem as read only" },
  { name: 'init', type: 'bool', help: 'Run an init inside the container that forwards signals and reaps processes (the Linux default; --init=false runs the command as PID 1)' },
  { name: 'network', type: 'string', help: 'Connect a container to a network: none (default), host, container:NAME or a network made with skiff network create', value: 'network' },
  { name: 'network-alias', type: 'list', help: 'Add network-scoped alias for the container', value: 'list' },
  { name: 'add-host', type: 'list', help: 'Add a custom host-to-IP mapping (host:ip)', value: 'list' },
  { name: 'publish', short: 'p', type: 'list', help: "Publish a container's port to the host ([IP:][HOSTPORT:]PORT[/tcp|/udp])", value: 'list' },
  { name: 'publish-all', short: 'P', type: 'bool', help: 'Publish all exposed ports to ports the kernel picks' },
  { name: 'privileged', type: 'bool', help: 'Give extended privileges to this container' },
  { name: 'restart', type: 'string', help: 'Restart policy to apply when a container exits (no, always, unless-stopped, on-failure[:N])', value: 'string' },
  { name: 'health-cmd', type: 'string', help: 'Command to run to check health (run by /bin/sh -c)', value: 'string' },
  { name: 'health-interval', type: 'string', help: 'Time between running the check (e.g. 30s)', value: 'duration' },
  { name: 'health-timeout', type: 'string', help: 'Maximum time to allow one check to run', value: 'duration' },
  { name: 'health-retries', type: 'number', help: 'Consecutive failures needed to report unhealthy', value: 'int' },
  { name: 'health-start-period', type: 'string', help: 'Start period for the container to initialize before failures count', value: 'duration' },
  { name: 'health-start-interval', type: 'string', help: 'Time between checks during the start period', value: 'duration' },
  { name: 'no-healthcheck', type: 'bool', help: 'Disable any container-specified HEALTHCHECK' },
  { name: 'cap-add', type: 'list', help: 'Add Linux capabilities', value: 'list' },
  { name: 'cap-drop', type: 'list', help: 'Drop Linux capabilities', value: 'list' },
  { name: 'security-opt', type: 'list', help: 'Security options: no-new-privileges[=true|false], seccomp=unconfined|PROFILE.json, systempaths=unconfined', value: 'list' },
  { name: 'label', short: 'l', type: 'list', help: 'Set meta data on a container (KEY=VALUE)', value: 'list' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { name: 'backend', type: 'string', help: 'Backend to run on: linux or wasm (default: picked by the image platform)', value: 'string' },
  { name: 'platform', type: 'string', help: 'Set platform if the image is multi-platform (e.g. wasip1/wasm)', value: 'string' },
  { name: 'log-driver', type: 'string', help: 'Logging driver for the container: json-file (default), local or none', value: 'string' },
  { name: 'log-opt', type: 'list', help: 'Log driver options: max-size=10m, max-file=3', value: 'list' },
  { name: 'timeout', type: 'number', help: 'Kill the container after this many seconds', value: 'seconds' },
  ...processFlags,
  ...refusedFlags,
];

/** The --health-* flags as a HealthConfig (durations in ns, as docker keeps them). */
function healthOptions(flags: Record<string, unknown>): HealthConfig | undefined {
  if (flags['no-healthcheck']) {
    if (['health-cmd', 'health-interval', 'health-timeout', 'health-retries', 'health-start-period', 'health-start-interval'].some((k) => flags[k] !== undefined)) throw new UsageError('--no-healthcheck conflicts with the --health-* options');
    return { Test: ['NONE'] };
  }
  const h: HealthConfig = {};
  const ns = (k: string) => Math.round(durationSec(flags[k], `--${k}`) * 1e9);
  if (typeof flags['health-cmd'] === 'string') h.Test = ['CMD-SHELL', flags['health-cmd']];
  if (flags['health-interval'] !== undefined) h.Interval = ns('health-interval');
  if (flags['health-timeout'] !== undefined) h.Timeout = ns('health-timeout');
  if (flags['health-start-period'] !== undefined) h.StartPeriod = ns('health-start-period');
  if (flags['health-start-interval'] !== undefined) h.StartInterval = ns('health-start-interval');
  if (typeof flags['health-retries'] === 'number') h.Retries = flags['health-retries'];
  return Object.keys(h).length ? h : undefined;
}

export function createOptions(flags: Record<string, unknown>, image: string, cmd: string[]): CreateOptions {
  const o: CreateOptions = { image };
  if (cmd.length) o.cmd = cmd;
  const labels: Record<string, string> = {};
  for (const l of list(flags.label)) {
    const eq = l.indexOf('=');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  const s = (k: string) => str(flags[k]);
  if (s('name') !== undefined) o.name = s('name')!;
  if (list(flags.env).length) o.env = list(flags.env).map((e) => (e.includes('=') ? e : `${e}=${process.env[e] ?? ''}`));
  if (list(flags.volume).length) o.volumes = list(flags.volume);
  if (list(flags.tmpfs).length) o.tmpfs = list(flags.tmpfs);
  if (s('workdir') !== undefined) o.workingDir = s('workdir')!;
  if (s('user') !== undefined) o.user = s('user')!;
  if (s('entrypoint') !== undefined) o.entrypoint = s('entrypoint')!;
  if (s('memory') !== undefined) o.memory = s('memory')!;
  if (typeof flags.cpus === 'number') o.cpus = flags.cpus;
  if (typeof flags['pids-limit'] === 'number') o.pidsLimit = flags['pids-limit'];
  // As docker's CLI: 0 means not set.
  if (s('memory-swap')) o.memorySwap = s('memory-swap')!;
  if (s('memory-reservation')) o.memoryReservation = s('memory-reservation')!;
  if (typeof flags['cpu-shares'] === 'number' && flags['cpu-shares'] !== 0) o.cpuShares = flags['cpu-shares'];
  if (typeof flags['cpu-quota'] === 'number' && flags['cpu-quota'] !== 0) o.cpuQuota = flags['cpu-quota'];
  if (typeof flags['cpu-period'] === 'number' && flags['cpu-period'] !== 0) o.cpuPeriod = flags['cpu-period'];
  if (s('cpuset-cpus')) o.cpusetCpus = s('cpuset-cpus')!;
  if (s('hostname') !== undefined) o.hostname = s('hostname')!;
  if (flags['read-only']) o.readOnly = true;
  if (typeof flags.init === 'boolean') o.init = flags.init;
  const net = s('network');
  if (net !== undefined) {
    o.network = parseNetworkMode(net);
  }
  if (list(flags['add-host']).length) o.extraHosts = list(flags['add-host']);
  if (list(flags['network-alias']).length) o.networkAliases = list(flags['network-alias']);
  if (list(flags.publish).length) o.ports = list(flags.publish);
  if (flags['publish-all']) o.publishAll = true;
  if (flags.privileged) o.privileged = true;
  if (typeof flags.restart === 'string') o.restartPolicy = flags.restart;
  const health = healthOptions(flags);
  if (health) o.healthcheck = health;
  if (list(flags['cap-add']).length) o.capAdd = list(flags['cap-add']);
  if (list(flags['cap-drop']).length) o.capDrop = list(flags['cap-drop']);
  // A profile file is read here and sent as its JSON, as docker's CLI does.
  if (list(flags['security-opt']).length) o.securityOpt = inlineSeccompFiles(list(flags['security-opt']), (p) => readFileSync(p, 'utf8'));
  if (Object.keys(labels).length) o.labels = labels;
  // -i: stdin stays open for attachers; the first one's end of input closes it (docker's StdinOnce).
  if (flags.interactive) Object.assign(o, { openStdin: true, stdinOnce: true });
  if (flags.tty) o.tty = true;
  if (s('backend') !== undefined) o.backend = s('backend')!;
  if (s('platform') !== undefined) o.platform = s('platform')!;
  if (typeof flags.timeout === 'number') o.timeoutMs = flags.timeout * 1000;
  if (s('log-driver') !== undefined || list(flags['log-opt']).length) o.logConfig = { type: s('log-driver') ?? '', config: parseLogOpts(list(flags['log-opt'])) };
  processOptions(flags, o);
  return o;
}

const runFlags: FlagSpec[] = [
  { name: 'rm', type: 'bool', help: 'Automatically remove the container when it exits' },
  { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
  ...createFlags,
];

export const run: Command = {
  name: 'run',
  usage: 'skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create and run a new container from an image',
  async run(argv, ctx) {
    const { flags, args } = parseArgs(argv, [...runFlags, HELP_FLAG], { stopAtFirstArg: true });
    if (flags.help) return ctx.out(helpText(this.usage, this.description, runFlags)), 0;
    requireArgs(args, 1, this.usage);
    const [image, ...cmd] = args as [string, ...string[]];
    const o = createOptions(flags, image, cmd);
    if (flags.rm) o.autoRemove = true;
    const win = ctx.io.stdout as Partial<TtyWriteStream>;
    if (o.tty && !flags.detach && win.isTTY && win.rows && win.columns) o.consoleSize = { rows: win.rows, cols: win.columns };
    const engine = await ctx.engine();
    if (flags.detach) delete o.stdinOnce; // nobody attaches now: stdin stays open for later attachers, as docker run -d -i
    const c = await engine.create(o);
    if (flags.detach) {
      const backendName = (await c.inspect()).backend;
      if (backendName === 'wasm') {
        await c.remove({ force: true });
        throw unsupported('the wasm backend runs containers inside the skiff process, so -d needs the daemon (skiff daemon, then DOCKER_HOST=unix://... docker run -d); run it in the foreground instead');
      }
      await startingProcess(c.start());
      ctx.out(c.id + '\n');
      return 0;
    }
    return attachAndWait(engine, c.id, ctx, { stdin: !!flags.interactive });
  },
};

/** Streams a container's output to the terminal, forwards stdin and signals, returns its exit code. */
export async function attachAndWait(engine: Engine, id: string, ctx: CliContext, o: { stdin: boolean }): Promise<number> {
  const stream = await engine.attach(id);
  const pump = (async () => {
    for await (const e of stream as unknown as AsyncIterable<{ stream: string; data: Uint8Array }>) {
      (e.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout).write(e.data);
    }
  })();
  const forward = (sig: NodeJS.Signals) => void engine.kill(id, sig).catch(() => engine.kill(id, 'SIGKILL').catch(() => {}));
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  // -it on our terminal: keys go through as typed (raw), and the container's window follows ours.
  const tty = (await engine.record(id)).tty;
  const local = ctx.io.stdin as Partial<TtyReadStream>;
  const raw = tty && o.stdin && !!local.isTTY && typeof local.setRawMode === 'function';
  const out = ctx.io.stdout as Partial<TtyWriteStream>;
  const resize = () => { if (out.rows && out.columns) void engine.resize(id, { rows: out.rows, cols: out.columns }).catch(() => {}); };
  try {
    const stdin = o.stdin ? (Readable.toWeb(ctx.io.stdin as Readable) as ReadableStream<Uint8Array>) : undefined;
    if (raw) local.setRawMode!(true);
    await startingProcess(engine.start(id, stdin ? { stdin } : {}));
    if (tty && out.isTTY) out.on?.('resize', resize);
    const status = await engine.wait(id, 'next-exit');
    await pump;
    if (status.error && status.exitCode !== 0) ctx.err(`skiff: ${status.error}\n`);
    return status.exitCode;
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    out.off?.('resize', resize);
    if (raw) local.setRawMode!(false);
    // The run is over: stop reading our stdin (a terminal never ends, and would keep this process alive).
    if (o.stdin) (ctx.io.stdin as Readable).destroy?.();
  }
}
