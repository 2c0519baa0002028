import { Volume, createFsFromVolume } from 'memfs';
import { notFound } from '../errors/index.js';
import type { FsLike, VolumeHandle } from '../runtime/backend.js';
import { checkVolumeName, randomVolumeName, type VolumeInfo, type VolumeStore } from './types.js';

/** Volumes held in memory (browsers, tests): each is its own memfs tree. */
export class MemoryVolumeStore implements VolumeStore {
  private volumes = new Map<string, { info: VolumeInfo; fs: FsLike }>();

  async create(name?: string, options: { labels?: Record<string, string>; anonymous?: boolean } = {}): Promise<VolumeInfo> {
    const n = name ?? randomVolumeName();
    checkVolumeName(n);
    const existing = this.volumes.get(n);
    if (existing) return existing.info; // docker: creating an existing volume is a no-op
    const fs = createFsFromVolume(new Volume()) as unknown as FsLike;
    fs.mkdirSync('/data', { recursive: true });
    const info: VolumeInfo = { name: n, driver: 'local', mountpoint: `memory://${n}`, createdAt: new Date().toISOString(), labels: options.labels ?? {}, anonymous: options.anonymous ?? name === undefined };
    this.volumes.set(n, { info, fs });
    return info;
  }

  async inspect(name: string): Promise<VolumeInfo> {
    return this.get(name).info;
  }

  async list(): Promise<VolumeInfo[]> {
    return [...this.volumes.values()].map((v) => v.info);
  }

  async remove(name: string): Promise<void> {
    this.get(name);
    this.volumes.delete(name);
  }

  async handle(name: string): Promise<VolumeHandle> {
    const v = this.get(name);
    return { name, fs: v.fs, fsRoot: '/data' };
  }

  private get(name: string) {
    const v = this.volumes.get(name);
    if (!v) throw notFound(`no such volume: ${name}`);
    return v;
  }
}

