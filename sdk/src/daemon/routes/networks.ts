/**
 * Networks: skiff has none of its own. Containers are on `none` (loopback
 * only) or on `host`. `bridge` is listed because clients look for it:
 * testcontainers, inside a container, takes `bridge`'s gateway as the host
 * where published ports are reached; 127.0.0.1 is right for skiff, whose
 * only published ports are host-network ones.
 */
import { notFound, unsupported } from '../../errors/index.js';
import { digestOf } from '../../image/digest.js';
import { utf8 } from '../../content/util.js';
import type { Router } from '../router.js';
import type { DaemonContext } from '../context.js';
import { parseFilters } from '../filters.js';

const NAMES = ['bridge', 'host', 'none'] as const;

/** A stable 64-hex ID per network name. */
export function networkId(name: string): string {
  return digestOf(utf8(`skiff network ${name}`)).slice(7);
}

function networkJson(name: string) {
  return {
    Name: name,
    Id: networkId(name),
    Created: new Date(0).toISOString(),
    Scope: 'local',
    Driver: name === 'none' ? 'null' : name,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: name === 'bridge' ? [{ Subnet: '127.0.0.0/8', Gateway: '127.0.0.1' }] : [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: {},
    Options: {},
    Labels: {},
  };
}

function find(idOrName: string): string {
  const hit = NAMES.find((n) => n === idOrName || (idOrName.length >= 3 && networkId(n).startsWith(idOrName)));
  if (!hit) throw notFound(`network ${idOrName} not found`);
  return hit;
}

export function networkRoutes(r: Router<DaemonContext>): void {
  r.add('GET', '/networks', async (x) => {
    const f = parseFilters(x.query.get('filters'));
    const names = NAMES.filter((n) => (!f.name?.length || f.name.some((v) => n.includes(v))) && (!f.id?.length || f.id.some((v) => networkId(n).startsWith(v))));
    x.sendJson(200, names.map(networkJson));
  });
  r.add('GET', '/networks/:id', async (x) => x.sendJson(200, networkJson(find(x.params.id!))));
  r.add('POST', '/networks/create', async () => {
    throw unsupported('skiff has no user-defined networks: containers run on the host network (--network host) or with loopback only (the default)');
  });
  r.add('POST', '/networks/prune', async (x) => x.sendJson(200, { NetworksDeleted: [] }));
  r.add(['POST'], '/networks/:id/connect', async () => {
    throw unsupported('skiff cannot connect containers to networks');
  });
  r.add(['POST'], '/networks/:id/disconnect', async () => {
    throw unsupported('skiff cannot disconnect containers from networks');
  });
  r.add('DELETE', '/networks/:id', async (x) => {
    find(x.params.id!);
    throw unsupported(`${x.params.id} is a predefined network and cannot be removed`);
  });
}

