/**
 * cgroup v1 (and the hybrid layout: v1 controllers plus a v2 hierarchy without
 * controllers, which skiff joins too, for cgroup.kill, process tracking and
 * the v2 freezer). One directory per controller hierarchy: <mount>/<parent>/<id>.
 * Pausing uses the v2 freezer where there is a v2 side, else the v1 freezer
 * controller, whose cgroup is made only then (one directory less per start on
 * a hybrid host).
 */
import { freezeCgroup2 } from '../freeze.js';
import { freezeV1, freezerState } from './freezer.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { ProcessStats, Resources } from '@skiff/sdk';
import { unavailable, unsupported } from '@skiff/sdk';
import type { CgroupManager, CgroupSetup, Controller } from '../types.js';
import { writeCgroupFile } from '../fs.js';
import { killUntilEmpty, procsOf } from '../procs.js';
import { removeCgroupDir } from '../remove.js';
import { memoryV1 } from './memory.js';
import { cpuV1 } from './cpu.js';
import { cpuacctV1 } from './cpuacct.js';
import { pidsV1 } from './pids.js';
import { devicesV1 } from './devices.js';
import { cpusetV1 } from './cpuset.js';

const CONTROLLERS: Controller[] = [memoryV1, cpuV1, cpuacctV1, pidsV1, devicesV1];

export interface V1Options {
  /** Controller name -> its hierarchy's mount point (cpu and cpuacct may share one). */
  mounts: Record<string, string>;
  /** The v2 hierarchy of a hybrid host, e.g. /sys/fs/cgroup/unified. */
  unified?: string;
  parent: string;
  /** Leave the devices controller open (--privileged): the process stays out of skiff's devices cgroups. */
  allowAllDevices?: boolean;
}

/** Parents whose device rules this process has already set (children inherit them at mkdir). */
const preparedDeviceParents = new Set<string>();

export class V1CgroupManager implements CgroupManager {
  readonly setup: CgroupSetup;
  private readonly dirs = new Map<string, string>();
  private readonly unifiedDir?: string;
  /** The v1 freezer cgroup, on a host without a v2 side only. */
  private readonly freezerDir?: string;
  private readonly basePaths: string[];
  /** The cpuset cgroup, joined only once it exists (a container given --cpuset-cpus). */
  private readonly cpusetDir?: string;
  private cpusetMade = false;

  constructor(readonly id: string, private readonly o: V1Options) {
    this.setup = o.unified ? 'hybrid' : 'v1';
    for (const c of CONTROLLERS) {
      const m = o.mounts[c.name];
      if (!m || (c === devicesV1 && o.allowAllDevices)) continue;
      this.dirs.set(c.name, `${m}/${o.parent}/${id}`);
    }
    if (o.unified) this.unifiedDir = `${o.unified}/${o.parent}/${id}`;
    else if (o.mounts.freezer) this.freezerDir = `${o.mounts.freezer}/${o.parent}/${id}`;
    const extra = this.unifiedDir ?? this.freezerDir;
    this.basePaths = [...new Set([...this.dirs.values(), ...(extra ? [extra] : [])])];
    if (o.mounts.cpuset) {
      this.cpusetDir = `${o.mounts.cpuset}/${o.parent}/${id}`;
      this.cpusetMade = existsSync(this.cpusetDir); // made by an earlier Engine process
    }
  }

  get joinPaths(): string[] {
    return this.cpusetMade ? [...this.basePaths, this.cpusetDir!] : this.basePaths;
  }

  dirOf(controller: string): string | undefined {
    return this.dirs.get(controller);
  }

  async create(): Promise<void> {
    // The device rules go on the parent once; a new devices cgroup starts with its parent's rules.
    const devices = this.dirs.get('devices');
    if (devices) {
      const parent = devices.slice(0, devices.lastIndexOf('/'));
      if (!preparedDeviceParents.has(parent)) {
        mkdirSync(parent, { recursive: true });
        // Another process (an earlier CLI) may have set them; the kernel refuses a new default
        // (EINVAL) once the parent has children, e.g. that process's running containers.
        if (deviceList(parent) === 'a *:* rwm') await devicesV1.apply(parent, {});
        preparedDeviceParents.add(parent);
      }
    }
    for (const d of this.basePaths) mkdirSync(d, { recursive: true });
    if (this.cpusetMade) await cpusetV1.prepare(this.o.mounts.cpuset!, this.cpusetDir!);
  }

