/** Named volumes: data that outlives containers. */
import { invalidArgument, unsupported } from '../errors/index.js';
import type { VolumeHandle } from '../runtime/backend.js';

export interface VolumeInfo {
  name: string;
  driver: 'local';
  /** Host directory (Node), or `memory://NAME` for in-memory volumes. */
  mountpoint: string;
  createdAt: string;
  labels: Record<string, string>;
  /** Created implicitly by `-v /path` (no name given). */
  anonymous: boolean;
}

export interface VolumeStore {
  create(name?: string, options?: { labels?: Record<string, string>; anonymous?: boolean }): Promise<VolumeInfo>;
  inspect(name: string): Promise<VolumeInfo>;
  list(): Promise<VolumeInfo[]>;
  /** Deletes the volume and its data. */
  remove(name: string): Promise<void>;
  /** What a backend mounts. */
  handle(name: string): Promise<VolumeHandle>;
}

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function checkVolumeName(name: string): void {
  if (!VOLUME_NAME.test(name) || name.length > 255) {
    throw invalidArgument(`invalid volume name "${name}": use letters, digits, '_', '.', '-', starting with a letter or digit`);
  }
}

/** A random 64-hex name, as docker gives anonymous volumes. */
export function randomVolumeName(): string {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** The default when an Engine is given no volume store: every volume use says so. */
export class NoVolumeStore implements VolumeStore {
  private no(): never {
    throw unsupported('this engine has no volume store; give the Engine a `volumes` store (MemoryVolumeStore from @skiff/sdk/memory, or the on-disk one that createNodeEngine uses)');
  }
  async create(): Promise<VolumeInfo> { return this.no(); }
  async inspect(): Promise<VolumeInfo> { return this.no(); }
  async list(): Promise<VolumeInfo[]> { return []; }
  async remove(): Promise<void> { return this.no(); }
  async handle(): Promise<VolumeHandle> { return this.no(); }
}
