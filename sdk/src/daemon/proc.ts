/** Reading /proc for `docker top` and `docker stats`. */
import { readFileSync, readdirSync } from 'node:fs';

const CLOCK_TICKS = 100;

export interface ProcEntry {
  pid: number;
  ppid: number;
  uid: number;
  /** User + system CPU time, in clock ticks. */
  ticks: number;
  startTicks: number;
  cmd: string;
}

function readProc(pid: number): ProcEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself hold spaces or parentheses.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return {
      pid,
      ppid: Number(fields[1]),
      uid,
      ticks: Number(fields[11]) + Number(fields[12]),
      startTicks: Number(fields[19]),
      cmd: cmdline || `[${stat.slice(stat.indexOf('(') + 1, close)}]`,
    };
  } catch {
    return undefined;
  }
}

/** A process and all its descendants, the root first. */
export function processTree(root: number): ProcEntry[] {
  const all: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) all.push(p);
  }
  const byParent = new Map<number, ProcEntry[]>();
  for (const p of all) {
    const list = byParent.get(p.ppid) ?? [];
    list.push(p);
    byParent.set(p.ppid, list);
  }
  const first = all.find((p) => p.pid === root);
  if (!first) return [];
  const out: ProcEntry[] = [];
  const queue = [first];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(byParent.get(p.pid) ?? []));
  }
  return out;
}

export function formatCpuTime(ticks: number): string {
  const s = Math.floor(ticks / CLOCK_TICKS);
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}`;
}

/** Host CPU time in nanoseconds (all CPUs), as docker's system_cpu_usage. */
export function systemCpuNanos(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const ticks = line.split(/\s+/).slice(1, 9).reduce((n, v) => n + Number(v || 0), 0);
    return Math.round((ticks * 1e9) / CLOCK_TICKS);
  } catch {
    return 0;
  }
}
