/** Volumes: create, list, inspect, remove, prune (the `local` driver only). */
import { conflict, isSkiffError, notFound, unsupported } from '../../errors/index.js';
import type { VolumeInfo } from '../../volumes/types.js';
import type { Router } from '../router.js';
import type { DaemonContext } from '../context.js';
import { labelMatches, labelsMatch, parseFilters } from '../filters.js';

/** docker marks anonymous volumes with this label (and prunes only them by default). */
const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export function volumeJson(v: VolumeInfo) {
  return {
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    CreatedAt: v.createdAt,
    Labels: v.anonymous ? { ...v.labels, [ANONYMOUS_LABEL]: '' } : v.labels,
    Scope: 'local',
    Options: {},
  };
}

/** A volume lookup where a malformed name is simply not found (docker inspect tries names of every kind). */
async function inspectVolume(ctx: DaemonContext, name: string): Promise<VolumeInfo> {
  try {
    return await ctx.engine.volumes.inspect(name);
  } catch (err) {
    // dockerd's wording, for any name that is not a volume.
    if (isSkiffError(err, 'INVALID_ARGUMENT') || isSkiffError(err, 'NOT_FOUND')) throw notFound(`get ${name}: no such volume`, err);
    throw err;
  }
}

async function usersOf(ctx: DaemonContext, name: string): Promise<string[]> {
  const all = await ctx.engine.list({ all: true });
  return all.filter((c) => c.mounts.some((m) => m.type === 'volume' && m.source === name)).map((c) => c.id);
}

export function volumeRoutes(r: Router<DaemonContext>): void {
  r.add('GET', '/volumes', async (x, ctx) => {
    const f = parseFilters(x.query.get('filters'), ['name', 'label', 'driver', 'dangling']);
    const all = await ctx.engine.volumes.list();
    const used = new Set((await ctx.engine.list({ all: true })).flatMap((c) => c.mounts.filter((m) => m.type === 'volume').map((m) => m.source)));
    const out = all.filter((v) =>
      (!f.name?.length || f.name.some((n) => v.name.includes(n))) &&
      (!f.label?.length || f.label.every((l) => labelMatches(volumeJson(v).Labels, l))) &&
      (!f.driver?.length || f.driver.includes(v.driver)) &&
      (!f.dangling?.length || f.dangling.some((d) => (d === 'true' || d === '1') === !used.has(v.name))),
    );
    x.sendJson(200, { Volumes: out.map(volumeJson), Warnings: [] });
  });

  r.add('POST', '/volumes/create', async (x, ctx) => {
    const body = (await x.json<{ Name?: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Record<string, string> }>()) ?? {};
    if (body.Driver && body.Driver !== 'local') throw unsupported(`volume driver "${body.Driver}" is not available: skiff has only the local driver`);
    if (body.DriverOpts && Object.keys(body.DriverOpts).length) throw unsupported('volume driver options (-o) are not supported by skiff\'s local driver');
    const name = body.Name || undefined;
    const v = await ctx.engine.volumes.create(name, { labels: body.Labels ?? {}, anonymous: name === undefined });
    ctx.events.emit('volume', 'create', v.name, { driver: 'local' });
    x.sendJson(201, volumeJson(v));
  });

  r.add('POST', '/volumes/prune', async (x, ctx) => {
    const f = parseFilters(x.query.get('filters'), ['label', 'label!', 'all']);
    const all = f.all?.some((v) => v === 'true' || v === '1') ?? false;
    const used = new Set((await ctx.engine.list({ all: true })).flatMap((c) => c.mounts.filter((m) => m.type === 'volume').map((m) => m.source)));
    const deleted: string[] = [];
    for (const v of await ctx.engine.volumes.list()) {
      if (used.has(v.name) || (!all && !v.anonymous)) continue;
      if (!labelsMatch(v.labels, f)) continue;
      await ctx.engine.volumes.remove(v.name);
      ctx.events.emit('volume', 'destroy', v.name, { driver: 'local' });
      deleted.push(v.name);
    }
    x.sendJson(200, { VolumesDeleted: deleted, SpaceReclaimed: 0 });
  });

  r.add('GET', '/volumes/:name', async (x, ctx) => x.sendJson(200, volumeJson(await inspectVolume(ctx, x.params.name!))));

  r.add('DELETE', '/volumes/:name', async (x, ctx) => {
    const name = x.params.name!;
    await inspectVolume(ctx, name);
    const users = await usersOf(ctx, name);
    if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    await ctx.engine.volumes.remove(name);
    ctx.events.emit('volume', 'destroy', name, { driver: 'local' });
    x.noContent();
  });
}
