/**
 * A compose file as skiff runs it: the YAML document (already interpolated)
 * checked key by key and turned into one ServiceConfig per service, whose
 * fields map onto the Engine's CreateOptions. Keys that would change what
 * runs and that skiff cannot honour are refused; keys that only tune what
 * skiff does not do (deploy, say) are
 * reported as warnings, never dropped silently.
 */
import { invalidArgument, unsupported } from '../errors/index.js';
import type { CreateOptions } from '../runtime/options.js';
import { durationSec } from '../runtime/health.js';
import { parseRestartPolicy } from '../runtime/restart.js';
import { parseSysctls } from '../runtime/process-settings.js';
import { inlineSeccompFiles, parseSecurityOpts } from '../runtime/security-opt.js';
import type { HealthConfig } from '../image/types.js';

export { durationSec };

export interface BuildConfig {
  /** Absolute directory. */
  context: string;
  dockerfile?: string;
  args: Record<string, string>;
  target?: string;
}

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ServiceConfig {
  name: string;
  image?: string;
  build?: BuildConfig;
  containerName?: string;
  /** `service:NAME`, `container:NAME`, `host`, `none`; undefined: the project's shared network. */
  networkMode?: string;
  dependsOn: Record<string, { condition: DependencyCondition; required: boolean }>;
  /** Everything else, as Engine create options (image and name are set at `up`). */
  create: Omit<CreateOptions, 'image' | 'name'>;
  stopSignal?: string;
  stopGracePeriodSec?: number;
  extraHosts: string[];
  profiles: string[];
}

export interface VolumeConfig {
  /** The volume's real name: `<project>_<key>` unless `name:` or `external`. */
  name: string;
  external: boolean;
}

export interface ComposeProject {
  name: string;
  /** Absolute project directory (relative paths in the file are from here). */
  dir: string;
  services: Record<string, ServiceConfig>;
  volumes: Record<string, VolumeConfig>;
  warnings: string[];
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(where: string, what: string): never {
  throw invalidArgument(`${where}: ${what}`);
}

function str(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fail(where, `expected a string, got ${JSON.stringify(v)}`);
}

function wholeNumber(v: unknown, where: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) fail(where, `expected a whole number, got ${JSON.stringify(v)}`);
  return n;
}

function bool(v: unknown, where: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  return fail(where, `expected true or false, got ${JSON.stringify(v)}`);
}

function strList(v: unknown, where: string): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((x, i) => str(x, `${where}[${i}]`));
  return fail(where, 'expected a string or a list of strings');
}

/** `KEY: value` maps or `KEY=value` lists (environment, labels, build args). A bare KEY in a list takes `fallback(KEY)`. */
function keyValues(v: unknown, where: string, fallback: (k: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined || v === null) return out;
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const s = str(item, `${where}[${i}]`);
      const eq = s.indexOf('=');
      if (eq === 0) fail(`${where}[${i}]`, `"${s}" has no name before "="`);
      if (eq < 0) {
        const value = fallback(s);
        if (value !== undefined) out[s] = value;
      } else out[s.slice(0, eq)] = s.slice(eq + 1);
    });
    return out;
  }
  if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) {
      if (val === null || val === undefined) {
        const value = fallback(k);
        if (value !== undefined) out[k] = value;
      } else out[k] = str(val, `${where}.${k}`);
    }
    return out;
  }
  return fail(where, 'expected a map or a list of KEY=VALUE');
}

/** Compose's command/entrypoint string form is split like a shell would, without running one. */
export function shellSplit(s: string, where: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === '$')) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") { q = c; has = true; }
    else if (c === '\\' && i + 1 < s.length) { cur += s[++i]; has = true; }
    else if (/\s/.test(c)) { if (has || cur) out.push(cur); cur = ''; has = false; }
    else { cur += c; has = true; }
  }
  if (q) fail(where, `unclosed quote in "${s}"`);
  if (has || cur) out.push(cur);
  return out;
}

function command(v: unknown, where: string): string[] {
  if (typeof v === 'string') return shellSplit(v, where);
  if (Array.isArray(v)) return v.map((x, i) => str(x, `${where}[${i}]`));
  return fail(where, 'expected a string or a list');
}

