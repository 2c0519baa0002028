/**
 * docker commit, the parts that are data: the container's config as docker
 * keeps it, dockerd's merge of a user config over it, and the new image's
 * config (the parent's layers plus one of the container's changes). The
 * Engine (Engine.commit) reads the changes and writes the image.
 */
import { invalidArgument } from '../errors/index.js';
import { applyChanges } from '../build/changes.js';
import { formatReference, parseReference } from '../image/reference.js';
import type { ContainerDefaults, ImageConfig } from '../image/types.js';
import type { ContainerRecord } from './records.js';
import type { Ingester } from '../content/types.js';
import { concat } from '../content/util.js';
import { storeLayer, type BuiltLayer } from '../build/layer-io.js';

export interface CommitOptions {
  /** The new image's name; without a tag, `latest`. */
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** Pause a running container while its changes are read (default true, as docker; only where the backend can pause). */
  pause?: boolean;
  /** Dockerfile instructions for the config: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, USER, VOLUME, WORKDIR (dockerd's list). */
  changes?: string[];
  /** A config to start from instead of the container's (the API's body); the container's fills what it leaves out. */
  config?: ContainerDefaults;
  /** Ports the container exposes beyond its image's and its published ones (`--expose` at create, which the daemon keeps), as `80/tcp`. */
  exposedPorts?: string[];
  /** The container's config as the Engine API shows it (the daemon's inspect Config), kept as the image's container_config; the Engine's own view of it otherwise. */
  containerConfig?: Record<string, unknown>;
}

export interface CommitResult {
  /** The new image's ID (its config digest). */
  id: string;
  /** The name it was given, normalized, if any. */
  name?: string;
}

/** The name `repo` and `tag` give, as dockerd's RepoTagReference: none without a repo. */
export function commitReference(repo: string | undefined, tag: string | undefined): string | undefined {
  if (!repo) {
    if (tag) throw invalidArgument(`a tag ("${tag}") needs a repository name`);
    return undefined;
  }
  const ref = parseReference(repo);
  if (ref.digest) throw invalidArgument(`cannot commit to a digest reference ("${repo}"); give a name like repo:tag`);
  if (tag !== undefined && tag !== '') {
    if (/[:@]/.test(repo.slice(repo.lastIndexOf('/') + 1))) throw invalidArgument(`the repository name "${repo}" already holds a tag; give the tag once`);
    return formatReference(parseReference(`${repo}:${tag}`));
  }
  return formatReference(ref);
}

/** The container's config as dockerd keeps it (container.Config): the image's defaults with the create options over them. */
export function containerConfig(r: ContainerRecord, image: ContainerDefaults | undefined, exposedPorts: string[] = []): ContainerDefaults {
  const i = image ?? {};
  // The record resolves no working directory to `/`; dockerd keeps it empty (an explicit -w / reads the same here).
  const workingDir = r.workingDir === '/' && !i.WorkingDir ? '' : r.workingDir;
  const c: ContainerDefaults = { User: r.user, Env: dockerEnvOrder(r.env, i.Env ?? []), WorkingDir: workingDir, Labels: { ...r.labels } };
  if (r.entrypoint !== undefined) {
    c.Entrypoint = r.entrypoint.length ? [...r.entrypoint] : null;
    c.Cmd = r.cmd?.length ? [...r.cmd] : null;
  } else {
    c.Entrypoint = i.Entrypoint?.length ? [...i.Entrypoint] : null;
    c.Cmd = r.cmd?.length ? [...r.cmd] : i.Cmd?.length ? [...i.Cmd] : null;
  }
  const exposed: Record<string, object> = { ...(i.ExposedPorts ?? {}) };
  for (const p of r.ports ?? []) exposed[`${p.containerPort}/${p.protocol}`] = {};
  for (const p of exposedPorts) exposed[p.includes('/') ? p : `${p}/tcp`] = {};
  if (Object.keys(exposed).length) c.ExposedPorts = exposed;
  // dockerd's Config.Volumes: the image's and the anonymous ones asked for at create (-v /path).
  const volumes: Record<string, object> = { ...(i.Volumes ?? {}) };
  for (const m of r.mounts) if (m.type === 'volume' && r.anonymousVolumes.includes(m.source)) volumes[m.target] = {};
  if (Object.keys(volumes).length) c.Volumes = volumes;
  if (i.StopSignal) c.StopSignal = i.StopSignal;
  if (r.healthcheck) c.Healthcheck = structuredClone(r.healthcheck);
  return c;
}

/**
 * dockerd's merge: what `user` leaves empty comes from the container's
 * config; ports, labels, volumes and variables it lacks are added. An
 * entrypoint given in `user` keeps its own (possibly empty) command.
 */
