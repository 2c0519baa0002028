/**
 * What the Docker API keeps about a container that the Engine's record does
 * not: the network mode as asked, exposed and published ports, attach flags.
 * Stored beside the record (`<root>/containers/<id>/docker.json`), so it goes
 * when the record's directory goes; in memory for an Engine without a root.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../node/atomic.js';

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

export interface ContainerExtras {
  /** As the client sent it: `default`, `bridge`, `host`, `none`. */
  networkMode: string;
  exposedPorts: Record<string, object>;
  portBindings: Record<string, PortBinding[]>;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  stdinOnce: boolean;
  domainname: string;
  /** Image config volumes, for `Config.Volumes`. */
  volumes?: Record<string, object>;
}

export function defaultExtras(): ContainerExtras {
  return { networkMode: 'none', exposedPorts: {}, portBindings: {}, attachStdin: false, attachStdout: true, attachStderr: true, stdinOnce: false, domainname: '' };
}

export interface ExtrasStore {
  save(id: string, extras: ContainerExtras): void;
  load(id: string): ContainerExtras;
  delete(id: string): void;
}

export class MemoryExtrasStore implements ExtrasStore {
  private map = new Map<string, ContainerExtras>();
  save(id: string, e: ContainerExtras): void { this.map.set(id, structuredClone(e)); }
  load(id: string): ContainerExtras { return structuredClone(this.map.get(id) ?? defaultExtras()); }
  delete(id: string): void { this.map.delete(id); }
}

export class FsExtrasStore implements ExtrasStore {
  private cache = new Map<string, ContainerExtras>();
  constructor(private readonly containersDir: string) {}
  private file(id: string): string {
    return join(this.containersDir, id, 'docker.json');
  }
  save(id: string, e: ContainerExtras): void {
    this.cache.set(id, structuredClone(e));
    // Only beside a record that exists: never recreate the folder of a removed container.
    if (/^[a-f0-9]{64}$/.test(id) && existsSync(join(this.containersDir, id))) writeFileAtomicSync(this.file(id), JSON.stringify(e));
  }
  load(id: string): ContainerExtras {
    const hit = this.cache.get(id);
    if (hit) return structuredClone(hit);
    try {
      const e = { ...defaultExtras(), ...(JSON.parse(readFileSync(this.file(id), 'utf8')) as Partial<ContainerExtras>) };
      this.cache.set(id, e);
      return structuredClone(e);
    } catch {
      return defaultExtras();
    }
  }
  delete(id: string): void {
    this.cache.delete(id);
    if (/^[a-f0-9]{64}$/.test(id)) rmSync(this.file(id), { force: true });
  }
}
