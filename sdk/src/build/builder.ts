/**
 * The image builder: runs a parsed Dockerfile stage by stage. RUN steps run in
 * a container of the stage's platform (through the Engine, so on the backend
 * that runs that platform); their changes become layers. A step is reused from
 * the cache when its parent, its instruction and (COPY/ADD) the content of its
 * sources are unchanged, so an unchanged rebuild makes no layer and gives the
 * same image digest.
 */
import { cancelled, invalidArgument, notFound, SkiffError, unsupported } from '../errors/index.js';
import type { Engine } from '../runtime/engine.js';
import { digestOf, createSha256 } from '../image/digest.js';
import { MediaType } from '../image/media-types.js';
import { parsePlatform, formatPlatform } from '../image/platform.js';
import { normalizeName } from '../image/reference.js';
import type { Descriptor, ImageConfig, Platform, HealthConfig } from '../image/types.js';
import { utf8 } from '../content/util.js';
import { parseDockerfile, type Instruction } from './dockerfile/parser.js';
import { dockerfileError } from './dockerfile/errors.js';
import { expand, parseKeyValues, splitWords } from './dockerfile/expand.js';
import type { BuildContext } from './context.js';
import { isIgnored, parseDockerignore } from './ignore.js';
import { layerFromChanges, layerFromFiles, stageFiles, type FileSpec, type StageFiles } from './layer-io.js';
import type { BuildCache } from './cache.js';

export interface BuildOptions {
  context: BuildContext;
  /** Path of the Dockerfile in the context (default `Dockerfile`), or its text. */
  dockerfile?: string;
  dockerfileText?: string;
  tags?: string[];
  buildArgs?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  /** `os/arch` for stages without --platform. */
  platform?: string;
  labels?: Record<string, string>;
  /** Seconds since the epoch for every timestamp: reproducible output. */
  sourceDateEpoch?: number;
  onProgress?: (e: BuildEvent) => void;
  signal?: AbortSignal;
}

export type BuildEvent =
  | { type: 'step'; step: number; total: number; text: string }
  | { type: 'cached'; step: number }
  | { type: 'output'; stream: 'stdout' | 'stderr'; data: Uint8Array }
  | { type: 'result'; step: number; id: string }
  | { type: 'done'; id: string; names: string[] };

export interface BuildResult {
  /** Image ID (config digest). */
  id: string;
  manifest: Descriptor;
  names: string[];
  /** Steps reused from the cache, and all steps. */
  cached: number;
  steps: number;
}

interface Stage {
  name?: string;
  index: number;
  platform: Platform;
  config: ImageConfig;
  layers: Descriptor[];
  /** ARG values visible in this stage. */
  args: Record<string, string>;
  /** Identifies the state for the cache: the parent chain. */
  key: string;
  files?: StageFiles;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];

export class Builder {
  constructor(private readonly engine: Engine, private readonly cache: BuildCache) {}

