/**
 * Networks: the predefined `bridge`, `host` and `none`, and user-defined
 * bridge networks (`docker network create`; see runtime/networks.ts).
 * `bridge` is loopback-only in skiff; it is listed because clients look for
 * it: testcontainers, inside a container, takes `bridge`'s gateway as the
 * host where published ports are reached, and 127.0.0.1 is right for skiff.
 */
import { conflict, invalidArgument, unsupported } from '../../errors/index.js';
import { digestOf } from '../../image/digest.js';
import { utf8 } from '../../content/util.js';
import type { NetworkInfo } from '../../runtime/networks.js';
import type { ContainerRecord } from '../../runtime/records.js';
import type { Router } from '../router.js';
import type { DaemonContext } from '../context.js';
import { labelsMatch, parseFilters, untilOf } from '../filters.js';

const NAMES = ['bridge', 'host', 'none'] as const;

/** A stable 64-hex ID per predefined network name. */
export function networkId(name: string): string {
  return digestOf(utf8(`skiff network ${name}`)).slice(7);
}

function predefinedJson(name: string) {
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

function userJson(n: NetworkInfo, members: Array<{ record: ContainerRecord; ip: string }>) {
  return {
    Name: n.name,
    Id: n.id,
    Created: n.createdAt,
    Scope: 'local',
    Driver: 'bridge',
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: Object.fromEntries(members.map((m) => [m.record.id, { Name: m.record.name, EndpointID: '', MacAddress: '', IPv4Address: `${m.ip}/24`, IPv6Address: '' }])),
    Options: { 'com.docker.network.bridge.name': n.bridge },
    Labels: n.labels,
  };
}

function predefined(idOrName: string): string | undefined {
  return NAMES.find((n) => n === idOrName || (idOrName.length >= 3 && networkId(n).startsWith(idOrName)));
}

async function inspectJson(ctx: DaemonContext, idOrName: string) {
  const pre = predefined(idOrName);
  if (pre) return predefinedJson(pre);
  const { info, containers } = await ctx.engine.network(idOrName);
  return userJson(info, containers.map((c) => ({ record: c.record, ip: c.attachment.ip })));
}

export function networkRoutes(r: Router<DaemonContext>): void {
  r.add('GET', '/networks', async (x, ctx) => {
    const f = parseFilters(x.query.get('filters'), ['name', 'id', 'label', 'driver', 'type', 'scope', 'dangling']);
    for (const v of f.type ?? []) if (v !== 'builtin' && v !== 'custom') throw invalidArgument(`invalid filter: 'type'='${v}'`);
    const all = [...NAMES.map(predefinedJson), ...(await Promise.all((await ctx.engine.listNetworks()).map((n) => inspectJson(ctx, n.name))))];
    const any = (key: string, test: (v: string) => boolean) => !f[key]?.length || f[key]!.some(test);
    const builtin = (n: { Name: string }) => (NAMES as readonly string[]).includes(n.Name);
    x.sendJson(200, all.filter((n) =>
      any('name', (v) => n.Name.includes(v)) && any('id', (v) => n.Id.startsWith(v)) && labelsMatch(n.Labels, f) && any('driver', (v) => v === n.Driver) &&
      any('type', (v) => (v === 'builtin') === builtin(n)) && any('scope', (v) => v === 'local') &&
      // dangling: custom networks no container is on (the predefined ones never are).
      any('dangling', (v) => (v === 'true' || v === '1') === (!builtin(n) && Object.keys(n.Containers ?? {}).length === 0))));
  });
  r.add('GET', '/networks/:id', async (x, ctx) => x.sendJson(200, await inspectJson(ctx, x.params.id!)));
  r.add('POST', '/networks/create', async (x, ctx) => {
    const body = (await x.json<{ Name?: string; Driver?: string; Internal?: boolean; Labels?: Record<string, string>; IPAM?: { Config?: unknown[] } | null; EnableIPv6?: boolean; CheckDuplicate?: boolean }>()) ?? {};
    if (!body.Name) throw invalidArgument('a network needs a Name');
    if (body.Driver && body.Driver !== 'bridge') throw unsupported(`network driver "${body.Driver}" is not supported: skiff makes bridge networks`);
    if (body.IPAM?.Config?.length) throw unsupported('choosing a network\'s subnet (--subnet, --gateway, --ip-range) is not supported: skiff picks a free 10.89.N.0/24');
    if (body.EnableIPv6) throw unsupported('IPv6 networks are not supported');
    if (predefined(body.Name) === body.Name) throw conflict(`network with name ${body.Name} already exists`);
    const n = await ctx.engine.createNetwork(body.Name, { labels: body.Labels ?? {}, internal: body.Internal ?? false });
    ctx.events.emit('network', 'create', n.id, { name: n.name, type: 'bridge' });
    x.sendJson(201, { Id: n.id, Warning: '' });
  });
  r.add('POST', '/networks/prune', async (x, ctx) => {
    const f = parseFilters(x.query.get('filters'), ['label', 'label!', 'until']);
    const until = untilOf(f);
    const deleted: string[] = [];
    for (const n of await ctx.engine.listNetworks()) {
      const { containers } = await ctx.engine.network(n.name);
      if (containers.length || !labelsMatch(n.labels ?? {}, f) || Date.parse(n.createdAt) >= until) continue;
      await ctx.engine.removeNetwork(n.name);
      ctx.events.emit('network', 'destroy', n.id, { name: n.name, type: 'bridge' });
      deleted.push(n.name);
    }
    x.sendJson(200, { NetworksDeleted: deleted });
  });
  r.add(['POST'], '/networks/:id/connect', async (x, ctx) => {
    if (predefined(x.params.id!)) throw unsupported(`containers cannot be connected to the predefined network ${x.params.id}`);
    const { info } = await ctx.engine.network(x.params.id!);
    const body = (await x.json<{ Container?: string; EndpointConfig?: { Aliases?: string[] | null } | null }>()) ?? {};
    if (!body.Container) throw invalidArgument('connect needs a Container');
    const { id } = await ctx.engine.record(body.Container);
    await ctx.engine.connectNetwork(id, info.name, body.EndpointConfig?.Aliases ?? []);
    ctx.events.emit('network', 'connect', info.id, { container: id, name: info.name, type: 'bridge' });
    x.send(200, '');
  });
  r.add(['POST'], '/networks/:id/disconnect', async (x, ctx) => {
    if (predefined(x.params.id!)) throw unsupported(`containers cannot be disconnected from the predefined network ${x.params.id}`);
    const { info } = await ctx.engine.network(x.params.id!);
    const body = (await x.json<{ Container?: string; Force?: boolean }>()) ?? {};
    if (!body.Container) throw invalidArgument('disconnect needs a Container');
    const { id } = await ctx.engine.record(body.Container);
    await ctx.engine.disconnectNetwork(id, info.name);
    ctx.events.emit('network', 'disconnect', info.id, { container: id, name: info.name, type: 'bridge' });
    x.send(200, '');
  });
  r.add('DELETE', '/networks/:id', async (x, ctx) => {
    if (predefined(x.params.id!)) throw unsupported(`${x.params.id} is a pre-defined network and cannot be removed`);
    const { info } = await ctx.engine.network(x.params.id!);
    await ctx.engine.removeNetwork(info.name);
    ctx.events.emit('network', 'destroy', info.id, { name: info.name, type: 'bridge' });
    x.send(204, '');
  });
}
