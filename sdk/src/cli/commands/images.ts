/** Image verbs: images, tag, rmi, image inspect. */
import { parseArgs, helpText, requireArgs, UsageError, type FlagSpec, HELP_FLAG } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { humanSize, json, shortId, since, table } from '../format.js';
import { familiarName, parseReference } from '../../image/reference.js';
import { formatPlatform } from '../../image/platform.js';
import { isDanglingName } from '../../image/store.js';


export const images: Command = {
  name: 'images',
  usage: 'skiff images [OPTIONS] [REPOSITORY[:TAG]]',
  description: 'List images',
  async run(argv, ctx) {
    const specs: FlagSpec[] = [
      { name: 'all', short: 'a', type: 'bool', help: 'Show all images (also unnamed ones kept for images committed from them)' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
      { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
      { name: 'digests', type: 'bool', help: 'Show digests' },
      { name: 'format', type: 'string', help: "Output format: 'table' or 'json'", value: 'string' },
    ];
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, specs)), 0;
    const engine = await ctx.engine();
    const filter = args[0];
    const rows: Array<{ repo: string; tag: string; id: string; digest: string; created?: string; size: number; platforms: string; name: string }> = [];
    const parents = await engine.images.parentIds();
    for (const img of await engine.images.list()) {
      if (!flags.all && parents.has(img.id) && img.names.every(isDanglingName)) continue;
      for (const name of img.names) {
        const ref = parseReference(name);
        const dangling = isDanglingName(name);
        const fam = dangling ? '<none>' : familiarName({ ...ref, tag: undefined as never, digest: undefined as never } as typeof ref);
        if (filter && !matches(filter, fam, ref.tag)) continue;
        const row = { repo: fam, tag: ref.tag ?? '<none>', id: img.id, digest: img.target.digest, size: img.size, platforms: img.platforms.map(formatPlatform).join(','), name };
        rows.push(img.created ? { ...row, created: img.created } : row);
      }
    }
    rows.sort((a, b) => a.repo.localeCompare(b.repo) || a.tag.localeCompare(b.tag));
    if (flags.quiet) return ctx.out([...new Set(rows.map((r) => (flags['no-trunc'] ? r.id : shortId(r.id))))].map((s) => s + '\n').join('')), 0;
    if (flags.format === 'json') {
      ctx.out(rows.map((r) => JSON.stringify({ Repository: r.repo, Tag: r.tag, ID: r.id, Digest: r.digest, CreatedAt: r.created ?? '', Size: humanSize(r.size), Platforms: r.platforms }) + '\n').join(''));
      return 0;
    }
    const headers = ['REPOSITORY', 'TAG', ...(flags.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE', 'PLATFORM'];
    ctx.out(table(rows.map((r) => [r.repo, r.tag, ...(flags.digests ? [r.digest] : []), flags['no-trunc'] ? r.id : shortId(r.id), since(r.created), humanSize(r.size), r.platforms]), headers));
    return 0;
  },
};

function matches(filter: string, repo: string, tag: string | undefined): boolean {
  const [fr, ft] = filter.includes(':') ? filter.split(':') : [filter, undefined];
  return (repo === fr || repo === `library/${fr}`) && (ft === undefined || ft === tag);
}

export const tag: Command = {
  name: 'tag',
  usage: 'skiff tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  async run(argv, ctx) {
    const { flags, args } = parseArgs(argv, [HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, [])), 0;
    requireArgs(args, 2, 'tag', 2);
    await (await ctx.engine()).images.tag(args[0]!, args[1]!);
    return 0;
  },
};

export const rmi: Command = {
  name: 'rmi',
  usage: 'skiff rmi [OPTIONS] IMAGE [IMAGE...]',
  description: 'Remove one or more images',
  async run(argv, ctx) {
    const specs: FlagSpec[] = [{ name: 'force', short: 'f', type: 'bool', help: 'Force removal of the image' }];
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, specs)), 0;
    requireArgs(args, 1, 'rmi');
    const engine = await ctx.engine();
    const containers = await engine.list({ all: true });
    let rc = 0;
    for (const a of args) {
      try {
        const r = await engine.images.remove(a, { force: !!flags.force, inUse: (t) => containers.some((c) => c.manifestDigest === t.digest || c.imageId === t.digest || c.image === a) });
        for (const n of r.untagged) ctx.out(`Untagged: ${familiarName(parseReference(n))}\n`);
        for (const d of r.deleted) ctx.out(`Deleted: ${d}\n`);
      } catch (err) {
        ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
        rc = 1;
      }
    }
    return rc;
  },
};

export const imageInspect: Command = {
  name: 'image-inspect',
  usage: 'skiff image inspect IMAGE [IMAGE...]',
  description: 'Display detailed information on one or more images',
  async run(argv, ctx) {
    const specs: FlagSpec[] = [{ name: 'platform', type: 'string', help: 'Inspect a specific platform of a multi-platform image', value: 'string' }];
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, specs)), 0;
    requireArgs(args, 1, 'image inspect');
    const engine = await ctx.engine();
    const out = [];
    for (const a of args) out.push(await inspectImage(ctx, a, typeof flags.platform === 'string' ? flags.platform : undefined));
    ctx.out(json(out));
    return 0;
  },
};

export async function inspectImage(ctx: CliContext, name: string, platform?: string) {
  const engine = await ctx.engine();
  const { parsePlatform } = await import('../../image/platform.js');
  const platforms = platform ? [parsePlatform(platform)] : engine.platforms.length ? engine.platforms : [{ os: 'linux', architecture: 'amd64' }];
  const all = await engine.images.platformsOf(name);
  const img = await engine.images.resolve(name, [...platforms, ...all]);
  const names = (await engine.images.list()).filter((s) => s.target.digest === img.target.digest).flatMap((s) => s.names).filter((n) => !isDanglingName(n));
  const c = img.config;
  return {
    Id: img.id,
    RepoTags: names.map((n) => familiarName(parseReference(n))),
    RepoDigests: names.map((n) => `${familiarName({ ...parseReference(n), tag: undefined as never })}@${img.target.digest}`),
    Created: c.created ?? '',
    Author: c.author ?? '',
    Architecture: c.architecture,
    Os: c.os,
    Config: c.config ?? {},
    RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
    Size: img.manifest.layers.reduce((n, l) => n + l.size, 0),
    Descriptor: img.manifestDescriptor,
    Platforms: all.map(formatPlatform),
    History: c.history ?? [],
  };
}

export { UsageError };
