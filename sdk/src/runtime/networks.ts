/**
 * User-defined networks (`docker network create`): a bridge on the host with
 * a /24 of its own; each container on it gets an address there, and the
 * names (container name and aliases) of the others in /etc/hosts. Containers
 * on a network reach each other and the host's address on the bridge; there
 * is no default route, so nothing routes off the machine.
 */
import { conflict, invalidArgument, notFound } from '../errors/index.js';
import { digestOf } from '../image/digest.js';
import { utf8 } from '../content/util.js';

export interface NetworkInfo {
  name: string;
  id: string;
  driver: 'bridge';
  /** `10.89.N.0/24`. */
  subnet: string;
  /** The host's address on the bridge, `10.89.N.1`. */
  gateway: string;
  /** The host interface, `br-<id12>`. */
  bridge: string;
  internal: boolean;
  labels: Record<string, string>;
  createdAt: string;
}

/** Where a container sits on one network (kept in its record). */
export interface NetworkAttachment {
  name: string;
  /** The network's ID (its gateway is always `<subnet>.1`). */
  id: string;
  ip: string;
  aliases: string[];
}

export interface NetworkStore {
  save(n: NetworkInfo): Promise<void>;
  get(name: string): Promise<NetworkInfo | undefined>;
  list(): Promise<NetworkInfo[]>;
  delete(name: string): Promise<void>;
}

export class MemoryNetworkStore implements NetworkStore {
  private map = new Map<string, NetworkInfo>();
  async save(n: NetworkInfo): Promise<void> { this.map.set(n.name, structuredClone(n)); }
  async get(name: string): Promise<NetworkInfo | undefined> { const n = this.map.get(name); return n && structuredClone(n); }
  async list(): Promise<NetworkInfo[]> { return [...this.map.values()].map((n) => structuredClone(n)); }
  async delete(name: string): Promise<void> { this.map.delete(name); }
}

/** Names docker keeps for itself; skiff's own modes use them too. */
export const RESERVED_NETWORKS = new Set(['bridge', 'host', 'none', 'default']);
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function checkNetworkName(name: string): void {
  if (!NETWORK_NAME.test(name) || name.length > 128) throw invalidArgument(`invalid network name "${name}": use letters, digits, '_', '.', '-', starting with a letter or digit`);
  if (RESERVED_NETWORKS.has(name)) throw conflict(`network name "${name}" is reserved; pick another`);
}

/** A new network: the first free 10.89.N.0/24 that no other network and no host address uses. */
export function newNetwork(name: string, taken: NetworkInfo[], hostAddresses: string[], o: { labels?: Record<string, string>; internal?: boolean } = {}): NetworkInfo {
  checkNetworkName(name);
  if (taken.some((n) => n.name === name)) throw conflict(`network with name ${name} already exists`);
  const used = new Set(taken.map((n) => n.subnet.split('.')[2]));
  for (const a of hostAddresses) if (a.startsWith('10.89.')) used.add(a.split('.')[2]!);
  let third = -1;
  for (let i = 1; i < 255; i++) if (!used.has(String(i))) { third = i; break; }
  if (third < 0) throw conflict('no free subnet left in 10.89.0.0/16 for a new network; remove unused networks (skiff network prune)');
  const id = digestOf(utf8(`skiff network ${name} ${Date.now()} ${Math.random()}`)).slice(7);
  return {
    name, id, driver: 'bridge', subnet: `10.89.${third}.0/24`, gateway: `10.89.${third}.1`, bridge: `br-${id.slice(0, 12)}`,
    internal: o.internal ?? false, labels: o.labels ?? {}, createdAt: new Date().toISOString(),
  };
}

/** The lowest free address of a network (2..254; .1 is the host's). */
export function allocateAddress(n: NetworkInfo, inUse: string[]): string {
  const prefix = n.subnet.split('.').slice(0, 3).join('.');
  const used = new Set(inUse);
  for (let i = 2; i < 255; i++) if (!used.has(`${prefix}.${i}`)) return `${prefix}.${i}`;
  throw conflict(`network ${n.name} has no free address left (253 containers); remove some or use another network`);
}

export function networkNotFound(name: string): Error {
  return notFound(`network ${name} not found`);
}