function resolvePath(dir: string, p: string, home: string | undefined): string {
  if (p === '~' || p.startsWith('~/')) {
    if (!home) throw invalidArgument(`cannot expand "${p}": HOME is not set`);
    return home + p.slice(1);
  }
  if (p.startsWith('/')) return p;
  const parts = (dir.replace(/\/+$/, '') + '/' + p).split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

const SERVICE_KEYS = new Set([
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'working_dir', 'user', 'hostname', 'container_name',
  'labels', 'volumes', 'tmpfs', 'ports', 'expose', 'read_only', 'privileged', 'cap_add', 'cap_drop', 'mem_limit', 'cpus',
  'pids_limit', 'memswap_limit', 'mem_reservation', 'cpu_shares', 'cpu_quota', 'cpu_period', 'cpuset', 'tty', 'stdin_open', 'network_mode', 'networks', 'depends_on', 'platform', 'init', 'stop_signal',
  'stop_grace_period', 'restart', 'healthcheck', 'logging', 'profiles', 'deploy', 'extra_hosts', 'domainname', 'runtime', 'security_opt', 'sysctls',
  'ulimits', 'shm_size', 'pid', 'ipc', 'uts', 'cgroup', 'group_add', 'dns', 'dns_search', 'dns_opt', 'oom_score_adj',
]);
/** Service keys that change what runs and that skiff cannot do. */
const REFUSED_SERVICE_KEYS: Record<string, string> = {
  secrets: 'secrets are not supported; mount the file with a bind volume instead',
  configs: 'configs are not supported; mount the file with a bind volume instead',
  extends: 'extends is not supported; write the service out in full',
  devices: 'devices are not supported',
  links: 'links are not supported: the services of a project reach each other by name already',
  external_links: 'external_links are not supported',
  userns_mode: 'userns_mode is not supported',
  volumes_from: 'volumes_from is not supported; name the volumes in each service',
  oom_kill_disable: 'oom_kill_disable is not supported: the kernel may always end a container over its memory limit',
  mem_swappiness: 'mem_swappiness is not supported: the host\'s swappiness applies',
  blkio_config: 'blkio_config is not supported: skiff sets no block I/O limits',
  cgroup_parent: 'cgroup_parent is not supported: skiff places containers under its own cgroup',
  device_cgroup_rules: 'device_cgroup_rules are not supported',
  storage_opt: 'storage_opt is not supported',
  mac_address: 'mac_address is not supported: addresses follow from each network\'s IP',
};

export interface NormalizeContext {
  dir: string;
  projectName: string;
  lookupEnv: (name: string) => string | undefined;
  readEnvFile: (path: string) => Record<string, string> | undefined;
  /** A file's text (a seccomp profile named in security_opt); undefined when it does not exist. */
  readText?: (path: string) => string | undefined;
  home?: string;
}

/** Checks an interpolated compose document and turns it into a ComposeProject. */
export function normalizeProject(doc: unknown, ctx: NormalizeContext): ComposeProject {
  if (!isObj(doc)) fail('compose file', 'the top level must be a map with a "services" key');
  const warnings: string[] = [];
  for (const key of Object.keys(doc)) {
    if (key.startsWith('x-') || ['services', 'volumes', 'networks', 'name', 'version'].includes(key)) continue;
    if (key === 'secrets' || key === 'configs') throw unsupported(`compose file: top-level ${key} are not supported; mount files with bind volumes instead`);
    fail('compose file', `unknown top-level key "${key}" (expected services, volumes, networks, name)`);
  }
  if (doc.version !== undefined) warnings.push('the top-level "version" key is obsolete and ignored');
  const volumes: Record<string, VolumeConfig> = {};
  const vdoc = doc.volumes ?? {};
  if (!isObj(vdoc)) fail('volumes', 'expected a map of volume names');
  for (const [key, v] of Object.entries(vdoc)) {
    const where = `volumes.${key}`;
    const o = v ?? {};
    if (!isObj(o)) fail(where, 'expected a map (or nothing)');
    for (const k of Object.keys(o)) if (!['external', 'name', 'driver', 'labels', 'driver_opts'].includes(k) && !k.startsWith('x-')) fail(where, `unknown key "${k}"`);
    if (o.driver !== undefined && o.driver !== 'local') throw unsupported(`${where}: volume driver "${String(o.driver)}" is not supported; skiff has local volumes only`);
    if (o.driver_opts !== undefined) throw unsupported(`${where}: driver_opts are not supported`);
    const external = o.external === undefined ? false : bool(isObj(o.external) ? true : o.external, `${where}.external`);
    const name = o.name !== undefined ? str(o.name, `${where}.name`) : external ? key : `${ctx.projectName}_${key}`;
    volumes[key] = { name, external };
  }
  const ndoc = doc.networks ?? {};
  if (!isObj(ndoc)) fail('networks', 'expected a map of network names');
  for (const key of Object.keys(ndoc)) {
    if (key !== 'default') warnings.push(`network "${key}": skiff gives each project one shared network; every service is on it`);
  }
  const sdoc = doc.services;
  if (!isObj(sdoc) || Object.keys(sdoc).length === 0) fail('compose file', 'no services: add a "services" map with at least one service');
  const services: Record<string, ServiceConfig> = {};
  for (const [name, s] of Object.entries(sdoc)) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) fail(`services.${name}`, 'a service name uses only letters, digits, "_", "." and "-"');
    services[name] = normalizeService(name, s, ctx, volumes, warnings);
  }
  for (const s of Object.values(services)) {
    for (const dep of Object.keys(s.dependsOn)) {
      if (!services[dep]) fail(`services.${s.name}.depends_on`, `service "${dep}" is not defined`);
    }
    const m = /^service:(.+)$/.exec(s.networkMode ?? '');
    if (m && !services[m[1]!]) fail(`services.${s.name}.network_mode`, `service "${m[1]}" is not defined`);
  }
  return { name: ctx.projectName, dir: ctx.dir, services, volumes, warnings };
}

