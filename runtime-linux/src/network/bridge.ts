/**
 * User-defined networks on Linux, with iproute2: a bridge per network (its
 * gateway address is the host's), and for each container a network
 * namespace of its own, made before the container starts (so its interfaces
 * are up before its first instruction) and joined by path, like
 * `ip netns`. A veth pair links the namespace to each bridge. No default
 * route is set: a container reaches its networks and nothing beyond them.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { internal, unavailable } from '@skiff/sdk';

const NETNS_DIR = '/run/netns';

function ip(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(unavailable('the ip command is missing; install iproute2 (apt-get install iproute2) for user-defined networks'));
      reject(Object.assign(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`), { stderr }));
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** The namespace's name under /run/netns: the backend's key keeps two state directories apart. */
export function netnsName(backendKey: string, containerId: string): string {
  return `skiff-${backendKey}-${containerId}`;
}

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

/** Makes the bridge of a network unless it is there (another container may be making it too). */
export async function ensureBridge(bridge: string, gateway: string, prefixLength: number): Promise<void> {
  if (existsSync(`/sys/class/net/${bridge}`)) return;
  try {
    await ip(['link', 'add', 'name', bridge, 'type', 'bridge']);
  } catch (err) {
    if (!/File exists/.test(String((err as { stderr?: string }).stderr))) throw internal(`creating bridge ${bridge}: ${(err as Error).message}`, err);
  }
  await ip(['-batch', '-'], `addr replace ${gateway}/${prefixLength} dev ${bridge}\nlink set ${bridge} up\n`);
}

export async function removeBridge(bridge: string): Promise<void> {
  if (!existsSync(`/sys/class/net/${bridge}`)) return;
  await ip(['link', 'del', bridge]).catch(() => {});
}

export interface Attachment {
  bridge: string;
  ip: string;
  prefixLength: number;
  gateway: string;
}

/** The host end of a container's veth on a bridge: named after both, so it is found again to take it away. */
function hostEnd(containerId: string, bridge: string): string {
  return `vs${createHash('sha256').update(`${containerId}/${bridge}`).digest('hex').slice(0, 13)}`;
}

/**
 * The container's MAC on a network, made of its address as docker's were
 * (02:42 and the four bytes): an address handed to the next container keeps
 * its MAC, so the peers' ARP caches stay right and it is reached at once.
 */
export function macOf(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

/** Creates the container's namespace with loopback up and one interface (eth0, eth1...) per network. */
export async function createNetns(name: string, containerId: string, attachments: Attachment[]): Promise<void> {
  await removeNetns(name); // a leftover of a crash would hold stale interfaces
  await ip(['netns', 'add', name]);
  try {
    const inside: string[] = ['link set lo up'];
    for (const [i, a] of attachments.entries()) {
      await ensureBridge(a.bridge, a.gateway, a.prefixLength);
      const host = hostEnd(containerId, a.bridge);
      await ip(['link', 'del', host]).catch(() => {});
      await ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', `eth${i}`, 'address', macOf(a.ip), 'netns', name]);
      await ip(['link', 'set', host, 'master', a.bridge, 'up']);
      inside.push(`addr add ${a.ip}/${a.prefixLength} dev eth${i}`, `link set eth${i} up`);
    }
    await ip(['-n', name, '-batch', '-'], inside.join('\n') + '\n');
  } catch (err) {
    await removeNetns(name);
    throw internal(`setting up the networks of container ${containerId}: ${(err as Error).message}`, err);
  }
}

/**
 * Changes the networks of a running container, whose process `pid` is in
 * the namespace: the veths of networks it left are deleted (both ends go),
 * new ones come up with their address. A namespace the helper made at start
 * (the container had no network then) gets its name first, so that the next
 * start joins it as it joins one made by createNetns; with no network left
 * the name goes, and the process keeps its namespace with loopback only.
 */
export async function changeNetns(name: string, containerId: string, pid: number, before: Attachment[], after: Attachment[]): Promise<void> {
  const gone = before.filter((b) => !after.some((a) => a.bridge === b.bridge));
  const added = after.filter((a) => !before.some((b) => b.bridge === a.bridge));
  try {
    if (added.length) await nameNetns(name, pid);
    for (const b of gone) {
      const host = hostEnd(containerId, b.bridge);
      if (existsSync(`/sys/class/net/${host}`)) await ip(['link', 'del', host]);
    }
    for (const a of added) await addInterface(name, containerId, a);
  } catch (err) {
    throw internal(`changing the networks of running container ${containerId}: ${(err as Error).message}`, err);
  }
  if (!after.length) await removeNetns(name);
}

/** Names the namespace of process `pid` under /run/netns (ip netns attach), unless that name is already it. */
async function nameNetns(name: string, pid: number): Promise<void> {
  const path = netnsPath(name);
  if (existsSync(path)) {
    const named = statSync(path);
    const its = statSync(`/proc/${pid}/ns/net`);
    if (named.ino === its.ino && named.dev === its.dev) return;
    await ip(['netns', 'del', name]); // left by an earlier run: not this process's
  }
  await ip(['netns', 'attach', name, String(pid)]);
}

/** Adds a veth on the bridge to a named namespace, as the lowest free ethN, with its address. */
async function addInterface(name: string, containerId: string, a: Attachment): Promise<void> {
  await ensureBridge(a.bridge, a.gateway, a.prefixLength);
  const taken = new Set([...(await ip(['-n', name, '-o', 'link', 'show'])).matchAll(/^\d+: eth(\d+)[@:]/gm)].map((m) => Number(m[1])));
  let n = 0;
  while (taken.has(n)) n++;
  const host = hostEnd(containerId, a.bridge);
  await ip(['link', 'del', host]).catch(() => {});
  await ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', `eth${n}`, 'address', macOf(a.ip), 'netns', name]);
  try {
    await ip(['link', 'set', host, 'master', a.bridge, 'up']);
    await ip(['-n', name, '-batch', '-'], `addr add ${a.ip}/${a.prefixLength} dev eth${n}\nlink set eth${n} up\n`);
  } catch (err) {
    await ip(['link', 'del', host]).catch(() => {});
    throw err;
  }
}

/** Deletes the namespace; its veth ends go with it. */
export async function removeNetns(name: string): Promise<void> {
  if (!existsSync(netnsPath(name))) return;
  await ip(['netns', 'del', name]).catch(() => {});
}

/** Namespaces of this backend whose container is gone (`keep` holds the live IDs). */
export function orphanNetns(backendKey: string, keep: Set<string>): string[] {
  const prefix = `skiff-${backendKey}-`;
  try {
    return readdirSync(NETNS_DIR).filter((n) => n.startsWith(prefix) && !keep.has(n.slice(prefix.length)));
  } catch {
    return [];
  }
}
