/**
 * A container's directories. What must outlive a host restart sits under
 * <stateDir>/containers/<id> on disk:
 *
 *   upper/ work/         the overlay's writable layer
 *   layers.json          the unpacked layers it uses (for pruning)
 *
 * What belongs to one boot sits in its run directory (on tmpfs, /run/skiff/...,
 * like crun's /run/crun), so a start writes nothing to the disk's journal:
 *
 *   bundle/config.json   the OCI bundle (rebuilt on every start)
 *   bundle/rootfs/       the overlay's mount point (mounted only inside the container)
 *   hostname hosts resolv.conf   files bound into /etc (made again when missing)
 *   pid.json             {"shim","pid"}, written by the helper once the process runs
 *   exit.json            {"code","signal"}, written by the helper when it ends
 *   boot-id              the boot in which the overlay was last mounted
 *
 * Without a separate run directory (tests, a host without /run) both are one.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export class ContainerDir {
  constructor(readonly root: string, readonly run: string = root) {}
  get bundle(): string { return join(this.run, 'bundle'); }
  get rootfs(): string { return join(this.run, 'bundle', 'rootfs'); }
  get config(): string { return join(this.run, 'bundle', 'config.json'); }
  get upper(): string { return join(this.root, 'upper'); }
  get work(): string { return join(this.root, 'work'); }
  get layers(): string { return join(this.root, 'layers.json'); }
  get pidFile(): string { return join(this.run, 'pid.json'); }
  get exitFile(): string { return join(this.run, 'exit.json'); }
  /** A file of this boot's run directory. */
  file(name: string): string { return join(this.run, name); }

  /** Makes the run directory (bundle/rootfs); true when it was missing (first start, or first since a host restart). */
  ensureRun(): boolean {
    if (existsSync(this.rootfs)) return false;
    mkdirSync(this.rootfs, { recursive: true });
    return true;
  }

  /** Deletes the run directory, when it is apart from the disk state. */
  /** Renames the run directory out of the way (the id may be reused); returns where it went, for deleting later. */
  removeRun(): string | undefined {
    if (this.run === this.root) return undefined;
    const gone = `${this.run}.removed-${process.pid}-${Date.now().toString(36)}`;
    try {
      renameSync(this.run, gone);
      return gone;
    } catch {
      rmSync(this.run, { recursive: true, force: true });
      return undefined;
    }
  }

  exists(): boolean {
    return existsSync(this.upper);
  }

  readPid(): { shim: number; shimStart?: number; pid: number } | undefined {
    return readJson(this.pidFile) as { shim: number; shimStart?: number; pid: number } | undefined;
  }

  readExit(): { code: number; signal: number; error?: string } | undefined {
    return readJson(this.exitFile) as { code: number; signal: number; error?: string } | undefined;
  }

  /** Forgets the last run before a new one. */
  clearRun(): void {
    rmSync(this.pidFile, { force: true });
    rmSync(this.exitFile, { force: true });
  }

  /**
   * Readies the overlay work dir for a `volatile` mount: overlayfs leaves
   * work/work/incompat/volatile behind and refuses to mount again while it is
   * there. That is safe to clear unless the host went down since the last
   * run (unsynced upper data may be lost): then this returns false.
   */
  prepareVolatileMount(): boolean {
    const bootFile = this.file('boot-id');
    const boot = currentBootId();
    const marker = join(this.work, 'work', 'incompat', 'volatile');
    if (existsSync(marker)) {
      let last = '';
      try { last = readFileSync(bootFile, 'utf8'); } catch { /* never started */ }
      if (last !== boot) return false;
    }
    rmSync(join(this.work, 'work'), { recursive: true, force: true });
    writeFileSync(bootFile, boot);
    return true;
  }

  writeExit(e: { code: number; signal: number; error?: string }): void {
    writeAtomic(this.exitFile, JSON.stringify(e));
  }
}

let bootId: string | undefined;

export function currentBootId(): string {
  return (bootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
}

export function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

export function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Whether pid is alive and in a skiff cgroup of container `id` (so not a reused PID). */
export function isContainerProcess(pid: number, id: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').some((l) => l.includes('/skiff/') && l.endsWith(`/${id}`));
  } catch {
    return false;
  }
}

/** Start time (clock ticks since boot, /proc/PID/stat field 22) of a live process, or undefined. */
export function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined; // a zombie has finished
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** Whether pid still names the process that started at `start` (not a reused PID). */
export function isSameProcess(pid: number, start: number | undefined): boolean {
  const now = startTimeOf(pid);
  return now !== undefined && (start === undefined || now === start);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
