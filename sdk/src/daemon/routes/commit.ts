/**
 * docker commit: `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`
 * with an optional container Config as the body; answers 201 {"Id"} as
 * dockerd does. The Engine does the work (Engine.commit).
 */
import { invalidArgument } from '../../errors/index.js';
import { familiarName, parseReference } from '../../image/reference.js';
import type { ContainerDefaults } from '../../image/types.js';
import type { Router } from '../router.js';
import type { DaemonContext } from '../context.js';
import { inspectJson } from './containers.js';

/** The Config fields an image keeps, with the type each must have. */
const FIELDS: Record<keyof ContainerDefaults, 'string' | 'strings' | 'set' | 'map' | 'object' | 'boolean'> = {
  User: 'string', ExposedPorts: 'set', Env: 'strings', Entrypoint: 'strings', Cmd: 'strings', Volumes: 'set', WorkingDir: 'string',
  Labels: 'map', StopSignal: 'string', Healthcheck: 'object', Shell: 'strings', OnBuild: 'strings', ArgsEscaped: 'boolean',
};

/**
 * The body as the config to commit with: its image fields, checked; undefined
 * when it has none (the docker CLI sends no body, dockerode sends its
 * options, which dockerd ignores as unknown fields).
 */
export function commitBodyConfig(body: unknown): ContainerDefaults | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('the commit body must be a container Config object (or empty)');
  const out: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(FIELDS)) {
    const v = (body as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    const ok =
      kind === 'string' ? typeof v === 'string'
      : kind === 'boolean' ? typeof v === 'boolean'
      : kind === 'strings' ? Array.isArray(v) && v.every((s) => typeof s === 'string')
      : kind === 'map' ? isObject(v) && Object.values(v).every((s) => typeof s === 'string')
      : isObject(v);
    if (!ok) throw invalidArgument(`invalid commit config: ${key} must be ${{ string: 'a string', boolean: 'a boolean', strings: 'an array of strings', map: 'an object of strings', set: 'an object', object: 'an object' }[kind]}`);
    out[key] = v;
  }
  return Object.keys(out).length ? (out as ContainerDefaults) : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function commitRoutes(r: Router<DaemonContext>): void {
  r.add('POST', '/commit', async (x, ctx) => {
    const name = x.str('container');
    if (!name) throw invalidArgument('commit needs a container: POST /commit?container=ID_OR_NAME');
    const rec = await ctx.engine.record(name);
    const config = commitBodyConfig(await x.json<unknown>());
    const comment = x.str('comment');
    const exposed = Object.keys(ctx.extras.load(rec.id).exposedPorts);
    const made = await ctx.engine.commit(rec.id, {
      ...(x.str('repo') ? { repo: x.str('repo')! } : {}),
      ...(x.str('tag') ? { tag: x.str('tag')! } : {}),
      ...(comment ? { comment } : {}),
      ...(x.str('author') ? { author: x.str('author')! } : {}),
      // docker pauses by default since API 1.13.
      pause: x.bool('pause', true),
      changes: x.query.getAll('changes').filter((c) => c.trim() !== ''),
      ...(config ? { config } : {}),
      ...(exposed.length ? { exposedPorts: exposed } : {}),
      // dockerd keeps the container's config as the image's container_config, as inspect shows it.
      containerConfig: (await inspectJson(ctx, rec)).Config as Record<string, unknown>,
    });
    ctx.events.emit('container', 'commit', rec.id, { ...ctx.containerAttributes(rec), comment: comment ?? '', imageID: made.id, imageRef: made.name ? familiarName(parseReference(made.name)) : '' });
    x.sendJson(201, { Id: made.id });
  });
}
