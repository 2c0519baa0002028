/**
 * Images: list, inspect, history, pull (`POST /images/create`), push, tag,
 * remove, prune, save (`GET /images/get`) and load (`POST /images/load`).
 */
import { invalidArgument, isSkiffError, notFound, unsupported } from '../../errors/index.js';
import { familiarName, formatReference, parseReference, type Reference } from '../../image/reference.js';
import { parsePlatform } from '../../image/platform.js';
import { isIndexMediaType } from '../../image/media-types.js';
import { PARENT_ANNOTATION, type Descriptor, type ImageIndex, type Platform } from '../../image/types.js';
import { isDanglingName, type ResolvedImage } from '../../image/store.js';
import { pullImage } from '../../registry/pull.js';
import { pushImage } from '../../registry/push.js';
import { parseXRegistryAuth } from '../../registry/x-registry-auth.js';
import { toDockerProgress } from '../../registry/progress.js';
import type { RegistryOptions } from '../../registry/types.js';
import { exportArchive } from '../../transfer/export.js';
import { importArchive, loadedMessages } from '../../transfer/import.js';
import type { Router } from '../router.js';
import type { DaemonContext } from '../context.js';
import type { Exchange } from '../exchange.js';
import { JsonLines } from '../progress-stream.js';
import { createdWindow, labelsMatch, parseFilters, untilOf, type Filters } from '../filters.js';
import { ZERO_TIME } from '../container-json.js';
import { importReference } from '../../runtime/import-rootfs.js';

const unix = (iso: string | undefined) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

function repoOf(ref: Reference): string {
  return familiarName({ domain: ref.domain, path: ref.path } as Reference);
}

/** A name as the CLI prints it, or undefined for digest-only names. */
function tagOf(name: string): string | undefined {
  const ref = parseReference(name);
  return ref.tag ? familiarName({ domain: ref.domain, path: ref.path, tag: ref.tag }) : undefined;
}

function digestsOf(names: string[], target: string): string[] {
  return [...new Set(names.filter((n) => !isDanglingName(n)).map((n) => `${repoOf(parseReference(n))}@${target}`))];
}

/** Looks an image up; a name that cannot be an image name is simply not found (docker inspect tries names of every kind). */
async function lookup(ctx: DaemonContext, name: string): Promise<{ name?: string; target: Descriptor }> {
  try {
    return await ctx.engine.images.lookup(name);
  } catch (err) {
    if (isSkiffError(err, 'INVALID_ARGUMENT')) throw notFound(`No such image: ${name}`, err);
    throw err;
  }
}

/** The platform's image for a name: one this engine runs, else the first the store has. */
async function resolveAny(ctx: DaemonContext, target: Descriptor, shown: string): Promise<ResolvedImage> {
  const images = ctx.engine.images;
  try {
    return await images.resolveDescriptor(target, ctx.engine.platforms, undefined, shown);
  } catch (err) {
    if (!isSkiffError(err, 'NOT_FOUND')) throw err;
  }
  if (isIndexMediaType(target.mediaType)) {
    const index = await images.readJson<ImageIndex>(target);
    for (const m of index.manifests) {
      if (!m.platform || m.platform.os === 'unknown' || !(await ctx.engine.layout.info(m.digest))) continue;
      return images.resolveDescriptor(target, [m.platform], undefined, shown);
    }
  }
  return images.resolveDescriptor(target, [], undefined, shown);
}

async function namesOf(ctx: DaemonContext, target: Descriptor): Promise<string[]> {
  return (await ctx.engine.layout.listRefs()).filter((r) => r.target.digest === target.digest).map((r) => r.name);
}

/**
 * The image a local one was committed from (docker inspect's Parent), while
 * it is still in the store: the annotation any of the image's names carries
 * (Engine.commit sets it; docker tag keeps it); '' otherwise. `refs`: the
 * store's names, when the caller has read them already (one read for a list).
 */
async function parentOf(ctx: DaemonContext, target: Descriptor, refs?: Array<{ name: string; target: Descriptor }>): Promise<string> {
  refs ??= await ctx.engine.layout.listRefs();
  const parent = refs.find((r) => r.target.digest === target.digest && r.target.annotations?.[PARENT_ANNOTATION])?.target.annotations?.[PARENT_ANNOTATION];
  return parent && (await ctx.engine.layout.info(parent)) ? parent : '';
}