  async apply(r: Resources): Promise<void> {
    for (const c of CONTROLLERS) {
      if (c === devicesV1) continue;
      const dir = this.dirs.get(c.name);
      if (dir) await c.apply(dir, r);
      else if (c.wanted?.(r)) throw unavailable(`the ${c.name} cgroup controller is not mounted on this host`);
    }
    if (cpusetV1.wanted!(r)) await this.applyCpuset(r);
  }

  /** The first --cpuset-cpus makes the cpuset cgroup and moves the running processes in; new ones join it at start and exec. */
  private async applyCpuset(r: Resources): Promise<void> {
    if (!this.cpusetDir) throw unavailable('the cpuset cgroup controller is not mounted on this host');
    await cpusetV1.prepare(this.o.mounts.cpuset!, this.cpusetDir);
    await cpusetV1.apply(this.cpusetDir, r);
    this.cpusetMade = true;
    // A process forked meanwhile is caught by the next round.
    for (let round = 0; round < 5; round++) {
      const inside = new Set(await procsOf([this.cpusetDir]));
      const missing = (await procsOf(this.basePaths)).filter((p) => !inside.has(p));
      if (!missing.length) return;
      for (const pid of missing) await writeCgroupFile(this.cpusetDir, 'cgroup.procs', String(pid)).catch(() => {}); // gone meanwhile
    }
  }

  async stats(): Promise<ProcessStats> {
    const out: ProcessStats = {};
    for (const c of CONTROLLERS) {
      const dir = this.dirs.get(c.name);
      if (dir) await c.stats(dir, out);
    }
    return out;
  }

  async oomKills(): Promise<number> {
    const dir = this.dirs.get('memory');
    return dir ? memoryV1.oomKills(dir) : 0;
  }

  pids(): Promise<number[]> {
    return procsOf(this.joinPaths);
  }

  async freeze(frozen: boolean): Promise<void> {
    if (this.unifiedDir) return freezeCgroup2(this.unifiedDir, frozen);
    if (!this.freezerDir) throw unsupported('pausing containers needs a freezer: a cgroup2 hierarchy (v2 or hybrid) or the cgroup v1 freezer controller, and this host has neither mounted (mount -t cgroup -o freezer cgroup /sys/fs/cgroup/freezer)');
    if (!existsSync(this.freezerDir)) throw unsupported(`container ${this.id} has no freezer cgroup (${this.freezerDir}); it was started before the freezer was mounted or by an older skiff: restart it to pause it`);
    return freezeV1(this.freezerDir, frozen);
  }

  async killAll(): Promise<void> {
    // The v2 side of a hybrid host kills the whole tree at once (Linux 5.14+).
    if (this.unifiedDir) await writeCgroupFile(this.unifiedDir, 'cgroup.kill', '1').catch(() => {});
    // A task frozen by the v1 freezer dies only once thawed: signal, then thaw (as runc).
    if (this.freezerDir) {
      const state = await freezerState(this.freezerDir).catch(() => undefined);
      if (state && state !== 'THAWED') {
        for (const pid of await procsOf(this.joinPaths)) {
          try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
        }
        await freezeV1(this.freezerDir, false);
      }
    }
    await killUntilEmpty(this.joinPaths);
  }

  async remove(): Promise<void> {
    await this.killAll();
    for (const d of this.joinPaths) await removeCgroupDir(d);
  }
}

/** A devices cgroup's rules; 'a *:* rwm' (everything allowed) is how a new one under the root starts. */
function deviceList(dir: string): string {
  try {
    return readFileSync(`${dir}/devices.list`, 'utf8').trim();
  } catch {
    return 'a *:* rwm';
  }
}
