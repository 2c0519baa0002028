/** cgroup v2: one directory <root>/<parent>/<id>, controllers enabled down the tree. */
import { freezeCgroup2 } from '../freeze.js';
import { mkdirSync } from 'node:fs';
import type { ProcessStats, Resources } from '@skiff/sdk';
import { unavailable } from '@skiff/sdk';
import type { CgroupManager, Controller } from '../types.js';
import { readCgroupFile, writeCgroupFile } from '../fs.js';
import { killUntilEmpty, procsOf } from '../procs.js';
import { removeCgroupDir } from '../remove.js';
import { memoryV2 } from './memory.js';
import { cpuV2 } from './cpu.js';
import { pidsV2 } from './pids.js';
import { cpusetV2 } from './cpuset.js';

const CONTROLLERS: Controller[] = [memoryV2, cpuV2, pidsV2];
/** Enabled down the tree only when a container asks for them. */
const ON_DEMAND: Controller[] = [cpusetV2];

export class V2CgroupManager implements CgroupManager {
  readonly setup = 'v2' as const;
  readonly joinPaths: string[];
  readonly dir: string;

  constructor(readonly id: string, private readonly root: string, private readonly parent: string) {
    this.dir = `${root}/${parent}/${id}`;
    this.joinPaths = [this.dir];
  }

  /** Controllers the host offers, enabled for the children of every level from the root down to the parent. */
  private async enableControllers(controllers = CONTROLLERS): Promise<Set<string>> {
    const offered = new Set(((await readCgroupFile(this.root, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean));
    const want = controllers.map((c) => c.name).filter((n) => offered.has(n));
    const levels = [this.root];
    for (const part of this.parent.split('/').filter(Boolean)) levels.push(`${levels[levels.length - 1]}/${part}`);
    for (const dir of levels) {
      const on = new Set(((await readCgroupFile(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/).filter(Boolean));
      const add = want.filter((n) => !on.has(n));
      if (add.length) await writeCgroupFile(dir, 'cgroup.subtree_control', add.map((n) => `+${n}`).join(' '));
    }
    return new Set(want);
  }

  async create(): Promise<void> {
    mkdirSync(`${this.root}/${this.parent}`, { recursive: true });
    await this.enableControllers();
    mkdirSync(this.dir, { recursive: true });
  }

  async apply(r: Resources): Promise<void> {
    const have = new Set(((await readCgroupFile(this.dir, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean));
    for (const c of ON_DEMAND) {
      if (c.wanted?.(r) && !have.has(c.name) && (await this.enableControllers([c])).has(c.name)) have.add(c.name);
    }
    for (const c of [...CONTROLLERS, ...ON_DEMAND]) {
      if (!c.wanted?.(r)) continue;
      if (!have.has(c.name)) throw unavailable(`the ${c.name} controller is not enabled for ${this.dir}; the host's cgroup v2 tree does not delegate it`);
      await c.apply(this.dir, r);
    }
  }

  async stats(): Promise<ProcessStats> {
    const out: ProcessStats = {};
    for (const c of CONTROLLERS) await c.stats(this.dir, out);
    return out;
  }

  oomKills(): Promise<number> {
    return memoryV2.oomKills(this.dir);
  }

  pids(): Promise<number[]> {
    return procsOf(this.joinPaths);
  }

  freeze(frozen: boolean): Promise<void> {
    return freezeCgroup2(this.dir, frozen);
  }

  async killAll(): Promise<void> {
    await writeCgroupFile(this.dir, 'cgroup.kill', '1').catch(() => {});
    await killUntilEmpty(this.joinPaths);
  }

  async remove(): Promise<void> {
    await this.killAll();
    await removeCgroupDir(this.dir);
  }
}
