/** skiff update: new resource limits or restart policy for existing containers (docker update). */
import { parseArgs, helpText, requireArgs, UsageError, type FlagSpec, HELP_FLAG } from '../args.js';
import type { Command } from '../context.js';
import { resourceFlags } from './run.js';
import { parseSize } from '../../runtime/options.js';
import type { ResourceUpdate, UpdateOptions } from '../../runtime/update.js';

const USAGE = 'skiff update [OPTIONS] CONTAINER [CONTAINER...]';
const DESCRIPTION = 'Update configuration of one or more containers';

const flags: FlagSpec[] = [
  ...resourceFlags,
  { name: 'restart', type: 'string', help: 'Restart policy to apply when a container exits', value: 'string' },
];

/** The flags as an update; as docker's CLI, 0 leaves a limit as it is. */
export function updateOptions(f: Record<string, unknown>): UpdateOptions {
  const r: ResourceUpdate = {};
  const size = (name: string, what: string) => (typeof f[name] === 'string' ? parseSize(f[name] as string, what) : undefined);
  const n = (name: string) => (typeof f[name] === 'number' && f[name] !== 0 ? (f[name] as number) : undefined);
  const put = <K extends keyof ResourceUpdate>(k: K, v: ResourceUpdate[K] | undefined) => { if (v !== undefined) r[k] = v; };
  put('memoryBytes', size('memory', 'memory limit'));
  put('memorySwapBytes', f['memory-swap'] === '-1' ? -1 : size('memory-swap', 'memory+swap limit'));
  put('memoryReservationBytes', size('memory-reservation', 'memory reservation'));
  put('cpus', n('cpus'));
  put('cpuShares', n('cpu-shares'));
  put('cpuPeriodUs', n('cpu-period'));
  put('cpuQuotaUs', n('cpu-quota'));
  if (typeof f['cpuset-cpus'] === 'string' && f['cpuset-cpus']) r.cpusetCpus = f['cpuset-cpus'];
  if (typeof f['pids-limit'] === 'number') r.pidsLimit = f['pids-limit'];
  const o: UpdateOptions = {};
  if (Object.keys(r).length) o.resources = r;
  if (typeof f.restart === 'string') o.restartPolicy = f.restart;
  return o;
}

export const update: Command = {
  name: 'update',
  usage: USAGE,
  description: DESCRIPTION,
  async run(argv, ctx) {
    const { flags: f, args } = parseArgs(argv, [...flags, HELP_FLAG]);
    if (f.help) return ctx.out(helpText(USAGE, DESCRIPTION, flags)), 0;
    requireArgs(args, 1, USAGE);
    if (!flags.some((s) => f[s.name] !== undefined)) throw new UsageError('you must provide one or more flags when using this command');
    const options = updateOptions(f);
    const engine = await ctx.engine();
    // As docker: each name printed once updated; each failure reported; exit 1 if any failed.
    let rc = 0;
    for (const name of args) {
      try {
        await engine.update(name, options);
        ctx.out(name + '\n');
      } catch (err) {
        ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
        rc = 1;
      }
    }
    return rc;
  },
};
