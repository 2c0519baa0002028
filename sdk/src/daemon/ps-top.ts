/**
 * `docker top CONTAINER [ps OPTIONS]`: as dockerd, the host's `ps` with the
 * options given, its rows kept for the container's processes (found by the
 * PID column), the last column (the command) whole with its spaces.
 */
import { execFile } from 'node:child_process';
import { invalidArgument, unavailable } from '../errors/index.js';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** Parses ps's output and keeps the rows whose PID is one of `pids`. */
export function filterPsOutput(output: string, pids: Set<number>): TopResult {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidColumn = titles.indexOf('PID');
  if (pidColumn < 0) throw invalidArgument('Couldn\'t find PID field in ps output: give ps options that list it (e.g. -o pid,comm)');
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!pids.has(Number(fields[pidColumn]))) continue;
    processes.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')]);
  }
  return { Titles: titles, Processes: processes };
}

/**
 * Runs the host's ps with `psArgs` (split on spaces) and keeps the container's
 * rows. As dockerd, the PIDs go to ps too (`-q PID,...`, so options like
 * `-o pid,comm` without -e still list them), and without them when ps
 * refuses the combination (`f` and `-q` do not mix).
 */
export async function psTop(psArgs: string, pids: Set<number>): Promise<TopResult> {
  const args = psArgs.split(/\s+/).filter(Boolean);
  try {
    return await runPs([...args, '-q', [...pids].join(',')], psArgs, pids);
  } catch {
    return runPs(args, psArgs, pids);
  }
}

function runPs(args: string[], psArgs: string, pids: Set<number>): Promise<TopResult> {
  return new Promise((resolve, reject) => {
    execFile('ps', args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        return reject(missing ? unavailable('docker top with ps options needs ps on the daemon\'s host (Debian: apt-get install procps)') : invalidArgument(`ps ${psArgs} failed: ${stderr.trim() || err.message}`));
      }
      try {
        resolve(filterPsOutput(stdout, pids));
      } catch (e) {
        reject(e);
      }
    });
  });
}
