/**
 * Running a compose project on an Engine, the way `docker compose` does:
 * containers named `<project>-<service>-1` and labelled with docker
 * compose's own labels (so `docker ps --filter label=...` finds them), a
 * config hash that decides whether `up` keeps, starts or recreates a
 * container, named volumes `<project>_<name>`, and dependencies started
 * first.
 *
 * Networking: as docker compose does, the project gets a network of its own
 * (`<project>_default`, a bridge) where each Linux service is reachable by
 * its service name; `network_mode` opts a service out. WASI services have
 * no network.
 */
import { failedPrecondition, invalidArgument, isSkiffError, notFound } from '../errors/index.js';
import { digestOf } from '../image/digest.js';
import { utf8 } from '../content/util.js';
import type { Engine } from '../runtime/engine.js';
import type { ContainerRecord } from '../runtime/records.js';
import type { Backend } from '../runtime/backend.js';
import type { CreateOptions } from '../runtime/options.js';
import type { ComposeProject, ServiceConfig } from './model.js';
import { startOrder, withDependencies } from './order.js';

export const LABEL_PROJECT = 'com.docker.compose.project';
export const LABEL_SERVICE = 'com.docker.compose.service';
export const LABEL_NUMBER = 'com.docker.compose.container-number';
export const LABEL_HASH = 'com.docker.compose.config-hash';
export const LABEL_ONEOFF = 'com.docker.compose.oneoff';
export const LABEL_VOLUME = 'com.docker.compose.volume';
export const LABEL_NETWORK = 'com.docker.compose.network';

export interface ComposeHooks {
  /** Builds `service.build` into `image`. */
  build(service: ServiceConfig, image: string): Promise<void>;
  /** One line of progress (` ✔ Container web-1  Started`). */
  progress(line: string): void;
}

export interface UpOptions {
  services?: string[];
  /** Build images even when they exist. */
  build?: boolean;
  /** Recreate containers even when their config is unchanged. */
  forceRecreate?: boolean;
  /** Services in these profiles run too (services without profiles always do). */
  profiles?: string[];
  /** Remove containers of services no longer in the file. */
  removeOrphans?: boolean;
  /** Called with each service's backend before anything is created; throws to refuse (e.g. -d with in-process backends). */
  checkBackend?: (service: string, backend: string) => void;
}

export class ComposeRunner {
  constructor(readonly engine: Engine, readonly project: ComposeProject, private readonly hooks: ComposeHooks) {}

  /** The image a service runs: its `image`, or `<project>-<service>` for a build without one. */
  imageOf(s: ServiceConfig): string {
    return s.image ?? `${this.project.name}-${s.name}`;
  }

  containerNameOf(s: ServiceConfig): string {
    return s.containerName ?? `${this.project.name}-${s.name}-1`;
  }

  /** This project's containers, by service. */
  async containers(all = true): Promise<ContainerRecord[]> {
    return (await this.engine.list({ all })).filter((r) => r.labels[LABEL_PROJECT] === this.project.name && r.labels[LABEL_ONEOFF] !== 'True');
  }

  private enabled(s: ServiceConfig, profiles: string[], asked: boolean): boolean {
    return asked || s.profiles.length === 0 || s.profiles.some((p) => profiles.includes(p));
  }