async function imageInspect(ctx: DaemonContext, name: string) {
  const found = await lookup(ctx, name);
  const img = await resolveAny(ctx, found.target, name);
  const names = await namesOf(ctx, found.target);
  const c = img.config.config ?? {};
  const size = img.manifest.layers.reduce((n, l) => n + l.size, 0) + img.manifest.config.size;
  return {
    Id: img.id,
    RepoTags: names.map(tagOf).filter((t): t is string => !!t),
    RepoDigests: digestsOf(names, found.target.digest),
    Parent: await parentOf(ctx, found.target),
    // As dockerd's containerd store: the comment of the last history entry (docker commit -m).
    Comment: img.config.history?.at(-1)?.comment ?? '',
    Created: img.config.created ?? ZERO_TIME,
    DockerVersion: '',
    Author: img.config.author ?? '',
    Config: {
      Hostname: '', Domainname: '', User: c.User ?? '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
      ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
      Tty: false, OpenStdin: false, StdinOnce: false,
      Env: c.Env ?? null, Cmd: c.Cmd ?? null, Image: '', Volumes: c.Volumes ?? null, WorkingDir: c.WorkingDir ?? '',
      Entrypoint: c.Entrypoint ?? null, OnBuild: c.OnBuild ?? null, Labels: c.Labels ?? null,
      ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
      ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
      ...(c.Shell ? { Shell: c.Shell } : {}),
    },
    Architecture: img.platform.architecture,
    ...(img.platform.variant ? { Variant: img.platform.variant } : {}),
    Os: img.platform.os,
    Size: size,
    GraphDriver: { Name: 'skiff', Data: null },
    RootFS: { Type: 'layers', Layers: img.config.rootfs.diff_ids },
    Metadata: { LastTagTime: ZERO_TIME },
    Descriptor: found.target,
  };
}

/** Whether one of the Engine's image sources (bundled samples) has the image; it is then in the store. */
async function providedLocally(ctx: DaemonContext, reference: string, platforms: Platform[] | undefined): Promise<boolean> {
  try {
    await ctx.engine.ensureImage(reference, platforms ?? ctx.engine.platforms);
    return true;
  } catch {
    return false;
  }
}

/** Registry options with the client's credentials (X-Registry-Auth) when it sent some. */
function registryFor(x: Exchange, ctx: DaemonContext): RegistryOptions {
  const creds = parseXRegistryAuth(x.header('x-registry-auth'));
  return creds ? { ...ctx.registry, credentials: creds } : ctx.registry;
}

function platformsFor(ctx: DaemonContext, raw: string | undefined): Platform[] | undefined {
  if (raw) return [raw.trim().startsWith('{') ? (JSON.parse(raw) as Platform) : parsePlatform(raw)];
  return ctx.engine.platforms.length ? ctx.engine.platforms : undefined;
}

async function inUse(ctx: DaemonContext, target: Descriptor): Promise<boolean> {
  const reach = await ctx.engine.images.reachable(target);
  return (await ctx.engine.list({ all: true })).some((c) => reach.has(c.manifestDigest) || c.manifestDigest === target.digest);
}

/**
 * docker import (POST /images/create?fromSrc=-): the body is a root file
 * system tarball; the answer is one status line with the new image's ID, as
 * dockerd's. Errors before the tar is stored are the HTTP answer.
 */
async function importFromSource(x: Exchange, ctx: DaemonContext, fromSrc: string): Promise<void> {
  if (fromSrc !== '-') {
    throw unsupported(`importing from a URL (${fromSrc}) is not supported: skiff daemon does not download (its containers have no network beyond this machine); download the tarball yourself and import the file, e.g. \`docker import FILE NAME\``);
  }
  const platform = x.str('platform');
  const made = await ctx.engine.importImage(x.bodyStream(), {
    ...(importReferenceOf(x.str('repo'), x.str('tag')) ?? {}),
    changes: x.query.getAll('changes'),
    ...(x.str('message') ? { message: x.str('message')! } : {}),
    ...(platform ? { platform: parsePlatform(platform) } : {}),
  });
  // As dockerd's LogImageEvent for an import: the ID as both the actor and its name.
  ctx.events.emit('image', 'import', made.id, { name: made.id });
  const lines = new JsonLines(x);
  await lines.send({ status: made.id });
  await lines.end();
}

function importReferenceOf(repo: string | undefined, tag: string | undefined): { reference: string } | undefined {
  const name = importReference(repo, tag);
  return name ? { reference: name } : undefined;
}