function normalizeService(name: string, raw: unknown, ctx: NormalizeContext, volumes: Record<string, VolumeConfig>, warnings: string[]): ServiceConfig {
  const at = `services.${name}`;
  if (!isObj(raw)) fail(at, 'expected a map');
  for (const key of Object.keys(raw)) {
    if (key.startsWith('x-') || SERVICE_KEYS.has(key)) continue;
    if (REFUSED_SERVICE_KEYS[key]) throw unsupported(`${at}.${key}: ${REFUSED_SERVICE_KEYS[key]}`);
    fail(at, `unknown key "${key}"`);
  }
  if (raw.image === undefined && raw.build === undefined) fail(at, 'needs an image or a build');
  const create: ServiceConfig['create'] = {};
  const s: ServiceConfig = { name, dependsOn: {}, create, extraHosts: [], profiles: [] };
  if (raw.image !== undefined) s.image = str(raw.image, `${at}.image`);
  if (raw.build !== undefined) {
    const b = typeof raw.build === 'string' ? { context: raw.build } : raw.build;
    if (!isObj(b)) fail(`${at}.build`, 'expected a path or a map with context');
    for (const k of Object.keys(b)) if (!['context', 'dockerfile', 'args', 'target', 'labels'].includes(k) && !k.startsWith('x-')) throw unsupported(`${at}.build.${k} is not supported (skiff reads context, dockerfile, args and target)`);
    s.build = {
      context: resolvePath(ctx.dir, b.context === undefined ? '.' : str(b.context, `${at}.build.context`), ctx.home),
      args: keyValues(b.args, `${at}.build.args`, ctx.lookupEnv),
    };
    if (b.dockerfile !== undefined) s.build.dockerfile = str(b.dockerfile, `${at}.build.dockerfile`);
    if (b.target !== undefined) s.build.target = str(b.target, `${at}.build.target`);
  }
  if (raw.command !== undefined && raw.command !== null) create.cmd = command(raw.command, `${at}.command`);
  if (raw.entrypoint !== undefined && raw.entrypoint !== null) create.entrypoint = command(raw.entrypoint, `${at}.entrypoint`);
  // env_file first, then environment over it, as compose does.
  const env: Record<string, string> = {};
  if (raw.env_file !== undefined) {
    const files = Array.isArray(raw.env_file) ? raw.env_file : [raw.env_file];
    files.forEach((f, i) => {
      const where = `${at}.env_file[${i}]`;
      const path = resolvePath(ctx.dir, isObj(f) ? str(f.path, `${where}.path`) : str(f, where), ctx.home);
      const required = isObj(f) && f.required !== undefined ? bool(f.required, `${where}.required`) : true;
      const vars = ctx.readEnvFile(path);
      if (!vars) {
        if (required) fail(where, `env file ${path} not found`);
        return;
      }
      Object.assign(env, vars);
    });
  }
  Object.assign(env, keyValues(raw.environment, `${at}.environment`, ctx.lookupEnv));
  if (Object.keys(env).length) create.env = env;
  if (raw.working_dir !== undefined) create.workingDir = str(raw.working_dir, `${at}.working_dir`);
  if (raw.user !== undefined) create.user = str(raw.user, `${at}.user`);
  if (raw.hostname !== undefined) create.hostname = str(raw.hostname, `${at}.hostname`);
  if (raw.container_name !== undefined) s.containerName = str(raw.container_name, `${at}.container_name`);
  const labels = keyValues(raw.labels, `${at}.labels`, () => '');
  if (Object.keys(labels).length) create.labels = labels;
  if (raw.volumes !== undefined) {
    if (!Array.isArray(raw.volumes)) fail(`${at}.volumes`, 'expected a list');
    const specs: string[] = [];
    const tmpfs: string[] = [];
    raw.volumes.forEach((v, i) => {
      const where = `${at}.volumes[${i}]`;
      const spec = volumeSpec(v, where, ctx, volumes);
      if (spec.tmpfs) tmpfs.push(spec.tmpfs);
      else specs.push(spec.volume!);
    });
    if (specs.length) create.volumes = specs;
    if (tmpfs.length) create.tmpfs = tmpfs;
  }
  if (raw.tmpfs !== undefined) create.tmpfs = [...(create.tmpfs ?? []), ...strList(raw.tmpfs, `${at}.tmpfs`)];
  if (raw.ports !== undefined) {
    if (!Array.isArray(raw.ports)) fail(`${at}.ports`, 'expected a list');
    create.ports = raw.ports.map((p, i) => portSpec(p, `${at}.ports[${i}]`));
  }
  if (raw.read_only !== undefined) create.readOnly = bool(raw.read_only, `${at}.read_only`);
  if (raw.privileged !== undefined) create.privileged = bool(raw.privileged, `${at}.privileged`);
  if (raw.init !== undefined) create.init = bool(raw.init, `${at}.init`);
  if (raw.cap_add !== undefined) create.capAdd = strList(raw.cap_add, `${at}.cap_add`);
  if (raw.cap_drop !== undefined) create.capDrop = strList(raw.cap_drop, `${at}.cap_drop`);
  // seccomp=FILE (relative to the project directory) is sent as the file's JSON, as docker compose does.
  if (raw.security_opt !== undefined) {
    create.securityOpt = inlineSeccompFiles(strList(raw.security_opt, `${at}.security_opt`), (p) => {
      const text = ctx.readText?.(resolvePath(ctx.dir, p, ctx.home));
      if (text === undefined) throw new Error(`${at}.security_opt: no file ${resolvePath(ctx.dir, p, ctx.home)}`);
      return text;
    });
    parseSecurityOpts(create.securityOpt);
  }
  if (raw.mem_limit !== undefined) create.memory = str(raw.mem_limit, `${at}.mem_limit`);
  if (raw.cpus !== undefined) {
    const n = Number(raw.cpus);
    if (!(n > 0)) fail(`${at}.cpus`, `expected a positive number, got ${JSON.stringify(raw.cpus)}`);
    create.cpus = n;
  }
  if (raw.pids_limit !== undefined) create.pidsLimit = Number(raw.pids_limit);
  if (raw.memswap_limit !== undefined) create.memorySwap = str(raw.memswap_limit, `${at}.memswap_limit`);
  if (raw.mem_reservation !== undefined) create.memoryReservation = str(raw.mem_reservation, `${at}.mem_reservation`);
  const int = (key: string) => wholeNumber(raw[key], `${at}.${key}`);
  if (raw.cpu_shares !== undefined) create.cpuShares = int('cpu_shares');
  if (raw.cpu_quota !== undefined) create.cpuQuota = int('cpu_quota');
  if (raw.cpu_period !== undefined) create.cpuPeriod = int('cpu_period');
  if (raw.cpuset !== undefined) create.cpusetCpus = str(raw.cpuset, `${at}.cpuset`);
  if (raw.tty !== undefined) create.tty = bool(raw.tty, `${at}.tty`);
  if (raw.stdin_open !== undefined) create.openStdin = bool(raw.stdin_open, `${at}.stdin_open`);
  if (raw.platform !== undefined) create.platform = str(raw.platform, `${at}.platform`);
  if (raw.runtime !== undefined) create.backend = str(raw.runtime, `${at}.runtime`);
  if (raw.network_mode !== undefined) {
    const mode = str(raw.network_mode, `${at}.network_mode`);
    if (!['host', 'none', 'bridge', 'default'].includes(mode) && !/^(service|container):.+/.test(mode)) throw unsupported(`${at}.network_mode "${mode}" is not supported: use host, none, service:NAME or container:NAME`);
    if (raw.networks !== undefined) fail(at, 'network_mode and networks cannot both be set');
    s.networkMode = mode === 'bridge' || mode === 'default' ? undefined : mode;
    if (s.networkMode === undefined) delete s.networkMode;
  }
  if (raw.depends_on !== undefined) {
    if (Array.isArray(raw.depends_on)) for (const d of strList(raw.depends_on, `${at}.depends_on`)) s.dependsOn[d] = { condition: 'service_started', required: true };
    else if (isObj(raw.depends_on)) {
      for (const [d, v] of Object.entries(raw.depends_on)) {
        const o = v ?? {};
        if (!isObj(o)) fail(`${at}.depends_on.${d}`, 'expected a map with condition');
        const condition = (o.condition ?? 'service_started') as DependencyCondition;
        if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) fail(`${at}.depends_on.${d}.condition`, `unknown condition "${String(condition)}"`);
        s.dependsOn[d] = { condition, required: o.required === undefined ? true : bool(o.required, `${at}.depends_on.${d}.required`) };
      }
    } else fail(`${at}.depends_on`, 'expected a list or a map');
    if (s.dependsOn[name]) fail(`${at}.depends_on`, 'a service cannot depend on itself');
  }
  if (raw.stop_signal !== undefined) s.stopSignal = str(raw.stop_signal, `${at}.stop_signal`);
  if (raw.stop_grace_period !== undefined) s.stopGracePeriodSec = durationSec(raw.stop_grace_period, `${at}.stop_grace_period`);
  // At create time too, as docker compose does, so a docker stop from outside uses them.
  if (s.stopSignal !== undefined) create.stopSignal = s.stopSignal;
  if (s.stopGracePeriodSec !== undefined) create.stopTimeout = Math.ceil(s.stopGracePeriodSec);
  processSettings(raw, at, create);
  if (raw.extra_hosts !== undefined) {
    s.extraHosts = Array.isArray(raw.extra_hosts) ? strList(raw.extra_hosts, `${at}.extra_hosts`) : Object.entries(keyValues(raw.extra_hosts, `${at}.extra_hosts`, () => undefined)).map(([h, ip]) => `${h}:${ip}`);
  }
  if (raw.profiles !== undefined) s.profiles = strList(raw.profiles, `${at}.profiles`);
  if (raw.restart !== undefined && !['no', 'false'].includes(String(raw.restart))) create.restartPolicy = parseRestartPolicy(str(raw.restart, `${at}.restart`));
  if (raw.healthcheck !== undefined) create.healthcheck = healthcheck(raw.healthcheck, `${at}.healthcheck`);
  if (raw.logging !== undefined) create.logConfig = logging(raw.logging, `${at}.logging`);
  if (raw.deploy !== undefined) warnings.push(`${at}.deploy: skiff is not a swarm; use mem_limit, cpus, pids_limit and the like for limits`);
  if (raw.expose !== undefined) strList(Array.isArray(raw.expose) ? raw.expose.map(String) : String(raw.expose), `${at}.expose`);
  if (raw.networks !== undefined && !(Array.isArray(raw.networks) || isObj(raw.networks))) fail(`${at}.networks`, 'expected a list or a map');
  return s;
}

