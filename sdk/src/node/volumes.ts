import { mkdirSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { notFound } from '../errors/index.js';
import type { VolumeHandle } from '../runtime/backend.js';
import { checkVolumeName, randomVolumeName, type VolumeInfo, type VolumeStore } from '../volumes/types.js';
import { writeFileAtomicSync } from './atomic.js';

/** Volumes on disk, like docker's local driver: `<root>/volumes/<name>/_data`. */
export class FsVolumeStore implements VolumeStore {
  constructor(private readonly dir: string) {}

  async create(name?: string, options: { labels?: Record<string, string>; anonymous?: boolean } = {}): Promise<VolumeInfo> {
    const n = name ?? randomVolumeName();
    checkVolumeName(n);
    const meta = join(this.dir, n, 'volume.json');
    if (existsSync(meta)) return this.inspect(n);
    mkdirSync(join(this.dir, n, '_data'), { recursive: true, mode: 0o755 });
    const info: VolumeInfo = { name: n, driver: 'local', mountpoint: join(this.dir, n, '_data'), createdAt: new Date().toISOString(), labels: options.labels ?? {}, anonymous: options.anonymous ?? name === undefined };
    writeFileAtomicSync(meta, JSON.stringify(info));
    return info;
  }

  async inspect(name: string): Promise<VolumeInfo> {
    checkVolumeName(name);
    try {
      return JSON.parse(readFileSync(join(this.dir, name, 'volume.json'), 'utf8')) as VolumeInfo;
    } catch {
      throw notFound(`no such volume: ${name}`);
    }
  }

  async list(): Promise<VolumeInfo[]> {
    if (!existsSync(this.dir)) return [];
    const out: VolumeInfo[] = [];
    for (const n of readdirSync(this.dir)) {
      try { out.push(await this.inspect(n)); } catch { /* not a volume */ }
    }
    return out;
  }

  async remove(name: string): Promise<void> {
    await this.inspect(name);
    rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  async handle(name: string): Promise<VolumeHandle> {
    const info = await this.inspect(name);
    return { name, hostPath: info.mountpoint };
  }
}
