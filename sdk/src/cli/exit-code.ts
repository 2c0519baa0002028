/**
 * The CLI's exit codes when a command fails, by docker's CLI rules (checked
 * against docker 28's CLI with dockerd, test/cli-exit-codes.test.ts):
 * - 125 for a flag the parser rejects, on every command;
 * - `run`: 125 for any failure before the container's command runs, 127 when
 *   that command is not found, 126 when it cannot be invoked;
 * - `create`: 125 when an option is rejected, 1 for the other failures;
 * - `exec`: 126 when the process cannot be started;
 * - 1 for everything else: a wrong number of arguments, an unknown command,
 *   any other verb's failure (a missing object, a conflict, ...).
 * A container's (or exec's) own exit code is what the command returns, not
 * an error, so it passes through unchanged.
 */
import { exitCodeOf, isSkiffError } from '../errors/index.js';
import { ArgumentsError, FlagError, UsageError } from './args.js';

/** The container's command (or an exec's) failed to start: docker's 126/127 for `run`. */
export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
  constructor(readonly error: unknown) {
    super(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/**
 * Awaits the start of a container's or an exec's process, marking its failure
 * as a ProcessStartError. A CONFLICT is the container's state refusing the
 * verb (not running, paused), not the process failing, and passes as it is.
 */
export async function startingProcess<T>(start: Promise<T>): Promise<T> {
  try {
    return await start;
  } catch (err) {
    throw isSkiffError(err, 'CONFLICT') ? err : new ProcessStartError(err);
  }
}

/** The exit code for `err` thrown by the command `verb` (its name: run, create, exec, rm, ...). */
export function exitCodeFor(err: unknown, verb: string): number {
  if (err instanceof FlagError) return 125;
  if (err instanceof ArgumentsError) return 1;
  if (err instanceof ProcessStartError) {
    if (verb === 'run') return exitCodeOf(err.error);
    return verb === 'exec' ? 126 : 1;
  }
  if (verb === 'run') return 125;
  // docker create checks its options before asking the daemon (125); the daemon's refusals are 1.
  if (verb === 'create' && (err instanceof UsageError || isSkiffError(err, 'INVALID_ARGUMENT'))) return 125;
  return 1;
}
