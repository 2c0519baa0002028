/** User-defined networks on disk: one JSON file per network under `<root>/networks`. */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomicSync } from './atomic.js';
import type { NetworkInfo, NetworkStore } from '../runtime/networks.js';

export class FsNetworkStore implements NetworkStore {
  constructor(private readonly dir: string) {}
  private file(name: string): string {
    return join(this.dir, `${name}.json`);
  }
  async save(n: NetworkInfo): Promise<void> {
    writeFileAtomicSync(this.file(n.name), JSON.stringify(n, null, 2));
  }
  async get(name: string): Promise<NetworkInfo | undefined> {
    try {
      return JSON.parse(readFileSync(this.file(name), 'utf8')) as NetworkInfo;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  async list(): Promise<NetworkInfo[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
    } catch {
      return [];
    }
    const out: NetworkInfo[] = [];
    for (const f of names.sort()) {
      const n = await this.get(f.slice(0, -5));
      if (n) out.push(n);
    }
    return out;
  }
  async delete(name: string): Promise<void> {
    rmSync(this.file(name), { force: true });
  }
}

/** This host's IPv4 addresses (a new network's subnet avoids them). */
export function hostIPv4Addresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address));
}
