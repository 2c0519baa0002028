import { readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord, ContainerRecordStore } from '../runtime/records.js';
import { writeFileAtomicSync } from './atomic.js';

/** Container records as `<root>/containers/<id>/config.json`, written atomically. */
export class FsRecordStore implements ContainerRecordStore {
  constructor(private readonly dir: string) {}

  async save(r: ContainerRecord): Promise<void> {
    writeFileAtomicSync(join(this.dir, r.id, 'config.json'), JSON.stringify(r, null, 1));
  }

  async load(id: string): Promise<ContainerRecord | undefined> {
    if (!/^[a-f0-9]{64}$/.test(id)) return undefined;
    try {
      return JSON.parse(readFileSync(join(this.dir, id, 'config.json'), 'utf8')) as ContainerRecord;
    } catch {
      return undefined;
    }
  }

  async list(): Promise<ContainerRecord[]> {
    if (!existsSync(this.dir)) return [];
    const out: ContainerRecord[] = [];
    for (const id of readdirSync(this.dir)) {
      const r = await this.load(id);
      if (r) out.push(r);
    }
    return out;
  }

  async delete(id: string): Promise<void> {
    if (!/^[a-f0-9]{64}$/.test(id)) return;
    rmSync(join(this.dir, id), { recursive: true, force: true });
  }

  /** The directory of one container, for its logs and backend state. */
  dirOf(id: string): string {
    return join(this.dir, id);
  }
}