export function mergeConfig(user: ContainerDefaults, container: ContainerDefaults): ContainerDefaults {
  const u = structuredClone(user);
  if (!u.User) u.User = container.User ?? '';
  if (!u.ExposedPorts || Object.keys(u.ExposedPorts).length === 0) {
    if (container.ExposedPorts) u.ExposedPorts = { ...container.ExposedPorts };
  } else for (const p of Object.keys(container.ExposedPorts ?? {})) u.ExposedPorts[p] ??= {};
  if (!u.Env?.length) u.Env = [...(container.Env ?? [])];
  else {
    const keys = new Set(u.Env.map(envKey));
    for (const e of container.Env ?? []) if (!keys.has(envKey(e))) u.Env.push(e);
  }
  u.Labels = { ...(container.Labels ?? {}), ...(u.Labels ?? {}) };
  if (!u.Entrypoint?.length) {
    if (!u.Cmd?.length) u.Cmd = container.Cmd ?? null;
    if (u.Entrypoint === undefined) u.Entrypoint = container.Entrypoint ?? null;
  }
  const hc = container.Healthcheck;
  if (hc) {
    if (!u.Healthcheck) u.Healthcheck = structuredClone(hc);
    else {
      const h = u.Healthcheck;
      if (!h.Test?.length && hc.Test) h.Test = [...hc.Test];
      for (const k of ['Interval', 'Timeout', 'StartPeriod', 'Retries'] as const) if (!h[k] && hc[k]) h[k] = hc[k];
    }
  }
  if (!u.WorkingDir) u.WorkingDir = container.WorkingDir ?? '';
  if (!u.Volumes || Object.keys(u.Volumes).length === 0) {
    if (container.Volumes) u.Volumes = { ...container.Volumes };
  } else Object.assign(u.Volumes, container.Volumes ?? {});
  if (!u.StopSignal && container.StopSignal) u.StopSignal = container.StopSignal;
  return u;
}

/** The config the new image gets: the body (or the container's own config) with the changes, merged over the container's. */
export function commitConfig(own: ContainerDefaults, o: Pick<CommitOptions, 'config' | 'changes'>): ContainerDefaults {
  const changed = applyChanges(o.config ?? own, o.changes ?? []);
  return dropEmpty(mergeConfig(changed, own));
}

export interface ChildImage {
  /** The container's changes; undefined when it changed nothing (no layer, an empty_layer entry). */
  diffId?: string;
  config: ContainerDefaults;
  /** The container's command, for the history's created_by (as dockerd: Cmd joined by spaces). */
  createdBy: string;
  author?: string;
  comment?: string;
  created: string;
  /** The committed container's ID and config, which dockerd writes as `container` and `container_config`. */
  container: string;
  containerConfig: Record<string, unknown>;
}

/** The new image's config: the parent's, one more diff_id and history entry, and the merged container config. */
export function childImageConfig(parent: ImageConfig, c: ChildImage): ImageConfig {
  // As dockerd with containerd's store: no author given keeps the parent's.
  const author = c.author || parent.author;
  const out: ImageConfig = {
    created: c.created,
    ...(author ? { author } : {}),
    architecture: parent.architecture,
    os: parent.os,
    ...(parent.variant ? { variant: parent.variant } : {}),
    ...(parent['os.version'] ? { 'os.version': parent['os.version'] } : {}),
    config: c.config,
    container: c.container,
    container_config: c.containerConfig,
    rootfs: { type: 'layers', diff_ids: [...parent.rootfs.diff_ids, ...(c.diffId ? [c.diffId] : [])] },
    history: [
      ...(parent.history ?? []),
      {
        created: c.created,
        created_by: c.createdBy,
        ...(author ? { author } : {}),
        ...(c.comment ? { comment: c.comment } : {}),
        ...(c.diffId ? {} : { empty_layer: true }),
      },
    ],
  };
  return out;
}

/**
 * Stores the container's changes (an uncompressed tar) as a gzip layer, or
 * returns undefined when the tar is empty: dockerd then adds no layer.
 */
export async function storeChanges(store: Ingester, tar: ReadableStream<Uint8Array>): Promise<BuiltLayer | undefined> {
  const reader = tar.getReader();
  const head: Uint8Array[] = [];
  let got = 0;
  while (got < 512) {
    const { done, value } = await reader.read();
    if (done) break;
    head.push(value);
    got += value.length;
  }
  // A tar's first block is a header, never all zeros, unless the archive is empty.
  if (concat(head).subarray(0, 512).every((b) => b === 0)) {
    while (!(await reader.read()).done) { /* the end blocks: let the exporter finish */ }
    return undefined;
  }
  const rest = new ReadableStream<Uint8Array>({
    start(c) { for (const h of head) c.enqueue(h); },
    async pull(c) {
      const { done, value } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel(reason) { return reader.cancel(reason); },
  });
  return storeLayer(store, rest);
}

/** The PATH the Engine gives a process whose image sets none; dockerd adds it only to the process, not to the config. */
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The container's variables in dockerd's order: those given at create first,
 * then the image's (the record keeps the image's first); the default PATH
 * the Engine added for an image without one is left out, as dockerd keeps it
 * out of the config.
 */
function dockerEnvOrder(env: string[], imageEnv: string[]): string[] {
  const fromImage = new Set(imageEnv);
  const imageHasPath = imageEnv.some((e) => envKey(e) === 'PATH');
  const own = env.filter((e) => !fromImage.has(e) && (imageHasPath || e !== DEFAULT_PATH));
  return [...own, ...env.filter((e) => fromImage.has(e))];
}

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

/** Leaves out fields dockerd would write as null or empty, so the config stays small and stable. */
function dropEmpty(c: ContainerDefaults): ContainerDefaults {
  const out: ContainerDefaults = {};
  for (const [k, v] of Object.entries(c) as Array<[keyof ContainerDefaults, unknown]>) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0 && k !== 'Cmd' && k !== 'Entrypoint')) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
