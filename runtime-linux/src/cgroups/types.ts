/**
 * The cgroup contract (youki's CgroupManager is the model): one small
 * interface over cgroup v1, the v1+v2 hybrid and v2, picked by detect() and
 * made by createCgroupManager(). Each version keeps one file per controller.
 *
 * Lifecycle: create() -> the helper writes the process into `joinPaths`
 * -> apply()/stats()/oomKills() while it runs -> remove() (kills leftovers first).
 */
import type { ProcessStats, Resources } from '@skiff/sdk';

export type CgroupSetup = 'v1' | 'hybrid' | 'v2';

export interface CgroupManager {
  readonly id: string;
  readonly setup: CgroupSetup;
  /** Directories whose cgroup.procs a new process is written into. */
  readonly joinPaths: string[];
  /** Makes the directories (idempotent). */
  create(): Promise<void>;
  apply(resources: Resources): Promise<void>;
  stats(): Promise<ProcessStats>;
  /** How many processes the kernel's OOM killer has killed in this cgroup. */
  oomKills(): Promise<number>;
  /** Host PIDs of the processes in the cgroup. */
  pids(): Promise<number[]>;
  /** Stops (or resumes) every process in the cgroup: docker pause and unpause. */
  freeze(frozen: boolean): Promise<void>;
  /** SIGKILLs every process in the cgroup and waits until it is empty. */
  killAll(): Promise<void>;
  /** killAll(), then removes the directories. */
  remove(): Promise<void>;
}

/** One controller of one cgroup version: what it writes for limits, what it reads for stats. */
export interface Controller {
  readonly name: string;
  /** Whether these limits need this controller (apply refuses a missing one then); absent: never. */
  wanted?(resources: Resources): boolean;
  apply(dir: string, resources: Resources): Promise<void>;
  stats(dir: string, into: ProcessStats): Promise<void>;
}