  async build(o: BuildOptions): Promise<BuildResult> {
    const ctxEntries = await o.context.entries();
    const dfPath = o.dockerfile ?? 'Dockerfile';
    let text = o.dockerfileText;
    if (text === undefined) {
      if (!ctxEntries.some((e) => e.path === dfPath && e.type === 'file')) throw notFound(`the Dockerfile "${dfPath}" is not in the build context`);
      text = new TextDecoder().decode(await o.context.read(dfPath));
    }
    const df = parseDockerfile(text, dfPath);
    const ignoreEntry = ctxEntries.find((e) => e.path === '.dockerignore');
    const rules = ignoreEntry ? parseDockerignore(new TextDecoder().decode(await o.context.read('.dockerignore'))) : [];
    const files = ctxEntries.filter((e) => !isIgnored(e.path, rules));
    const emit = (e: BuildEvent) => o.onProgress?.(e);
    const epoch = o.sourceDateEpoch;
    const created = epoch !== undefined ? new Date(epoch * 1000).toISOString() : undefined;

    // Which stages does the target need? Build up to the target stage only.
    const stageStarts = df.instructions.flatMap((ins, i) => (ins.name === 'FROM' ? [i] : []));
    let lastIndex = df.instructions.length;
    if (o.target) {
      const t = stageStarts.findIndex((i) => splitWords(df.instructions[i]!.args)[2]?.toLowerCase() === o.target!.toLowerCase());
      if (t < 0) throw invalidArgument(`target stage "${o.target}" could not be found in ${dfPath}`);
      lastIndex = stageStarts[t + 1] ?? df.instructions.length;
    }
    const instructions = df.instructions.slice(0, lastIndex);
    const total = instructions.length;
    const buildArgs = { ...(o.buildArgs ?? {}) };
    const globalArgs: Record<string, string> = {};
    const stages: Stage[] = [];
    let stage: Stage | undefined;
    let cachedSteps = 0;
    const usedArgs = new Set<string>();

    for (let n = 0; n < instructions.length; n++) {
      if (o.signal?.aborted) throw cancelled('the build was cancelled');
      const ins = instructions[n]!;
      emit({ type: 'step', step: n + 1, total, text: `${ins.name} ${ins.args}`.trim() });
      const fail = (msg: string): never => { throw dockerfileError(df.file, ins.line, 1, `${ins.name}: ${msg}`); };
      if (!stage) {
        if (ins.name === 'ARG') {
          for (const [k, v] of argPairs(ins, df.escape, globalArgs)) {
            globalArgs[k] = buildArgs[k] ?? v ?? '';
            usedArgs.add(k);
          }
          continue;
        }
      }
      if (ins.name === 'FROM') {
        stage = await this.from(ins, stages, globalArgs, o, df.escape, fail);
        stages.push(stage);
        emit({ type: 'result', step: n + 1, id: stage.key.slice(7, 19) });
        continue;
      }
      const s = stage!;
      const vars = { ...envMap(s.config), ...s.args };
      const x = (w: string) => expand(w, vars, df.escape, (_c, m) => fail(m));
      const cfg = (s.config.config ??= {});
      const history = (createdBy: string, empty: boolean) => ((s.config.history ??= []).push({ ...(created ? { created } : { created: new Date().toISOString() }), created_by: createdBy, ...(empty ? { empty_layer: true } : {}) }));

      // Metadata-only instructions change the config; their key is the text after substitution.
      const metaStep = async (apply: () => void, createdBy: string) => {
        const key = stepKey(s.key, createdBy);
        const hit = !o.noCache && (await this.cache.get(key));
        if (hit && (await this.restore(s, hit))) {
          cachedSteps++;
          emit({ type: 'cached', step: n + 1 });
        } else {
          apply();
          history(createdBy, true);
          s.config.created = created ?? new Date().toISOString();
          await this.remember(key, s);
        }
        s.key = key;
        emit({ type: 'result', step: n + 1, id: s.key.slice(7, 19) });
      };

      switch (ins.name) {
        case 'ARG': {
          for (const [k, v] of argPairs(ins, df.escape, vars)) {
            s.args[k] = buildArgs[k] ?? v ?? globalArgs[k] ?? '';
            usedArgs.add(k);
          }
          s.key = stepKey(s.key, `ARG ${JSON.stringify(Object.entries(s.args).sort())}`);
          emit({ type: 'result', step: n + 1, id: s.key.slice(7, 19) });
          break;
        }
        case 'ENV': {
          const pairs = parseKeyValues(x(ins.args), df.escape) ?? fail('expected KEY=VALUE pairs, e.g. ENV NAME=value');
          await metaStep(() => {
            let env = cfg.Env ?? [];
            for (const [k, v] of pairs) env = [...env.filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`];
            cfg.Env = env;
          }, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
          break;
        }
        case 'LABEL': {
          const pairs = parseKeyValues(x(ins.args), df.escape) ?? fail('expected KEY=VALUE pairs');
          await metaStep(() => { cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(pairs) }; }, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
          break;
        }
        case 'MAINTAINER':
          await metaStep(() => { s.config.author = x(ins.args); }, `MAINTAINER ${x(ins.args)}`);
          break;
        case 'WORKDIR': {
          const dir = resolvePath(cfg.WorkingDir ?? '/', x(ins.args)).replace(/(.)\/$/, '$1');
          // A cached WORKDIR needs no look at the stage's files (that would unpack its layers).
          const key = stepKey(s.key, `WORKDIR ${dir}`);
          const hit = !o.noCache && (await this.cache.get(key));
          if (hit && (await this.restore(s, hit))) {
            cachedSteps++;
            emit({ type: 'cached', step: n + 1 });
            s.key = key;
            emit({ type: 'result', step: n + 1, id: s.key.slice(7, 19) });
            break;
          }
          // Like BuildKit: create the directory when the stage lacks it, as a layer of its own.
          const exists = dir === '/' || (await this.files(s)).get(dir.slice(1))?.type === 'directory';
          if (!exists) {
            await this.fileStep(s, `WORKDIR ${dir}`, [{ path: dir, type: 'directory', mode: 0o755 }], { ...o, noCache: true }, n + 1, emit, () => { (s.config.config ??= {}).WorkingDir = dir; }, created);
            await this.cache.put(key, { config: await this.engine.images.writeJson(MediaType.OciConfig, s.config), layers: [...s.layers] });
            s.key = key;
          } else await metaStep(() => { cfg.WorkingDir = dir; }, `WORKDIR ${dir}`);
          (s.config.config ??= {}).WorkingDir = dir;
          break;
        }
        case 'USER':
          await metaStep(() => { cfg.User = x(ins.args); }, `USER ${x(ins.args)}`);
          break;
        case 'EXPOSE': {
          const ports = splitWords(x(ins.args)).map((p) => (p.includes('/') ? p.toLowerCase() : `${p}/tcp`));
          for (const p of ports) if (!/^\d+(-\d+)?\/(tcp|udp|sctp)$/.test(p)) fail(`invalid port "${p}"`);
          await metaStep(() => { cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), ...Object.fromEntries(ports.map((p) => [p, {}])) }; }, `EXPOSE ${ports.join(' ')}`);
          break;
        }
        case 'VOLUME': {
          const paths = ins.json ?? splitWords(x(ins.args));
          await metaStep(() => { cfg.Volumes = { ...(cfg.Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [x(p), {}])) }; }, `VOLUME ${JSON.stringify(paths)}`);
          break;
        }
        case 'STOPSIGNAL':
          await metaStep(() => { cfg.StopSignal = x(ins.args); }, `STOPSIGNAL ${x(ins.args)}`);
          break;
        case 'SHELL':
          await metaStep(() => { cfg.Shell = ins.json!; }, `SHELL ${JSON.stringify(ins.json)}`);
          break;
        case 'CMD':
        case 'ENTRYPOINT': {
          const value = ins.json ?? [...(cfg.Shell ?? DEFAULT_SHELL), ins.args];
          await metaStep(() => {
            if (ins.name === 'CMD') cfg.Cmd = value;
            else {
              cfg.Entrypoint = value;
              // Docker: ENTRYPOINT resets a CMD inherited from the base image.
              if (!instructions.slice(stageStartOf(instructions, n), n).some((i) => i.name === 'CMD')) cfg.Cmd = null;
            }
          }, `${ins.name} ${JSON.stringify(value)}`);
          break;
        }
        case 'HEALTHCHECK': {
          const hc = healthcheck(ins, fail);
          await metaStep(() => { cfg.Healthcheck = hc; }, `HEALTHCHECK ${JSON.stringify(hc)}`);
          break;
        }
        case 'ONBUILD':
          fail('ONBUILD is not supported by skiff builds; run those steps in the child Dockerfile instead');
          break;
        case 'RUN': {
          const argv = ins.json ?? [...(cfg.Shell ?? DEFAULT_SHELL), ins.heredocs.length ? heredocScript(ins) : ins.args];
          const runArgs = Object.entries(s.args).filter(([k]) => ins.args.includes(k)).sort();
          const createdBy = `RUN ${ins.json ? JSON.stringify(ins.json) : argv.join(' ')}`;
          const key = stepKey(s.key, `${createdBy}\0${JSON.stringify(runArgs)}`);
          const hit = !o.noCache && (await this.cache.get(key));
          if (hit && (await this.restore(s, hit))) {
            cachedSteps++;
            emit({ type: 'cached', step: n + 1 });
          } else {
            await this.run(s, argv, o, emit, fail);
            history(createdBy, false);
            s.config.created = created ?? new Date().toISOString();
            await this.remember(key, s);
          }
          s.key = key;
          emit({ type: 'result', step: n + 1, id: s.key.slice(7, 19) });
          break;
        }
        case 'COPY':
        case 'ADD': {
          const specs = await this.copySpecs(ins, s, stages, files, o, x, fail);
          const hit = await this.fileStep(s, `${ins.name} ${ins.original.slice(ins.name.length).trim()}`, specs, o, n + 1, emit, () => {}, created);
          if (hit) cachedSteps++;
          break;
        }
        default:
          fail('is not supported');
      }
    }
    const final = stage ?? fail0(dfPath);
    if (o.labels) (final.config.config ??= {}).Labels = { ...(final.config.config.Labels ?? {}), ...o.labels };
    if (created) final.config.created = created;
    else final.config.created ??= new Date().toISOString();
    const unused = Object.keys(buildArgs).filter((k) => !usedArgs.has(k));
    if (unused.length) emit({ type: 'output', stream: 'stderr', data: utf8(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`) });
    const tags = o.tags ?? [];
    const img = await this.engine.images.putImage(tags[0], stableConfig(final.config), final.layers);
    for (const t of tags.slice(1)) await this.engine.images.tag(img.manifestDescriptor.digest.length ? img.name ?? t : t, t).catch(async () => {
      await this.engine.images.putImage(t, stableConfig(final.config), final.layers);
    });
    const names = tags;
    emit({ type: 'done', id: img.id, names });
    return { id: img.id, manifest: img.manifestDescriptor, names, cached: cachedSteps, steps: total };
  }

  private async from(ins: Instruction, stages: Stage[], globalArgs: Record<string, string>, o: BuildOptions, escape: string, fail: (m: string) => never): Promise<Stage> {
    const words = splitWords(expand(ins.args, globalArgs, escape));
    const image = words[0]!;
    const name = words[2];
    const platformText = ins.flags.platform ? expand(ins.flags.platform, globalArgs, escape) : o.platform;
    const wanted = platformText ? parsePlatform(platformText) : undefined;
    const prior = stages.find((s) => s.name && s.name.toLowerCase() === image.toLowerCase());
    if (prior) {
      return { ...(name ? { name } : {}), index: stages.length, platform: prior.platform, config: structuredClone(prior.config), layers: [...prior.layers], args: {}, key: prior.key, ...(prior.files ? { files: prior.files } : {}) };
    }
    if (image === 'scratch') {
      const platform = wanted ?? this.engine.platforms[0] ?? fail('no backend is available to pick a platform for FROM scratch; pass --platform');
      const config: ImageConfig = { architecture: platform.architecture, os: platform.os, config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
      return { ...(name ? { name } : {}), index: stages.length, platform, config, layers: [], args: {}, key: digestOf(utf8(`scratch ${formatPlatform(platform)}`)) };
    }
    const platforms = wanted ? [wanted] : this.engine.platforms;
    try {
      await this.engine.ensureImage(image, platforms, o.signal ? { signal: o.signal } : {});
      const r = await this.engine.images.resolve(image, platforms.length ? platforms : [{ os: 'linux', architecture: 'amd64' }]);
      const config = structuredClone(r.config);
      delete config.created;
      return { ...(name ? { name } : {}), index: stages.length, platform: r.platform, config, layers: [...r.manifest.layers], args: {}, key: r.manifestDescriptor.digest };
    } catch (err) {
      if (err instanceof SkiffError) throw new SkiffError(err.code, `FROM ${image}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  /** Restores a stage from a cache entry, if its blobs are still in the store. */
  private async restore(s: Stage, entry: { config: Descriptor; layers: Descriptor[] }): Promise<boolean> {
    const layout = this.engine.layout;
    for (const d of [entry.config, ...entry.layers]) if (!(await layout.info(d.digest))) return false;
    s.config = await this.engine.images.readJson<ImageConfig>(entry.config);
    if (s.layers.length !== entry.layers.length) delete s.files;
    s.layers = [...entry.layers];
    return true;
  }

  private async remember(key: string, s: Stage): Promise<void> {
    const config = await this.engine.images.writeJson(MediaType.OciConfig, s.config);
    await this.cache.put(key, { config, layers: [...s.layers] });
  }

  private async files(s: Stage): Promise<StageFiles> {
    s.files ??= await stageFiles(this.engine.layout, s.layers);
    return s.files;
  }

  /** A step that adds a layer of files (COPY, ADD, WORKDIR). Returns true on a cache hit. */
  private async fileStep(s: Stage, createdBy: string, specs: FileSpec[], o: BuildOptions, step: number, emit: (e: BuildEvent) => void, apply: () => void, created: string | undefined): Promise<boolean> {
    const h = createSha256();
    h.update(utf8(createdBy));
    for (const f of specs) {
      h.update(utf8(`\0${f.path}\0${f.type}\0${f.mode.toString(8)}\0${f.uid ?? 0}:${f.gid ?? 0}\0${f.linkname ?? ''}\0`));
      if (f.data) h.update(utf8(digestOf(f.data)));
    }
    const key = stepKey(s.key, `sha256:${h.hex()}`);
    const hit = !o.noCache && (await this.cache.get(key));
    let cached = false;
    if (hit && (await this.restore(s, hit))) {
      cached = true;
      emit({ type: 'cached', step });
    } else {
      const layer = await layerFromFiles(this.engine.layout, specs, o.sourceDateEpoch);
      s.layers.push(layer.descriptor);
      s.config.rootfs.diff_ids.push(layer.diffId);
      apply();
      (s.config.history ??= []).push({ created: created ?? new Date().toISOString(), created_by: createdBy });
      s.config.created = created ?? new Date().toISOString();
      if (s.files) for (const f of specs) s.files.set(f.path.replace(/^\/+/, ''), f);
      await this.remember(key, s);
    }
    s.key = key;
    emit({ type: 'result', step, id: s.key.slice(7, 19) });
    return cached;
  }

  private async copySpecs(ins: Instruction, s: Stage, stages: Stage[], ctxFiles: Awaited<ReturnType<BuildContext['entries']>>, o: BuildOptions, x: (w: string) => string, fail: (m: string) => never): Promise<FileSpec[]> {
    const cfg = s.config.config ?? {};
    let words = ins.json ?? splitWords(x(ins.args));
    if (ins.heredocs.length) {
      const dest = resolvePath(cfg.WorkingDir ?? '/', words[words.length - 1]!);
      return ins.heredocs.map((h) => ({ path: dest.endsWith('/') || ins.heredocs.length > 1 ? `${dest.replace(/\/$/, '')}/${h.name}` : dest, type: 'file' as const, mode: 0o644, data: utf8(h.expand ? x(h.content) : h.content) }));
    }
    words = words.map((w) => x(w));
    const destRaw = words.pop()!;
    const dest = resolvePath(cfg.WorkingDir ?? '/', destRaw);
    const destIsDir = destRaw.endsWith('/') || words.length > 1;
    const chown = ins.flags.chown ? parseChown(x(ins.flags.chown), fail) : undefined;
    const chmod = ins.flags.chmod ? parseInt(ins.flags.chmod, 8) : undefined;
    if (ins.flags.chmod && (!/^[0-7]{3,4}$/.test(ins.flags.chmod) || Number.isNaN(chmod))) fail(`invalid --chmod "${ins.flags.chmod}": use octal like 755`);
    // Where the sources come from: the context, or another stage / image (--from).
    let source: { entries: Array<{ path: string; type: FileSpec['type']; mode: number; linkname?: string }>; read: (p: string) => Promise<Uint8Array> };
    if (ins.flags.from) {
      const from = x(ins.flags.from);
      const st = stages.find((t) => t.name?.toLowerCase() === from.toLowerCase()) ?? (/^\d+$/.test(from) ? stages[Number(from)] : undefined);
      let files: StageFiles;
      if (st) files = await this.files(st);
      else {
        await this.engine.ensureImage(from, [s.platform]);
        const r = await this.engine.images.resolve(from, [s.platform]);
        files = await stageFiles(this.engine.layout, r.manifest.layers);
      }
      source = { entries: [...files.values()].map((f) => ({ ...f, path: f.path.replace(/^\/+/, '') })), read: async (p) => files.get(p)?.data ?? new Uint8Array() };
    } else {
      if (ins.name === 'ADD' && words.some((w) => /^[a-z]+:\/\//i.test(w))) throw unsupported(`${ins.name} of a URL is not supported (skiff builds have no network); download the file into the build context and COPY it`);
      source = { entries: ctxFiles.map((e) => ({ path: e.path, type: e.type, mode: e.mode, ...(e.linkname ? { linkname: e.linkname } : {}) })), read: (p) => o.context.read(p) };
    }
    const out: FileSpec[] = [];
    for (const w of words) {
      const pattern = w.replace(/^\.?\/+/, '').replace(/\/+$/, '');
      const re = globToRegExp(pattern);
      const matches = pattern === '' || pattern === '.' ? [{ path: '', type: 'directory' as const, mode: 0o755 }] : source.entries.filter((e) => re.test(e.path));
      if (matches.length === 0) fail(`no source files were specified: "${w}" matches nothing in the ${ins.flags.from ? `stage ${ins.flags.from}` : 'build context (or it is excluded by .dockerignore)'}`);
      for (const m of matches) {
        if (m.type === 'directory') {
          // A directory source copies its contents, not the directory itself.
          const prefix = m.path === '' ? '' : m.path + '/';
          for (const e of source.entries) {
            if (!e.path.startsWith(prefix) || e.path === m.path) continue;
            out.push(await this.spec(join(dest, e.path.slice(prefix.length)), e, source.read, chown, chmod));
          }
          if (m.path !== '' || true) out.push({ path: dest, type: 'directory', mode: 0o755, ...(chown ? chown : {}) });
        } else {
          const base = m.path.split('/').pop()!;
          const target = destIsDir || matches.length > 1 ? join(dest, base) : dest;
          if (ins.name === 'ADD' && m.type === 'file' && /\.(tar|tar\.gz|tgz)$/.test(m.path)) fail('ADD of a local archive (auto-extraction) is not supported yet; extract it into the context and COPY the files');
          out.push(await this.spec(target, m, source.read, chown, chmod));
        }
      }
    }
    return out;
  }

  private async spec(path: string, e: { path: string; type: FileSpec['type']; mode: number; linkname?: string }, read: (p: string) => Promise<Uint8Array>, chown: { uid: number; gid: number } | undefined, chmod: number | undefined): Promise<FileSpec> {
    const f: FileSpec = { path, type: e.type, mode: chmod ?? e.mode & 0o7777 };
    if (chown) { f.uid = chown.uid; f.gid = chown.gid; }
    if (e.type === 'file') f.data = await read(e.path);
    if (e.linkname !== undefined) f.linkname = e.linkname;
    return f;
  }

  /** Runs one RUN step in a container of the stage and adds its changes as a layer. */
  private async run(s: Stage, argv: string[], o: BuildOptions, emit: (e: BuildEvent) => void, fail: (m: string) => never): Promise<void> {
    const images = this.engine.images;
    const tmp = normalizeName(`localhost/skiff-build/step-${Math.random().toString(36).slice(2)}:tmp`);
    await images.putImage(tmp, stableConfig(s.config), s.layers);
    const cfg = s.config.config ?? {};
    const env = [...(cfg.Env ?? []), ...Object.entries(s.args).filter(([k]) => !(cfg.Env ?? []).some((e) => e.startsWith(`${k}=`))).map(([k, v]) => `${k}=${v}`)];
    let container;
    try {
      container = await this.engine.create({ image: tmp, entrypoint: argv.slice(0, 1), cmd: argv.slice(1), env, ...(cfg.WorkingDir ? { workingDir: cfg.WorkingDir } : {}), ...(cfg.User ? { user: cfg.User } : {}), platform: formatPlatform(s.platform) });
    } catch (err) {
      await images.layout.deleteRef(tmp);
      if (err instanceof SkiffError && err.code === 'UNSUPPORTED') throw new SkiffError('UNSUPPORTED', `RUN needs a backend for ${formatPlatform(s.platform)}: ${err.message}`, { cause: err });
      throw err;
    }
    try {
      const output = await container.attach();
      const pump = (async () => {
        for await (const e of output as unknown as AsyncIterable<{ stream: 'stdout' | 'stderr'; data: Uint8Array }>) emit({ type: 'output', stream: e.stream, data: e.data });
      })();
      await container.start();
      const status = await container.wait('next-exit');
      await pump;
      if (status.exitCode !== 0) {
        const why = status.error ? ` (${status.error})` : '';
        fail(`The command '${argv.join(' ')}' returned a non-zero code: ${status.exitCode}${why}`);
      }
      const layer = await layerFromChanges(images.layout, await container.exportChanges(), o.sourceDateEpoch);
      s.layers.push(layer.descriptor);
      s.config.rootfs.diff_ids.push(layer.diffId);
      delete s.files;
    } finally {
      await container.remove({ force: true }).catch(() => {});
      await images.layout.deleteRef(tmp);
    }
  }
}

function fail0(file: string): never {
  throw invalidArgument(`${file} has no build stage`);
}

function stepKey(parent: string, text: string): string {
  return digestOf(utf8(`${parent}\n${text}`));
}

function stageStartOf(ins: Instruction[], n: number): number {
  for (let i = n; i >= 0; i--) if (ins[i]!.name === 'FROM') return i;
  return 0;
}

function envMap(c: ImageConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of c.config?.Env ?? []) {
    const i = e.indexOf('=');
    out[i < 0 ? e : e.slice(0, i)] = i < 0 ? '' : e.slice(i + 1);
  }
  return out;
}

function argPairs(ins: Instruction, escape: string, vars: Record<string, string>): Array<[string, string | undefined]> {
  return splitWords(ins.args, escape).map((w) => {
    const i = w.indexOf('=');
    return i < 0 ? [w, undefined] : [w.slice(0, i), expand(w.slice(i + 1), vars, escape)];
  });
}

function heredocScript(ins: Instruction): string {
  // `RUN <<EOF` runs the heredoc body as the shell script.
  return ins.heredocs.map((h) => h.content).join('\n');
}

function resolvePath(cwd: string, p: string): string {
  const abs = p.startsWith('/') ? p : `${cwd.replace(/\/$/, '')}/${p}`;
  const parts: string[] = [];
  for (const seg of abs.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/') + (p.endsWith('/') && parts.length ? '/' : '');
}

function join(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, '')}/${name}`.replace(/\/+/g, '/');
}

function globToRegExp(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += p[i + 1] === '*' ? (i++, '.*') : '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function parseChown(v: string, fail: (m: string) => never): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(v);
  if (!m) fail(`--chown "${v}": only numeric UID[:GID] is supported`);
  return { uid: Number(m![1]), gid: Number(m![2] ?? m![1]) };
}

const DURATION = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/;

function healthcheck(ins: Instruction, fail: (m: string) => never): HealthConfig {
  const args = ins.args.trim();
  if (/^none$/i.test(args)) return { Test: ['NONE'] };
  const m = /^CMD\s+(.*)$/is.exec(args) ?? fail('expected HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE');
  const rest = m[1]!.trim();
  let test: string[];
  try {
    test = rest.startsWith('[') ? ['CMD', ...(JSON.parse(rest) as string[])] : ['CMD-SHELL', rest];
  } catch {
    test = ['CMD-SHELL', rest];
  }
  const hc: HealthConfig = { Test: test };
  const ns = (k: string) => {
    const v = ins.flags[k];
    if (v === undefined) return undefined;
    const d = DURATION.exec(v) ?? fail(`invalid --${k} "${v}": use a duration like 30s`);
    return Math.round(Number(d[1]) * { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[d[2] as 'ns'])!;
  };
  const interval = ns('interval'); if (interval !== undefined) hc.Interval = interval;
  const timeout = ns('timeout'); if (timeout !== undefined) hc.Timeout = timeout;
  const sp = ns('start-period'); if (sp !== undefined) hc.StartPeriod = sp;
  const si = ns('start-interval'); if (si !== undefined) hc.StartInterval = si;
  if (ins.flags.retries !== undefined) {
    const r = Number(ins.flags.retries);
    if (!Number.isInteger(r) || r < 0) fail(`invalid --retries "${ins.flags.retries}"`);
    hc.Retries = r;
  }
  return hc;
}

/** Key order fixed so equal configs give equal digests. */
function stableConfig(c: ImageConfig): ImageConfig {
  return JSON.parse(JSON.stringify(c)) as ImageConfig;
}