/** The dangling filter: true, false, or absent (undefined); another value is refused as dockerd does. */
function danglingFilter(f: Filters): boolean | undefined {
  const vs = f.dangling ?? [];
  for (const v of vs) if (!['true', 'false', '1', '0'].includes(v)) throw invalidArgument(`Invalid filter 'dangling=[${v}]'`);
  return vs.length ? vs.some((v) => v === 'true' || v === '1') : undefined;
}

/** An image's created time (ms), for before/since: the image named. */
async function createdOf(ctx: DaemonContext, ref: string): Promise<number> {
  const found = await lookup(ctx, ref);
  return Date.parse((await resolveAny(ctx, found.target, ref)).config.created ?? ZERO_TIME);
}

export function imageRoutes(r: Router<DaemonContext>): void {
  r.add('GET', '/images/json', async (x, ctx) => {
    const f = parseFilters(x.query.get('filters'), ['dangling', 'reference', 'label', 'label!', 'before', 'since', 'until']);
    const dangling = danglingFilter(f);
    const inWindow = await createdWindow(f, (ref) => createdOf(ctx, ref), untilOf(f));
    const out = [];
    const refs = await ctx.engine.layout.listRefs();
    const parents = await ctx.engine.images.parentIds(refs);
    for (const s of await ctx.engine.images.list()) {
      // An unnamed image kept for the images committed from it is not dangling: listed with -a only, as dockerd's intermediates.
      const unnamed = s.names.every(isDanglingName);
      if (unnamed && parents.has(s.id) && (dangling !== undefined || !x.bool('all'))) continue;
      if (dangling !== undefined && dangling !== unnamed) continue;
      if (!inWindow(Date.parse(s.created ?? ZERO_TIME))) continue;
      const tags = s.names.map(tagOf).filter((t): t is string => !!t);
      if (f.reference?.length && !f.reference.some((pat) => tags.some((t) => globMatch(pat, t) || globMatch(pat, t.slice(0, t.lastIndexOf(':')))))) continue;
      let labels: Record<string, string> | null = null;
      if (s.id !== s.target.digest) labels = (await ctx.imageConfig(s.id))?.config?.Labels ?? null;
      if (!labelsMatch(labels ?? {}, f)) continue;
      out.push({
        Id: s.id,
        ParentId: await parentOf(ctx, s.target, refs),
        RepoTags: tags,
        RepoDigests: digestsOf(s.names, s.target.digest),
        Created: unix(s.created),
        Size: s.size,
        SharedSize: -1,
        VirtualSize: s.size,
        Labels: labels,
        Containers: -1,
        Descriptor: s.target,
      });
    }
    out.sort((a, b) => b.Created - a.Created);
    x.sendJson(200, out);
  });

  r.add('POST', '/images/create', async (x, ctx) => {
    const fromImage = x.str('fromImage');
    // As dockerd: fromImage makes it a pull, whatever else is given; fromSrc an import.
    const fromSrc = x.str('fromSrc');
    if (!fromImage && fromSrc) return importFromSource(x, ctx, fromSrc);
    if (!fromImage) throw invalidArgument('fromImage is required');
    const tag = x.str('tag');
    const reference = tag ? (tag.includes(':') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`) : fromImage;
    let ref: Reference;
    try {
      ref = parseReference(reference);
    } catch (err) {
      throw invalidArgument(`invalid reference format: ${reference}`, err);
    }
    const name = formatReference(ref);
    const before = await ctx.engine.layout.getRef(name);
    const lines = new JsonLines(x);
    lines.hold({ status: `Pulling from ${ref.path.startsWith('library/') && ref.domain === 'docker.io' ? ref.path : repoOf(ref)}`, id: ref.tag ?? ref.digest });
    const platforms = platformsFor(ctx, x.str('platform'));
    if (!before && (await providedLocally(ctx, reference, platforms))) {
      // A bundled image (the WASI samples): no registry involved.
      const shown = familiarName(ref);
      await lines.send({ status: `Digest: ${(await ctx.engine.layout.getRef(name))?.digest ?? ''}` });
      await lines.send({ status: `Status: Downloaded newer image for ${shown}` });
      ctx.events.emit('image', 'pull', shown, { name: shown });
      return lines.end();
    }
    try {
      const result = await pullImage({
        ...registryFor(x, ctx),
        layout: ctx.engine.layout,
        reference,
        ...(platforms ? { platforms } : {}),
        onProgress: (e) => void lines.send(toDockerProgress(e, 'pull')),
      });
      await lines.send({ status: `Digest: ${result.target.digest}` });
      const shown = familiarName(parseReference(result.name));
      const same = before?.digest === result.target.digest;
      await lines.send({ status: same ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}` });
      ctx.events.emit('image', 'pull', shown, { name: shown });
      await lines.end();
    } catch (err) {
      // The docker CLI takes a 401 here as "ask for a login and pull again",
      // which without a terminal waits forever; dockerd answers a refused
      // pull with 500 and the registry's reason.
      if (!lines.started && isSkiffError(err, 'UNAUTHENTICATED')) return x.sendJson(500, { message: err.message });
      await lines.fail(err);
    }
  });

  r.add('GET', '/images/get', async (x, ctx) => {
    await saveImages(x, ctx, x.query.getAll('names').flatMap((n) => n.split(',')).filter(Boolean));
  });

  r.add('POST', '/images/load', async (x, ctx) => {
    const lines = new JsonLines(x);
    try {
      const result = await importArchive(x.bodyStream(), ctx.engine.layout);
      if (result.images.length === 0) throw invalidArgument(`the archive holds no image that has a name${result.skipped.length ? ` (skipped: ${result.skipped.map((s) => s.reason).join('; ')})` : ''}`);
      for (const line of loadedMessages(result)) await lines.send({ stream: `${line}\n` });
      for (const img of result.images) for (const n of img.names) ctx.events.emit('image', 'load', familiarName(parseReference(n)), { name: familiarName(parseReference(n)) });
      await lines.end();
    } catch (err) {
      await lines.fail(err);
    }
  });

  r.add('GET', '/images/search', async () => {
    throw unsupported('searching registries is not supported by skiff');
  });

  r.add('POST', '/images/prune', async (x, ctx) => {
    const f = parseFilters(x.query.get('filters'), ['dangling', 'label', 'label!', 'until']);
    const all = danglingFilter(f) === false;
    const until = untilOf(f);
    const deleted: Array<{ Untagged?: string; Deleted?: string }> = [];
    // Without -a only dangling images (docker commit without a name) go; label filters as dockerd's.
    // Images others were committed from stay (dockerd prunes only images without children; removing
    // a child takes its unnamed parent along).
    const parents = await ctx.engine.images.parentIds();
    for (const s of await ctx.engine.images.list()) {
      if (parents.has(s.id)) continue;
      if (!all && !s.names.every(isDanglingName)) continue;
      if (s.created && Date.parse(s.created) >= until) continue;
      if (f.label?.length || f['label!']?.length) {
        if (!labelsMatch((await ctx.imageConfig(s.id))?.config?.Labels ?? {}, f)) continue;
      }
      if (await inUse(ctx, s.target)) continue;
      let gone = false;
      for (const n of s.names) {
        const res = await ctx.engine.images.remove(n).catch(() => undefined);
        if (!res) continue;
        deleted.push(...res.untagged.filter((u) => !isDanglingName(u)).map((u) => ({ Untagged: familiarName(parseReference(u)) })));
        gone ||= res.deleted.length > 0;
      }
      // One entry per image, by its ID, as dockerd answers.
      if (gone) deleted.push({ Deleted: s.id });
    }
    x.sendJson(200, { ImagesDeleted: deleted, SpaceReclaimed: 0 });
  });

  r.add('GET', '/images/:name+/json', async (x, ctx) => x.sendJson(200, await imageInspect(ctx, x.params.name!)));

  r.add('GET', '/images/:name+/history', async (x, ctx) => {
    const found = await lookup(ctx, x.params.name!);
    const img = await resolveAny(ctx, found.target, x.params.name!);
    const names = (await namesOf(ctx, found.target)).map(tagOf).filter((t): t is string => !!t);
    const history = img.config.history?.length ? img.config.history : img.manifest.layers.map(() => ({}) as { created?: string; created_by?: string; comment?: string; empty_layer?: boolean });
    let layer = 0;
    const rows = history.map((h) => {
      const size = h.empty_layer ? 0 : (img.manifest.layers[layer++]?.size ?? 0);
      return { Id: '<missing>', Created: unix(h.created), CreatedBy: h.created_by ?? '', Tags: null as string[] | null, Size: size, Comment: h.comment ?? '' };
    }).reverse();
    if (rows[0]) {
      rows[0].Id = img.id;
      rows[0].Tags = names;
    }
    // As dockerd: the rows an image's parents made carry their IDs and names, up the chain of local parents.
    for (let id = await parentOf(ctx, found.target); id; ) {
      const p = await lookup(ctx, id);
      const row = rows[rows.length - ((await resolveAny(ctx, p.target, id)).config.history?.length ?? 0)];
      if (!row || row.Id !== '<missing>') break;
      row.Id = id;
      row.Tags = (await namesOf(ctx, p.target)).map(tagOf).filter((t): t is string => !!t);
      id = await parentOf(ctx, p.target);
    }
    x.sendJson(200, rows);
  });

  r.add('GET', '/images/:name+/get', async (x, ctx) => saveImages(x, ctx, [x.params.name!]));

  r.add('POST', '/images/:name+/tag', async (x, ctx) => {
    const repo = x.str('repo');
    if (!repo) throw invalidArgument('repo is required');
    const tag = x.str('tag') ?? 'latest';
    await lookup(ctx, x.params.name!);
    const target = await ctx.engine.images.tag(x.params.name!, `${repo}:${tag}`);
    ctx.events.emit('image', 'tag', familiarName(parseReference(target)), { name: familiarName(parseReference(target)) });
    x.noContent(201);
  });

  r.add('POST', '/images/:name+/push', async (x, ctx) => {
    const name = x.params.name!;
    const tag = x.str('tag');
    let ref: Reference;
    try {
      ref = parseReference(tag ? `${name}:${tag}` : name);
    } catch (err) {
      throw invalidArgument(`invalid reference format: ${name}`, err);
    }
    // No tag: every tag of the repository, as docker does.
    const repo = `${ref.domain}/${ref.path}`;
    const refs = tag || /:[^/]+$/.test(name)
      ? [formatReference(ref)]
      : (await ctx.engine.layout.listRefs()).map((r) => r.name).filter((n) => n.startsWith(`${repo}:`));
    for (const n of refs) if (!(await ctx.engine.layout.getRef(n))) throw notFound(`An image does not exist locally with the tag: ${familiarName(parseReference(n))}`);
    if (refs.length === 0) throw notFound(`An image does not exist locally with the tag: ${repoOf(ref)}`);
    const lines = new JsonLines(x, false);
    try {
      await lines.send({ status: `The push refers to repository [${repo}]` });
      for (const n of refs) {
        const result = await pushImage({ ...registryFor(x, ctx), layout: ctx.engine.layout, reference: n, onProgress: (e) => void lines.send(toDockerProgress(e, 'push')) });
        const t = parseReference(n).tag ?? 'latest';
        await lines.send({ status: `${t}: digest: ${result.target.digest} size: ${result.target.size}` });
        await lines.send({ progressDetail: {}, aux: { Tag: t, Digest: result.target.digest, Size: result.target.size } });
        ctx.events.emit('image', 'push', familiarName(parseReference(n)), { name: familiarName(parseReference(n)) });
      }
      await lines.end();
    } catch (err) {
      await lines.fail(err);
    }
  });

  r.add('DELETE', '/images/:name+', async (x, ctx) => {
    const name = x.params.name!;
    await lookup(ctx, name); // a name that cannot be an image is a 404 here, as in dockerd
    const res = await ctx.engine.images.remove(name, { force: x.bool('force'), inUse: (t) => inUse(ctx, t) });
    for (const u of res.untagged.filter((n) => !isDanglingName(n))) ctx.events.emit('image', 'untag', familiarName(parseReference(u)), { name: familiarName(parseReference(u)) });
    for (const d of res.deleted) ctx.events.emit('image', 'delete', d, { name: d });
    const untagged = res.untagged.filter((u) => !isDanglingName(u));
    x.sendJson(200, [...untagged.map((u) => ({ Untagged: familiarName(parseReference(u)) })), ...res.deleted.map((d) => ({ Deleted: d }))]);
  });
}

async function saveImages(x: Exchange, ctx: DaemonContext, requested: string[]): Promise<void> {
  if (requested.length === 0) throw invalidArgument('no image names given (names=...)');
  const names: string[] = [];
  for (const n of requested) {
    const found = await lookup(ctx, n);
    names.push(found.name ?? n);
  }
  const raw = x.str('platform');
  const platforms = raw ? [raw.trim().startsWith('{') ? (JSON.parse(raw) as Platform) : parsePlatform(raw)] : undefined;
  const stream = await exportArchive(ctx.engine.layout, names, { format: 'docker', ...(platforms ? { platforms } : {}) });
  await x.pipe(200, { 'Content-Type': 'application/x-tar' }, stream);
}

/** docker's reference filter: `*` matches within a path segment. */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return re.test(value);
}