  async up(o: UpOptions = {}): Promise<ContainerRecord[]> {
    const { services } = this.project;
    for (const w of this.project.warnings) this.hooks.progress(`WARN ${w}`);
    const asked = new Set(o.services ?? []);
    const wanted = o.services?.length ? withDependencies(services, o.services) : new Set(Object.keys(services).filter((n) => this.enabled(services[n]!, o.profiles ?? [], false)));
    for (const n of wanted) if (!this.enabled(services[n]!, o.profiles ?? [], asked.has(n))) throw failedPrecondition(`service "${n}" is in profiles ${services[n]!.profiles.join(', ')} that are not enabled; add --profile`);
    const existing = await this.containers();
    if (o.removeOrphans) {
      for (const r of existing.filter((r) => !services[r.labels[LABEL_SERVICE] ?? ''])) {
        await this.engine.remove(r.id, { force: true });
        this.hooks.progress(`Container ${r.name}  Removed`);
      }
    }
    // Images first (built or pulled), so a failure there creates no container.
    const order = startOrder(services).filter((n) => wanted.has(n));
    const backends: Record<string, Backend> = {};
    for (const name of order) {
      const s = services[name]!;
      const image = this.imageOf(s);
      if (s.build && (o.build || !(await this.hasImage(image)))) {
        this.hooks.progress(`Service ${name}  Building`);
        await this.hooks.build(s, image);
        this.hooks.progress(`Service ${name}  Built`);
      }
      backends[name] = (await this.engine.chooseBackend(image, { ...(s.create.backend ? { backend: s.create.backend } : {}), ...(s.create.platform ? { platform: s.create.platform } : {}) })).backend;
      o.checkBackend?.(name, backends[name]!.name);
    }
    await this.ensureVolumes(wanted);
    const started: Record<string, ContainerRecord> = {};
    for (const name of order) {
      const s = services[name]!;
      await this.waitForDependencies(s, started);
      const image = this.imageOf(s);
      const backend = backends[name]!;
      const onProjectNetwork = s.networkMode === undefined && !!backend.capabilities.networks;
      if (onProjectNetwork) await this.ensureNetwork();
      const options = this.createOptions(s, image, onProjectNetwork, started);
      const hash = configHash(options, (await this.engine.images.lookup(image).catch(() => undefined))?.target.digest);
      options.labels = { ...(options.labels ?? {}), [LABEL_HASH]: hash };
      const old = existing.find((r) => r.labels[LABEL_SERVICE] === name);
      let rec: ContainerRecord;
      if (old && old.labels[LABEL_HASH] === hash && !o.forceRecreate) {
        if (old.state.status !== 'running') {
          await this.engine.start(old.id);
          this.hooks.progress(`Container ${old.name}  Started`);
        } else this.hooks.progress(`Container ${old.name}  Running`);
        rec = await this.engine.record(old.id);
      } else {
        if (old) {
          await this.stopContainer(old, s);
          await this.engine.remove(old.id, { force: true });
          this.hooks.progress(`Container ${old.name}  Recreated`);
        }
        const c = await this.engine.create(options);
        this.hooks.progress(`Container ${options.name}  Created`);
        await this.engine.start(c.id);
        this.hooks.progress(`Container ${options.name}  Started`);
        rec = await this.engine.record(c.id);
      }
      started[name] = rec;
    }
    return Object.values(started);
  }

  private async hasImage(image: string): Promise<boolean> {
    return this.engine.images.lookup(image).then(() => true, (e) => (isSkiffError(e, 'NOT_FOUND') || isSkiffError(e, 'INVALID_ARGUMENT') ? false : Promise.reject(e)));
  }

  /** The project's network, `<project>_default`. */
  get networkName(): string {
    return `${this.project.name}_default`;
  }

  private async ensureNetwork(): Promise<void> {
    if ((await this.engine.listNetworks()).some((n) => n.name === this.networkName)) return;
    await this.engine.createNetwork(this.networkName, { labels: { [LABEL_PROJECT]: this.project.name, [LABEL_NETWORK]: 'default' } });
    this.hooks.progress(`Network ${this.networkName}  Created`);
  }

  private createOptions(s: ServiceConfig, image: string, onProjectNetwork: boolean, started: Record<string, ContainerRecord>): CreateOptions & { name: string } {
    const o: CreateOptions & { name: string } = {
      ...structuredClone(s.create),
      image,
      name: this.containerNameOf(s),
      labels: { ...(s.create.labels ?? {}), [LABEL_PROJECT]: this.project.name, [LABEL_SERVICE]: s.name, [LABEL_NUMBER]: '1', [LABEL_ONEOFF]: 'False' },
    };
    const hosts = [...s.extraHosts];
    if (onProjectNetwork) {
      o.network = this.networkName;
      o.networkAliases = [s.name];
    }
    const mode = s.networkMode;
    if (mode === 'host' || mode === 'none') o.network = mode;
    else if (mode?.startsWith('service:')) {
      const target = started[mode.slice(8)];
      if (!target) throw failedPrecondition(`service ${s.name} shares the network of ${mode.slice(8)}, which is not running`);
      o.network = `container:${target.id}`;
    } else if (mode?.startsWith('container:')) o.network = mode as `container:${string}`;
    if (hosts.length) o.extraHosts = [...new Set(hosts)];
    return o;
  }

  private async waitForDependencies(s: ServiceConfig, started: Record<string, ContainerRecord>): Promise<void> {
    for (const [dep, { condition, required }] of Object.entries(s.dependsOn)) {
      const rec = started[dep];
      if (!rec) {
        if (required) throw failedPrecondition(`service ${s.name} depends on ${dep}, which is not running`);
        continue;
      }
      if (condition === 'service_healthy') await this.waitHealthy(s, dep, rec);
      if (condition === 'service_completed_successfully') {
        const status = await this.engine.wait(rec.id);
        if (status.exitCode !== 0) throw failedPrecondition(`service ${s.name} depends on ${dep} completing successfully, but ${rec.name} exited with code ${status.exitCode}`);
      }
    }
  }