/** ulimits, shm_size, pid, ipc, uts, cgroup, group_add, dns*, oom_score_adj: docker's --ulimit, --shm-size and the rest. */
function processSettings(raw: Obj, at: string, create: Omit<CreateOptions, 'image' | 'name'>): void {
  if (raw.ulimits !== undefined) {
    if (!isObj(raw.ulimits)) fail(`${at}.ulimits`, 'expected a map of name: limit or name: {soft, hard}');
    create.ulimits = Object.entries(raw.ulimits).map(([name, v]) => {
      const where = `${at}.ulimits.${name}`;
      if (isObj(v)) {
        for (const k of Object.keys(v)) if (k !== 'soft' && k !== 'hard') fail(where, `unknown key "${k}" (expected soft and hard)`);
        return { name, soft: wholeNumber(v.soft, `${where}.soft`), hard: wholeNumber(v.hard, `${where}.hard`) };
      }
      const single = wholeNumber(v, where);
      return { name, soft: single, hard: single };
    });
  }
  if (raw.shm_size !== undefined) create.shmSize = typeof raw.shm_size === 'number' ? raw.shm_size : str(raw.shm_size, `${at}.shm_size`);
  if (raw.pid !== undefined) create.pidMode = str(raw.pid, `${at}.pid`);
  if (raw.ipc !== undefined) create.ipcMode = str(raw.ipc, `${at}.ipc`);
  if (raw.uts !== undefined) create.utsMode = str(raw.uts, `${at}.uts`);
  if (raw.cgroup !== undefined) create.cgroupnsMode = str(raw.cgroup, `${at}.cgroup`);
  if (raw.group_add !== undefined) create.groupAdd = strList(raw.group_add, `${at}.group_add`);
  const listOrOne = (key: string) => strList(raw[key], `${at}.${key}`);
  if (raw.dns !== undefined) create.dns = listOrOne('dns');
  if (raw.dns_search !== undefined) create.dnsSearch = listOrOne('dns_search');
  if (raw.dns_opt !== undefined) create.dnsOptions = listOrOne('dns_opt');
  if (raw.domainname !== undefined) create.domainname = str(raw.domainname, `${at}.domainname`);
  if (raw.sysctls !== undefined) {
    const v = raw.sysctls;
    let given: Record<string, string> | string[];
    if (Array.isArray(v)) given = strList(v, `${at}.sysctls`);
    else if (v && typeof v === 'object') given = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, typeof x === 'number' ? String(x) : str(x, `${at}.sysctls.${k}`)]));
    else fail(`${at}.sysctls`, 'expected a map or a list of KEY=VALUE');
    // The keys are checked here; the network and IPC modes when the container is made.
    try {
      create.sysctls = parseSysctls(given, {});
    } catch (err) {
      fail(`${at}.sysctls`, (err as Error).message);
    }
  }
  if (raw.oom_score_adj !== undefined) create.oomScoreAdj = wholeNumber(raw.oom_score_adj, `${at}.oom_score_adj`);
}

