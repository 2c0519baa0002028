/**
 * The image builder: runs a parsed Dockerfile stage by stage. RUN steps run in
 * a container of the stage's platform (through the Engine, so on the backend
 * that runs that platform); their changes become layers. A step is reused from
 * the cache when its parent, its instruction and (COPY/ADD) the content of its
 * sources are unchanged, so an unchanged rebuild makes no layer and gives the
 * same image digest. Sources are read only on a miss: context files are known
 * by digest (kept by stat stamp in the cache), other stages by their layers.
 */
import { cancelled, invalidArgument, notFound, SkiffError } from '../errors/index.js';
import type { Engine } from '../runtime/engine.js';
import { digestOf } from '../image/digest.js';
import { MediaType } from '../image/media-types.js';
import { parsePlatform, formatPlatform } from '../image/platform.js';
import { formatReference, normalizeName, parseReference } from '../image/reference.js';
import type { Descriptor, ImageConfig, Platform } from '../image/types.js';
import { utf8 } from '../content/util.js';
import { parseDockerfile, parseInstruction, type Instruction } from './dockerfile/parser.js';
import { dockerfileError } from './dockerfile/errors.js';
import { expand, parseKeyValues, splitWords } from './dockerfile/expand.js';
import type { BuildContext, ContextEntry } from './context.js';
import { isIgnored, parseDockerignore } from './ignore.js';
import { healthcheck } from './dockerfile/healthcheck.js';
import { layerFromChanges, layerFromFiles, stageFiles, type FileSpec, type StageFiles } from './layer-io.js';
import type { BuildCache, CacheEntry } from './cache.js';
import { needsLookup, parseOwner, resolveOwner, type Ids } from './owner.js';
import { extractArchive } from './archive.js';
import { download, isGitSource, isUrl, refuseGit } from './remote.js';

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

/** What a COPY/ADD step adds: its cache key and, on a miss, how to make its files. */
interface FilePlan {
  key: string;
  make: () => Promise<FileSpec[]>;
}

/** Per-build state shared by the steps: what is known to be in the store, digests learned. */
interface BuildRun {
  /** Blobs seen in the store during this build (a removed image may take blobs with it between builds). */
  present: Set<string>;
  /** Context-file digests learned by reading, to save in the digest cache at the end. */
  learned: Array<[string, string]>;
  /** Context files read to hash them, kept until their step uses them. */
  read: Map<string, Uint8Array>;
  /** The digest cache, loaded at the first stamped file. */
  known?: Readonly<Record<string, string>>;
}

/** Instructions an ONBUILD may not hold (docker refuses the same). */
const NOT_TRIGGERS = new Set(['ONBUILD', 'FROM', 'MAINTAINER']);

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const MAX_CONFIGS = 1000;

export class Builder {
  /** Parsed configs by digest: blobs never change, so these are kept across builds (copied on use). */
  private readonly configs = new Map<string, ImageConfig>();

  constructor(private readonly engine: Engine, private readonly cache: BuildCache) {}

  async build(o: BuildOptions): Promise<BuildResult> {
    const run: BuildRun = { present: new Set(), learned: [], read: new Map() };
    try {
      return await this.buildWith(o, run);
    } finally {
      // Digests learned by a failed build are still true.
      await this.cache.digests?.put(run.learned).catch(() => {});
    }
  }

