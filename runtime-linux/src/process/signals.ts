/** Signal names and numbers, from Node's table. */
import { constants } from 'node:os';
import { invalidArgument } from '@skiff/sdk';

const byNumber = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

export function signalName(n: number): string | undefined {
  return byNumber.get(n);
}

/** "TERM", "sigterm", "SIGTERM" or "15" -> "SIGTERM". */
export function toSignal(s: string | undefined): NodeJS.Signals {
  const raw = (s ?? 'SIGKILL').trim().toUpperCase();
  if (/^\d+$/.test(raw)) {
    const name = byNumber.get(Number(raw));
    if (!name) throw invalidArgument(`unknown signal number ${raw}`);
    return name as NodeJS.Signals;
  }
  const name = raw.startsWith('SIG') ? raw : `SIG${raw}`;
  if (!(name in constants.signals)) throw invalidArgument(`unknown signal "${s}"`);
  return name as NodeJS.Signals;
}