/** compose's logging: driver and options, as `--log-driver`/`--log-opt` (checked by the Engine at create). */
function logging(v: unknown, where: string): NonNullable<CreateOptions['logConfig']> {
  if (!isObj(v)) fail(where, 'expected a map with driver and options');
  for (const k of Object.keys(v)) if (k !== 'driver' && k !== 'options') fail(where, `unknown key "${k}"`);
  const out: NonNullable<CreateOptions['logConfig']> = { config: {} };
  if (v.driver !== undefined) out.type = str(v.driver, `${where}.driver`);
  if (v.options !== undefined && v.options !== null) {
    if (!isObj(v.options)) fail(`${where}.options`, 'expected a map, e.g. max-size: 10m');
    for (const [k, o] of Object.entries(v.options)) out.config![k] = str(o, `${where}.options.${k}`);
  }
  return out;
}

/** compose's healthcheck: test (string: CMD-SHELL), durations as strings, disable. */
function healthcheck(v: unknown, where: string): HealthConfig {
  if (!isObj(v)) fail(where, 'expected a map');
  for (const k of Object.keys(v)) if (!['test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'disable'].includes(k)) fail(where, `unknown key "${k}"`);
  if (v.disable !== undefined && bool(v.disable, `${where}.disable`)) return { Test: ['NONE'] };
  const h: HealthConfig = {};
  if (v.test !== undefined) {
    if (typeof v.test === 'string') h.Test = ['CMD-SHELL', v.test];
    else {
      const test = strList(v.test, `${where}.test`);
      if (!['CMD', 'CMD-SHELL', 'NONE'].includes(test[0] ?? '')) fail(`${where}.test`, 'a list starts with CMD, CMD-SHELL or NONE');
      h.Test = test;
    }
  }
  const ns = (k: string) => Math.round(durationSec(v[k], `${where}.${k}`) * 1e9);
  if (v.interval !== undefined) h.Interval = ns('interval');
  if (v.timeout !== undefined) h.Timeout = ns('timeout');
  if (v.start_period !== undefined) h.StartPeriod = ns('start_period');
  if (v.start_interval !== undefined) h.StartInterval = ns('start_interval');
  if (v.retries !== undefined) h.Retries = Number(v.retries);
  return h;
}

function volumeSpec(v: unknown, where: string, ctx: NormalizeContext, volumes: Record<string, VolumeConfig>): { volume?: string; tmpfs?: string } {
  const named = (key: string) => {
    const vol = volumes[key];
    if (!vol) fail(where, `named volume "${key}" is not declared under the top-level volumes key`);
    return vol.name;
  };
  if (typeof v === 'string') {
    const parts = v.split(':');
    if (parts.length === 1) return { volume: parts[0]! };
    const [source, target, mode] = parts as [string, string, string?];
    if (parts.length > 3 || !target) fail(where, `invalid volume "${v}": use SOURCE:TARGET[:ro|rw] or TARGET`);
    const isPath = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
    const src = isPath ? resolvePath(ctx.dir, source, ctx.home) : named(source);
    const ro = mode === undefined ? '' : mode.split(',').includes('ro') ? ':ro' : mode.split(',').every((m) => ['rw', 'z', 'Z'].includes(m)) ? '' : fail(where, `unknown volume mode "${mode}"`);
    return { volume: `${src}:${target}${ro}` };
  }
  if (!isObj(v)) fail(where, 'expected a string or a map');
  const type = str(v.type ?? 'volume', `${where}.type`);
  const target = str(v.target, `${where}.target`);
  const ro = v.read_only !== undefined && bool(v.read_only, `${where}.read_only`) ? ':ro' : '';
  if (type === 'tmpfs') {
    // tmpfs: {size, mode} as --tmpfs TARGET:size=...,mode=... (mode as written: 1777).
    const t = v.tmpfs ?? {};
    if (!isObj(t)) fail(`${where}.tmpfs`, 'expected a map with size and mode');
    for (const k of Object.keys(t)) if (k !== 'size' && k !== 'mode') fail(`${where}.tmpfs`, `unknown key "${k}" (expected size and mode)`);
    const options = [...(t.size !== undefined ? [`size=${str(t.size, `${where}.tmpfs.size`)}`] : []), ...(t.mode !== undefined ? [`mode=${str(t.mode, `${where}.tmpfs.mode`)}`] : [])];
    return { tmpfs: options.length ? `${target}:${options.join(',')}` : target };
  }
  if (type === 'bind') return { volume: `${resolvePath(ctx.dir, str(v.source, `${where}.source`), ctx.home)}:${target}${ro}` };
  if (type === 'volume') return { volume: v.source === undefined ? target : `${named(str(v.source, `${where}.source`))}:${target}${ro}` };
  throw unsupported(`${where}: volume type "${type}" is not supported (use volume, bind or tmpfs)`);
}

function portSpec(p: unknown, where: string): string {
  if (typeof p === 'number') return String(p);
  if (typeof p === 'string') return p;
  if (!isObj(p)) fail(where, 'expected a port spec string or a map with target');
  const target = str(p.target, `${where}.target`);
  const published = p.published === undefined ? '' : str(p.published, `${where}.published`);
  const ip = p.host_ip === undefined ? '' : str(p.host_ip, `${where}.host_ip`);
  const proto = p.protocol === undefined ? 'tcp' : str(p.protocol, `${where}.protocol`);
  return `${ip.includes(':') ? `[${ip}]` : ip}${ip || published ? ':' : ''}${published}${ip || published ? ':' : ''}${target}/${proto}`;
}