  private async buildWith(o: BuildOptions, run: BuildRun): Promise<BuildResult> {
    const tags = o.tags ?? [];
    // Names are checked before any work, so a bad one fails fast.
    const refs = tags.map((t) => {
      const ref = parseReference(t);
      if (ref.digest) throw invalidArgument(`invalid tag "${t}": a build is tagged with a name like name:1.0, not a digest`);
      return formatReference(ref);
    });
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
    const files = rules.length ? ctxEntries.filter((e) => !isIgnored(e.path, rules)) : ctxEntries;
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

    /** Runs one instruction at step `n` (0-based); `stageIns` are the stage's instructions so far, for ENTRYPOINT's CMD rule. */
    const execute = async (ins: Instruction, n: number, file: string, stageIns: () => Instruction[]): Promise<void> => {
      const fail = (msg: string): never => { throw dockerfileError(file, ins.line, 1, `${ins.name}: ${msg}`); };
      const s = stage!;
      const vars = { ...envMap(s.config), ...s.args };
      const x = (w: string) => expand(w, vars, df.escape, (_c, m) => fail(m));
      const cfg = (s.config.config ??= {});
      const history = (createdBy: string, empty: boolean) => ((s.config.history ??= []).push({ ...(created ? { created } : { created: new Date().toISOString() }), created_by: createdBy, ...(empty ? { empty_layer: true } : {}) }));

      // Metadata-only instructions change the config; their key is the text after substitution.
      const metaStep = async (apply: () => void, createdBy: string) => {
        const key = stepKey(s.key, createdBy);
        const hit = !o.noCache && (await this.cache.get(key));
        if (hit && (await this.restore(s, hit, run))) {
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
          if (hit && (await this.restore(s, hit, run))) {
            cachedSteps++;
            emit({ type: 'cached', step: n + 1 });
            s.key = key;
            emit({ type: 'result', step: n + 1, id: s.key.slice(7, 19) });
            break;
          }
          // Like BuildKit: create the directory when the stage lacks it, as a layer of its own.
          const exists = dir === '/' || (await this.files(s)).get(dir.slice(1))?.type === 'directory';
          if (!exists) {
            const plan: FilePlan = { key: `WORKDIR ${dir}`, make: async () => [{ path: dir, type: 'directory', mode: 0o755 }] };
            await this.fileStep(s, `WORKDIR ${dir}`, plan, { ...o, noCache: true }, n + 1, emit, () => { (s.config.config ??= {}).WorkingDir = dir; }, created, run);
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
              if (!stageIns().some((i) => i.name === 'CMD')) cfg.Cmd = null;
            }
          }, `${ins.name} ${JSON.stringify(value)}`);
          break;
        }
        case 'HEALTHCHECK': {
          const hc = healthcheck(ins, fail);
          await metaStep(() => { cfg.Healthcheck = hc; }, `HEALTHCHECK ${JSON.stringify(hc)}`);
          break;
        }
        case 'ONBUILD': {
          // Recorded as written; substitution happens in the build that triggers it.
          const trigger = ins.args.trim();
          await metaStep(() => { cfg.OnBuild = [...(cfg.OnBuild ?? []), trigger]; }, `ONBUILD ${trigger}`);
          break;
        }
        case 'RUN': {
          const argv = ins.json ?? [...(cfg.Shell ?? DEFAULT_SHELL), ins.heredocs.length ? heredocScript(ins) : ins.args];
          const runArgs = Object.entries(s.args).filter(([k]) => ins.args.includes(k)).sort();
          const createdBy = `RUN ${ins.json ? JSON.stringify(ins.json) : argv.join(' ')}`;
          const key = stepKey(s.key, `${createdBy}\0${JSON.stringify(runArgs)}`);
          const hit = !o.noCache && (await this.cache.get(key));
          if (hit && (await this.restore(s, hit, run))) {
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
          const plan = await this.copyPlan(ins, s, stages, files, o, x, fail, run);
          const hit = await this.fileStep(s, `${ins.name} ${ins.original.slice(ins.name.length).trim()}`, plan, o, n + 1, emit, () => {}, created, run);
          if (hit) cachedSteps++;
          break;
        }
        default:
          fail('is not supported');
      }
    };

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
        await this.triggers(stage, ins, n, df.file, fail, emit, execute);
        continue;
      }
      const start = stageStartOf(instructions, n);
      await execute(ins, n, df.file, () => instructions.slice(start, n));
    }
    const final = stage ?? fail0(dfPath);
    if (o.labels) (final.config.config ??= {}).Labels = { ...(final.config.config.Labels ?? {}), ...o.labels };
    if (created) final.config.created = created;
    else final.config.created ??= new Date().toISOString();
    const unused = Object.keys(buildArgs).filter((k) => !usedArgs.has(k));
    if (unused.length) emit({ type: 'output', stream: 'stderr', data: utf8(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`) });
    const img = await this.engine.images.putImage(undefined, stableConfig(final.config), final.layers);
    const layout = this.engine.images.layout;
    for (const name of refs) {
      // An unchanged rebuild leaves the names alone (no rewrite of the store's index).
      const cur = await layout.getRef(name);
      if (cur?.digest !== img.target.digest || cur.mediaType !== img.target.mediaType || JSON.stringify(cur.platform) !== JSON.stringify(img.target.platform)) await layout.setRef(name, img.target);
    }
    const names = tags;
    emit({ type: 'done', id: img.id, names });
    return { id: img.id, manifest: img.manifestDescriptor, names, cached: cachedSteps, steps: total };
  }

  /**
   * ONBUILD: a base image's triggers run right after its FROM, as docker
   * does, and are not passed on to the image being built.
   */
  private async triggers(s: Stage, from: Instruction, n: number, file: string, fail: (m: string) => never, emit: (e: BuildEvent) => void, execute: (ins: Instruction, n: number, file: string, stageIns: () => Instruction[]) => Promise<void>): Promise<void> {
    const list = s.config.config?.OnBuild ?? [];
    if (s.config.config) delete s.config.config.OnBuild;
    if (list.length === 0) return;
    emit({ type: 'output', stream: 'stdout', data: utf8(`# Executing ${list.length} build trigger${list.length > 1 ? 's' : ''}\n`) });
    const image = splitWords(from.args)[0] ?? 'the base image';
    const done: Instruction[] = [];
    for (const text of list) {
      let ins: Instruction;
      try {
        ins = parseInstruction(text, file);
      } catch (err) {
        fail(`the ONBUILD trigger "${text}" of ${image} is invalid: ${(err as Error).message.replace(/^.*?:\d+:\d+: /, '')}`);
      }
      if (NOT_TRIGGERS.has(ins!.name)) fail(`the ONBUILD trigger "${text}" of ${image} is not allowed: ${ins!.name} cannot be an ONBUILD instruction`);
      // Errors point at the FROM that ran the trigger, and say which trigger failed.
      ins!.line = from.line;
      try {
        await execute(ins!, n, file, () => done);
      } catch (err) {
        if (err instanceof SkiffError) throw new SkiffError(err.code, `${err.message} (in the ONBUILD trigger "${text}" of ${image})`, { cause: err });
        throw err;
      }
      done.push(ins!);
    }
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
  private async restore(s: Stage, entry: CacheEntry, run: BuildRun): Promise<boolean> {
    const layout = this.engine.layout;
    for (const d of [entry.config, ...entry.layers]) {
      if (run.present.has(d.digest)) continue;
      if (!(await layout.info(d.digest))) return false;
      run.present.add(d.digest);
    }
    let config = this.configs.get(entry.config.digest);
    if (!config) {
      config = await this.engine.images.readJson<ImageConfig>(entry.config);
      this.keepConfig(entry.config.digest, config);
    }
    s.config = structuredClone(config);
    if (s.layers.length !== entry.layers.length) delete s.files;
    s.layers = [...entry.layers];
    return true;
  }

  private async remember(key: string, s: Stage): Promise<void> {
    const config = await this.engine.images.writeJson(MediaType.OciConfig, s.config);
    this.keepConfig(config.digest, structuredClone(s.config));
    await this.cache.put(key, { config, layers: [...s.layers] });
  }

  /** Keeps a parsed config, the oldest going first past a bound (a daemon builds for a long time). */
  private keepConfig(digest: string, config: ImageConfig): void {
    this.configs.delete(digest);
    this.configs.set(digest, config);
    if (this.configs.size > MAX_CONFIGS) this.configs.delete(this.configs.keys().next().value!);
  }

  private async files(s: Stage): Promise<StageFiles> {
    s.files ??= await stageFiles(this.engine.layout, s.layers);
    return s.files;
  }

  /** A step that adds a layer of files (COPY, ADD, WORKDIR). Returns true on a cache hit. */
  private async fileStep(s: Stage, createdBy: string, plan: FilePlan, o: BuildOptions, step: number, emit: (e: BuildEvent) => void, apply: () => void, created: string | undefined, run: BuildRun): Promise<boolean> {
    const key = stepKey(s.key, plan.key);
    const hit = !o.noCache && (await this.cache.get(key));
    let cached = false;
    if (hit && (await this.restore(s, hit, run))) {
      cached = true;
      emit({ type: 'cached', step });
    } else {
      const specs = await plan.make();
      const layer = await layerFromFiles(this.engine.layout, specs, o.sourceDateEpoch);
      s.layers.push(layer.descriptor);
      s.config.rootfs.diff_ids.push(layer.diffId);
      apply();
      (s.config.history ??= []).push({ created: created ?? new Date().toISOString(), created_by: createdBy });
      s.config.created = created ?? new Date().toISOString();
      if (s.files) for (const f of specs) s.files.set(f.path.replace(/^\/+/, ''), f);
      await this.remember(key, s);
    }
    run.read.clear();
    s.key = key;
    emit({ type: 'result', step, id: s.key.slice(7, 19) });
    return cached;
  }

  /** A context file's digest: from the digest cache by its stamp, else read (and kept for the step) and hashed. */
  private async contextDigest(e: ContextEntry, context: BuildContext, run: BuildRun): Promise<string> {
    if (e.stamp) {
      run.known ??= (await this.cache.digests?.all()) ?? {};
      const known = run.known[e.stamp];
      if (known) return known;
    }
    const data = await context.read(e.path);
    run.read.set(e.path, data);
    const d = digestOf(data);
    if (e.stamp) run.learned.push([e.stamp, d]);
    return d;
  }

  /**
   * Plans a COPY or ADD: the cache key covers the destination, the flags and
   * the content of every source (context files by digest, another stage or
   * image by its layers, downloads by digest), and files are read or
   * unpacked only when the step is not in the cache.
   */
  private async copyPlan(ins: Instruction, s: Stage, stages: Stage[], ctxFiles: ContextEntry[], o: BuildOptions, x: (w: string) => string, fail: (m: string) => never, run: BuildRun): Promise<FilePlan> {
    const cfg = s.config.config ?? {};
    const parts: string[] = [];
    const add = (t: string) => parts.push(t);
    const key = () => digestOf(utf8(parts.join('\0')));
    add(`${ins.name} ${ins.original.slice(ins.name.length).trim()}`);
    let words = ins.json ?? splitWords(x(ins.args));
    if (ins.heredocs.length) {
      const dest = resolvePath(cfg.WorkingDir ?? '/', words[words.length - 1]!);
      const specs = ins.heredocs.map((hd) => ({ path: dest.endsWith('/') || ins.heredocs.length > 1 ? `${dest.replace(/\/$/, '')}/${hd.name}` : dest, type: 'file' as const, mode: 0o644, data: utf8(hd.expand ? x(hd.content) : hd.content) }));
      for (const f of specs) add(`${f.path}\0${digestOf(f.data)}`);
      return { key: key(), make: async () => specs };
    }
    words = words.map((w) => x(w));
    const destRaw = words.pop()!;
    const dest = resolvePath(cfg.WorkingDir ?? '/', destRaw);
    const destIsDir = destRaw.endsWith('/') || words.length > 1;
    const ownerText = ins.flags.chown !== undefined ? x(ins.flags.chown) : undefined;
    const owner = ownerText !== undefined ? (parseOwner(ownerText) ?? fail(`invalid --chown "${ownerText}": use USER[:GROUP] with names or numeric IDs, e.g. --chown=app:app or --chown=1000:1000`)) : undefined;
    const chmod = ins.flags.chmod ? parseInt(ins.flags.chmod, 8) : undefined;
    if (ins.flags.chmod && (!/^[0-7]{3,4}$/.test(ins.flags.chmod) || Number.isNaN(chmod))) fail(`invalid --chmod "${ins.flags.chmod}": use octal like 755`);
    if (ins.flags['keep-git-dir'] !== undefined) refuseGit(words.join(' '));
    const checksum = ins.flags.checksum !== undefined ? x(ins.flags.checksum) : undefined;
    if (checksum !== undefined && !words.every(isUrl)) fail('--checksum applies to URL sources only');
    // The owner is part of the key as written; names are looked up (in the stage's files) only on a miss.
    add(`dest=${dest}${destIsDir ? '/' : ''} chown=${ownerText ?? ''} chmod=${chmod?.toString(8) ?? ''}`);
    let ids: Ids | undefined;
    const resolveIds = async () => {
      if (owner && !ids) ids = resolveOwner(owner, needsLookup(owner) ? await this.files(s) : undefined, fail);
      return ids;
    };
    const withOwner = (f: FileSpec): FileSpec => (ids ? { ...f, uid: ids.uid, gid: ids.gid } : f);

    if (ins.flags.from) {
      // Another stage or image: its layers identify its files, so a hit needs no unpacking.
      const from = x(ins.flags.from);
      const st = stages.find((t) => t.name?.toLowerCase() === from.toLowerCase()) ?? (/^\d+$/.test(from) ? stages[Number(from)] : undefined);
      let layers: Descriptor[];
      if (st) layers = st.layers;
      else {
        await this.engine.ensureImage(from, [s.platform]);
        layers = (await this.engine.images.resolve(from, [s.platform])).manifest.layers;
      }
      add(`from=${layers.map((l) => l.digest).join(',')} ${JSON.stringify(words)}`);
      return {
        key: key(),
        make: async () => {
          const files = st ? await this.files(st) : await stageFiles(this.engine.layout, layers);
          const entries = [...files.values()].map((f) => ({ ...f, path: f.path.replace(/^\/+/, '') }));
          await resolveIds();
          const out: FileSpec[] = [];
          for (const w of words) {
            for (const { target, entry, top } of matchSources(w, entries, dest, destIsDir, words.length, () => fail(`no source files were specified: "${w}" matches nothing in the stage ${ins.flags.from}`))) {
              out.push(withOwner({ ...copyMeta(target, entry, top && entry.type === 'directory' ? undefined : chmod), ...(entry.type === 'file' ? { data: files.get(entry.path)?.data ?? new Uint8Array() } : {}) }));
            }
          }
          return out;
        },
      };
    }

    // The build context, and for ADD also URLs and local archives.
    type Item = { target: string; entry: SourceEntry; top: boolean } | { target: string; url: string; data: Uint8Array; mtime?: number } | { archive: true; entry: SourceEntry; dest: string; target: string };
    const items: Item[] = [];
    for (const w of words) {
      if (ins.name === 'ADD' && isGitSource(w)) refuseGit(w);
      if (isUrl(w)) {
        if (ins.name === 'COPY') fail(`the source "${w}" is a URL; COPY takes files of the build context only (ADD downloads URLs)`);
        const got = await download(w, checksum, o.signal);
        const name = got.name ?? (destIsDir ? fail(`cannot determine a file name from the URL "${w}"; give a destination file name`) : '');
        const target = destIsDir ? join(dest, name) : dest;
        add(`url=${w} ${target} ${got.digest} ${got.mtime ?? ''}`);
        items.push({ target, url: w, data: got.data, ...(got.mtime !== undefined ? { mtime: got.mtime } : {}) });
        continue;
      }
      const matched = matchSources(w, ctxFiles, dest, destIsDir, words.length, () => fail(`no source files were specified: "${w}" matches nothing in the build context (or it is excluded by .dockerignore)`));
      for (const { target, entry, top } of matched) {
        add(`${target}\0${entry.type}\0${entry.mode.toString(8)}\0${entry.linkname ?? ''}`);
        if (entry.type === 'file') add(await this.contextDigest(entry as ContextEntry, o.context, run));
        // ADD unpacks a local tar named directly (not one found inside a copied directory).
        if (ins.name === 'ADD' && top && entry.type === 'file') items.push({ archive: true, entry, dest, target });
        else items.push({ target, entry, top });
      }
    }
    return {
      key: key(),
      make: async () => {
        await resolveIds();
        const out: FileSpec[] = [];
        const read = async (e: SourceEntry) => run.read.get(e.path) ?? (await o.context.read(e.path));
        for (const it of items) {
          if ('url' in it) {
            out.push(withOwner({ path: it.target, type: 'file', mode: chmod ?? 0o600, data: it.data, ...(it.mtime !== undefined ? { mtime: it.mtime } : {}) }));
          } else if ('archive' in it) {
            const data = await read(it.entry);
            const unpacked = await extractArchive(data, it.dest, it.entry.path, ids);
            if (unpacked) out.push({ path: it.dest, type: 'directory', mode: 0o755, ...(ids ?? {}) }, ...unpacked);
            else out.push(withOwner({ ...copyMeta(it.target, it.entry, chmod), data }));
          } else {
            // The destination directory itself keeps its mode; --chmod is for what is copied.
            const f = copyMeta(it.target, it.entry, it.top && it.entry.type === 'directory' ? undefined : chmod);
            if (it.entry.type === 'file') f.data = await read(it.entry);
            out.push(withOwner(f));
          }
        }
        return out;
      },
    };
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

interface SourceEntry {
  path: string;
  type: FileSpec['type'];
  mode: number;
  linkname?: string;
  /** Seconds; kept on the copy (docker's COPY keeps the source's modification time). */
  mtime?: number;
}

/**
 * The files one source word names, with where each lands: a file goes to the
 * destination (or into it, when it is a directory), a directory's contents
 * go into the destination. `top` marks entries the word named directly.
 */
function matchSources<E extends SourceEntry>(word: string, entries: E[], dest: string, destIsDir: boolean, sources: number, none: () => never): Array<{ target: string; entry: E | SourceEntry; top: boolean }> {
  const pattern = word.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  const re = globToRegExp(pattern);
  const matches: Array<E | SourceEntry> = pattern === '' || pattern === '.' ? [{ path: '', type: 'directory', mode: 0o755 }] : entries.filter((e) => re.test(e.path));
  if (matches.length === 0) none();
  const out: Array<{ target: string; entry: E | SourceEntry; top: boolean }> = [];
  for (const m of matches) {
    if (m.type === 'directory') {
      // A directory source copies its contents, not the directory itself.
      const prefix = m.path === '' ? '' : m.path + '/';
      for (const e of entries) {
        if (!e.path.startsWith(prefix) || e.path === m.path) continue;
        out.push({ target: join(dest, e.path.slice(prefix.length)), entry: e, top: false });
      }
      out.push({ target: dest, entry: { path: m.path, type: 'directory', mode: 0o755 }, top: true });
    } else {
      const base = m.path.split('/').pop()!;
      out.push({ target: destIsDir || matches.length > 1 || sources > 1 ? join(dest, base) : dest, entry: m, top: true });
    }
  }
  return out;
}

/** The file spec of a copied entry, without its content. */
function copyMeta(target: string, e: SourceEntry, chmod: number | undefined): FileSpec {
  const f: FileSpec = { path: target, type: e.type, mode: chmod ?? e.mode & 0o7777 };
  if (e.linkname !== undefined) f.linkname = e.linkname;
  if (e.mtime !== undefined) f.mtime = e.mtime;
  return f;
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

/** Key order fixed so equal configs give equal digests. */
function stableConfig(c: ImageConfig): ImageConfig {
  return JSON.parse(JSON.stringify(c)) as ImageConfig;
}