  /** Polls the dependency's health until it is healthy; fails when it is unhealthy, exits, or has no check. */
  private async waitHealthy(s: ServiceConfig, dep: string, rec: ContainerRecord): Promise<void> {
    if (!rec.healthcheck) throw failedPrecondition(`service ${s.name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
    this.hooks.progress(`Container ${rec.name}  Waiting`);
    for (;;) {
      const r = await this.engine.record(rec.id);
      if (r.state.status !== 'running') throw failedPrecondition(`dependency failed to start: container ${r.name} exited (${r.state.exitCode}) before it was healthy`);
      if (r.state.health?.status === 'healthy') break;
      if (r.state.health?.status === 'unhealthy') throw failedPrecondition(`dependency failed to start: container ${r.name} is unhealthy`);
      await new Promise((res) => setTimeout(res, 100));
    }
    this.hooks.progress(`Container ${rec.name}  Healthy`);
  }

  private async ensureVolumes(services: Set<string>): Promise<void> {
    const used = new Set<string>();
    for (const n of services) for (const v of this.project.services[n]!.create.volumes ?? []) used.add(v.split(':')[0]!);
    for (const [key, v] of Object.entries(this.project.volumes)) {
      if (!used.has(v.name)) continue;
      const have = await this.engine.volumes.inspect(v.name).then(() => true, (e) => (isSkiffError(e, 'NOT_FOUND') ? false : Promise.reject(e)));
      if (have) continue;
      if (v.external) throw notFound(`external volume "${v.name}" not found; create it with skiff volume create ${v.name}`);
      await this.engine.volumes.create(v.name, { labels: { [LABEL_PROJECT]: this.project.name, [LABEL_VOLUME]: key } });
      this.hooks.progress(`Volume ${v.name}  Created`);
    }
  }

  private async stopContainer(r: ContainerRecord, s: ServiceConfig | undefined): Promise<void> {
    if (r.state.status !== 'running') return;
    await this.engine.stop(r.id, { ...(s?.stopGracePeriodSec !== undefined ? { timeoutSec: s.stopGracePeriodSec } : {}), ...(s?.stopSignal ? { signal: s.stopSignal } : {}) });
    this.hooks.progress(`Container ${r.name}  Stopped`);
  }

  /** Stops containers, dependents first. */
  async stop(services?: string[]): Promise<void> {
    const order = startOrder(this.project.services).reverse();
    const list = await this.containers();
    const byService = (n: string) => list.filter((r) => r.labels[LABEL_SERVICE] === n);
    const names = services?.length ? services : [...order, ...new Set(list.map((r) => r.labels[LABEL_SERVICE] ?? ''))];
    for (const n of [...new Set(names)]) {
      if (services?.length && !this.project.services[n]) throw invalidArgument(`no such service: ${n}`);
      for (const r of byService(n)) await this.stopContainer(r, this.project.services[n]);
    }
  }

  /** Stops and removes the project's containers (and, with `volumes`, its named volumes). */
  async down(o: { volumes?: boolean } = {}): Promise<void> {
    await this.stop();
    for (const r of await this.containers()) {
      await this.engine.remove(r.id, { force: true, volumes: true });
      this.hooks.progress(`Container ${r.name}  Removed`);
    }
    if ((await this.engine.listNetworks()).some((n) => n.name === this.networkName)) {
      await this.engine.removeNetwork(this.networkName);
      this.hooks.progress(`Network ${this.networkName}  Removed`);
    }
    if (o.volumes) {
      for (const v of Object.values(this.project.volumes)) {
        if (v.external) continue;
        const removed = await this.engine.volumes.remove(v.name).then(() => true, (e) => (isSkiffError(e, 'NOT_FOUND') ? false : Promise.reject(e)));
        if (removed) this.hooks.progress(`Volume ${v.name}  Removed`);
      }
    }
  }

  /** The running container of a service (for exec and logs). */
  async containerOf(service: string): Promise<ContainerRecord> {
    if (!this.project.services[service]) throw invalidArgument(`no such service: ${service}`);
    const r = (await this.containers()).find((c) => c.labels[LABEL_SERVICE] === service);
    if (!r) throw notFound(`service "${service}" has no container; run skiff compose up first`);
    return r;
  }
}

/** What decides whether `up` recreates: the create options and the image's ID. */
function configHash(o: CreateOptions, imageId: string | undefined): string {
  return digestOf(utf8(JSON.stringify({ o, imageId: imageId ?? '' }))).slice(7);
}
