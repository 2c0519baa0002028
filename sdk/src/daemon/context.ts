/**
 * What every route shares: the Engine, the event log, exec instances, stdin
 * handed from an attach to the next start, and the Docker-only extras of
 * containers. The daemon watches each container it starts so `die` and
 * `destroy` events are sent even when nobody waits.
 */
import type { Engine } from '../runtime/engine.js';
import type { ContainerRecord } from '../runtime/records.js';
import type { ImageConfig } from '../image/types.js';
import type { ExitStatus } from '../runtime/backend.js';
import type { RegistryOptions } from '../registry/types.js';
import type { BuildOptions, BuildResult } from '../build/builder.js';
import { EventLog } from './events.js';
import type { ExtrasStore } from './container-extras.js';
import type { ExecInstance } from './routes/exec.js';

/** Builds an image from a Dockerfile; the daemon's /build calls it. */
export type ImageBuilder = (options: BuildOptions) => Promise<BuildResult>;

export interface DaemonInfo {
  /** Shown as `Name` in /info. */
  name: string;
  root: string;
  id: string;
}

export class DaemonContext {
  readonly events = new EventLog();
  readonly execs = new Map<string, ExecInstance>();
  /** stdin from an attach made before start, handed to that start. */
  readonly pendingStdin = new Map<string, ReadableStream<Uint8Array>>();
  private readonly watched = new Set<string>();
  /** Waits to settle when a start fails (the Engine settles its waiters only on an exit). */
  private readonly startFailures = new Map<string, Set<(s: ExitStatus) => void>>();
  private readonly configs = new Map<string, ImageConfig>();

  constructor(
    readonly engine: Engine,
    readonly extras: ExtrasStore,
    readonly registry: RegistryOptions,
    readonly info: DaemonInfo,
    readonly builder?: ImageBuilder,
  ) {}

  containerAttributes(r: ContainerRecord): Record<string, string> {
    return { ...r.labels, image: r.image, name: r.name };
  }

  /** Sends `die` when the current run ends, and `destroy` when an auto-remove container is gone. */
  watch(id: string): void {
    void (async () => {
      const r = await this.engine.record(id).catch(() => undefined);
      if (!r?.state.startedAt) return;
      const run = `${r.id}@${r.state.startedAt}`;
      if (this.watched.has(run)) return;
      this.watched.add(run);
      const attrs = this.containerAttributes(r);
      const status = await this.engine.wait(r.id, 'not-running').catch(() => undefined);
      this.watched.delete(run);
      this.events.emit('container', 'die', r.id, { ...attrs, exitCode: String(status?.exitCode ?? 255) });
      if (r.autoRemove) {
        await this.engine.wait(r.id, 'removed').catch(() => undefined);
        this.forget(r.id);
        this.events.emit('container', 'destroy', r.id, attrs);
      }
    })();
  }

  /** Settles when a start of this container fails; `cancel` stops listening. */
  startFailure(id: string): { failed: Promise<ExitStatus>; cancel: () => void } {
    let cb!: (s: ExitStatus) => void;
    const failed = new Promise<ExitStatus>((res) => (cb = res));
    const set = this.startFailures.get(id) ?? new Set();
    set.add(cb);
    this.startFailures.set(id, set);
    return {
      failed,
      cancel: () => {
        set.delete(cb);
        if (set.size === 0 && this.startFailures.get(id) === set) this.startFailures.delete(id);
      },
    };
  }

  /** Tells the waits of a container that its start failed. */
  failStart(id: string, status: ExitStatus): void {
    const set = this.startFailures.get(id);
    this.startFailures.delete(id);
    for (const cb of set ?? []) cb(status);
  }

  /** Drops what the daemon kept about a removed container. */
  forget(id: string): void {
    this.extras.delete(id);
    this.pendingStdin.delete(id);
    for (const [eid, e] of this.execs) if (e.containerId === id) this.execs.delete(eid);
  }

  /** An image's config by ID (its digest), for inspect's Config; undefined when the image is gone. */
  async imageConfig(id: string): Promise<ImageConfig | undefined> {
    const hit = this.configs.get(id);
    if (hit) return hit;
    try {
      const config = JSON.parse(new TextDecoder().decode(await this.engine.layout.readBytes(id))) as ImageConfig;
      this.configs.set(id, config);
      return config;
    } catch {
      return undefined;
    }
  }
}
