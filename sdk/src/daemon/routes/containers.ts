/**
 * Containers: create, start, attach (hijacked), wait, logs, list, inspect,
 * top, stats, kill, stop, restart, remove, prune (files: routes/archive.ts).
 */
import { cpus, totalmem } from 'node:os';
import { conflict, invalidArgument, isSkiffError, notFound } from '../../errors/index.js';
import { familiarName, parseReference } from '../../image/reference.js';
import { logTimestamp, splitLines, type LogEntry } from '../../runtime/logs.js';
import { concat } from '../../content/util.js';
import type { ContainerRecord } from '../../runtime/records.js';
import type { WaitCondition } from '../../runtime/engine.js';
import { encodeFrames, MULTIPLEXED, RAW_STREAM } from '../../client/stdcopy.js';
import type { Router } from '../router.js';
import type { DaemonContext } from '../context.js';
import type { Exchange, ResponseStream } from '../exchange.js';
import { createOptionsFrom, type DockerCreateBody } from '../create-body.js';
import { updateOptionsFrom, type DockerUpdateBody } from '../update-body.js';
import { ttySize } from './exec.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys, watchDetachKeys } from '../detach-keys.js';
import { containerInspect, containerSummary, ZERO_TIME } from '../container-json.js';
import { createdWindow, labelsMatch, parseFilters, untilOf, type Filters } from '../filters.js';
import { containerSizes } from '../container-files.js';
import { formatCpuTime, processTree, systemCpuNanos } from '../proc.js';
import { psTop } from '../ps-top.js';

const enc = new TextEncoder();

/** Writes log entries as frames (no TTY) or raw bytes (TTY), optionally with timestamps. */
export async function writeEntries(out: ResponseStream, entries: ReadableStream<LogEntry>, o: { tty: boolean; stdout: boolean; stderr: boolean; timestamps?: boolean; until?: Promise<unknown> }): Promise<void> {
  const reader = entries.getReader();
  const stop = () => void reader.cancel().catch(() => {});
  void out.closed.then(stop);
  void o.until?.then(stop);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || out.isClosed) break;
      if (value.stream === 'stdout' ? !o.stdout : !o.stderr) continue;
      const pieces = o.timestamps ? splitLines([value]).map((l) => concat([enc.encode(`${logTimestamp(l)} `), l.data])) : [value.data];
      for (const data of pieces) await out.write(o.tty ? data : encodeFrames(value.stream, data));
    }
  } finally {
    stop();
  }
}

async function osOf(ctx: DaemonContext, r: ContainerRecord): Promise<string> {
  return ctx.engine.backends.find((b) => b.name === r.backend)?.platforms[0]?.os ?? 'linux';
}

export async function inspectJson(ctx: DaemonContext, r: ContainerRecord) {
  return containerInspect({
    record: r,
    extras: ctx.extras.load(r.id),
    image: await ctx.imageConfig(r.imageId),
    volumes: ctx.engine.volumes,
    os: await osOf(ctx, r),
    execIds: [...ctx.execs.values()].filter((e) => e.containerId === r.id).map((e) => e.id),
    logPath: ctx.engine.logPath(r),
  });
}

function matchesFilters(r: ContainerRecord, f: Filters): boolean {
  const any = (key: string, test: (v: string) => boolean) => !f[key]?.length || f[key]!.some(test);
  const nameMatches = (v: string) => {
    try {
      return new RegExp(v.replace(/^\//, '')).test(r.name);
    } catch {
      return r.name.includes(v);
    }
  };
  const imageMatches = (v: string) => {
    if (r.image === v || r.imageId === v || r.imageId.slice(7).startsWith(v.replace(/^sha256:/, ''))) return true;
    try {
      return familiarName(parseReference(r.image)) === familiarName(parseReference(v));
    } catch {
      return false;
    }
  };
  return (
    any('status', (v) => v === r.state.status) &&
    any('id', (v) => r.id.startsWith(v)) &&
    any('name', nameMatches) &&
    any('ancestor', imageMatches) &&
    any('exited', (v) => r.state.status === 'exited' && String(r.state.exitCode) === v) &&
    any('volume', (v) => r.mounts.some((m) => m.source === v || m.target === v)) &&
    any('network', (v) => v === (r.network === 'host' ? 'host' : 'none') || (r.networks ?? []).some((a) => a.name === v)) &&
    any('health', (v) => v === (r.state.status === 'running' ? (r.state.health?.status ?? 'none') : 'none')) &&
    labelsMatch(r.labels, f)
  );
}

/** The containers filters dockerd takes: skiff's, and those it refuses. */
const CONTAINER_FILTERS = ['status', 'id', 'name', 'ancestor', 'exited', 'volume', 'network', 'health', 'label', 'before', 'since', 'expose', 'publish'];
const CONTAINER_FILTERS_NOT_HERE = ['isolation', 'is-task'];

/** A publish or expose filter's value, PORT[/PROTO] or START-END[/PROTO] (tcp when not given), as docker ps takes it. */
function portFilter(v: string): (port: number, proto: string) => boolean {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(v);
  if (!m) throw invalidArgument(`invalid port filter "${v}": give PORT[/PROTO] or START-END[/PROTO], e.g. 80/tcp or 8000-8080`);
  const lo = Number(m[1]);
  const hi = Number(m[2] ?? m[1]);
  const proto = m[3] ?? 'tcp';
  return (port, p) => p === proto && port >= lo && port <= hi;
}

/**
 * publish: a container port it publishes; expose: one its config exposes (the
 * image's, --expose and -p). As in dockerd, these are the ports of a running
 * container's network: one that is not running matches neither.
 */
async function portsMatch(ctx: DaemonContext, r: ContainerRecord, f: Filters): Promise<boolean> {
  if (r.state.status !== 'running') return false;
  const published = (r.state.ports ?? []).map((p) => [p.containerPort, p.protocol] as const);
  if (f.publish?.length && !f.publish.map(portFilter).some((ok) => published.some(([n, p]) => ok(n, p)))) return false;
  if (!f.expose?.length) return true;
  const exposed = Object.keys(((await inspectJson(ctx, r)).Config as { ExposedPorts?: Record<string, unknown> }).ExposedPorts ?? {}).map((k) => {
    const [n, p] = k.split('/');
    return [Number(n), p ?? 'tcp'] as const;
  });
  return f.expose.map(portFilter).some((ok) => exposed.some(([n, p]) => ok(n, p)));
}

/** The container for `{id}`: its record, 404 when there is none. */
async function recordOf(x: Exchange, ctx: DaemonContext): Promise<ContainerRecord> {
  return ctx.engine.record(x.params.id!);
}

async function stopTimeout(x: Exchange): Promise<number | undefined> {
  const t = x.int('t') ?? x.int('timeout');
  if (t !== undefined) return t < 0 ? undefined : t;
  // testcontainers sends {"t":0} in the body as well.
  const body = await x.json<{ t?: number }>().catch(() => undefined);
  return typeof body?.t === 'number' && body.t >= 0 ? body.t : undefined;
}

function statsJson(r: ContainerRecord, s: { memoryBytes?: number; memoryLimitBytes?: number; cpuNanos?: number; pids?: number }, pre: Record<string, unknown> | undefined) {
  const cpu = {
    cpu_usage: { total_usage: s.cpuNanos ?? 0, usage_in_kernelmode: 0, usage_in_usermode: s.cpuNanos ?? 0 },
    system_cpu_usage: systemCpuNanos(),
    online_cpus: cpus().length,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
  return {
    read: new Date().toISOString(),
    preread: (pre?.read as string | undefined) ?? ZERO_TIME,
    pids_stats: s.pids !== undefined ? { current: s.pids } : {},
    blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    precpu_stats: (pre?.cpu_stats as object | undefined) ?? { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: s.memoryBytes !== undefined ? { usage: s.memoryBytes, limit: s.memoryLimitBytes ?? r.resources.memoryBytes ?? totalmem(), stats: {} } : {},
    name: `/${r.name}`,
    id: r.id,
  };
}

export function containerRoutes(r: Router<DaemonContext>): void {
  r.add('POST', '/containers/create', async (x, ctx) => {
    const body = (await x.json<DockerCreateBody>()) ?? {};
    const { options, extras } = createOptionsFrom(body, { name: x.str('name'), platform: x.str('platform') });
    let id: string;
    try {
      id = (await ctx.engine.create(options)).id;
    } catch (err) {
      // The CLI and testcontainers pull and retry on a 404 that says the image is missing.
      if (isSkiffError(err, 'NOT_FOUND') || isSkiffError(err, 'INVALID_ARGUMENT')) {
        const missing = await ctx.engine.images.lookup(options.image).then(() => false, (e) => isSkiffError(e, 'NOT_FOUND'));
        if (missing) throw notFound(`No such image: ${familiarName(parseReference(options.image))}`, err);
      }
      throw err;
    }
    const rec = await ctx.engine.record(id);
    const image = await ctx.imageConfig(rec.imageId);
    extras.exposedPorts = { ...(image?.config?.ExposedPorts ?? {}), ...extras.exposedPorts };
    ctx.extras.save(id, extras);
    ctx.events.emit('container', 'create', id, ctx.containerAttributes(rec));
    x.sendJson(201, { Id: id, Warnings: [] });
  });

  r.add('GET', '/containers/json', async (x, ctx) => {
    const f = parseFilters(x.query.get('filters'), CONTAINER_FILTERS, CONTAINER_FILTERS_NOT_HERE);
    const all = x.bool('all') || !!f.status?.length || !!f.before?.length || !!f.since?.length;
    const inWindow = await createdWindow(f, async (v) => Date.parse((await ctx.engine.record(v)).created));
    let list = (await ctx.engine.list({ all })).filter((c) => matchesFilters(c, f) && inWindow(Date.parse(c.created)));
    if (f.publish?.length || f.expose?.length) {
      const keep = await Promise.all(list.map((c) => portsMatch(ctx, c, f)));
      list = list.filter((_, i) => keep[i]);
    }
    const limit = x.int('limit');
    if (limit !== undefined && limit > 0) list = list.slice(0, limit);
    const sizes = x.bool('size') ? containerSizes(ctx.engine, await ctx.engine.images.list()) : undefined;
    x.sendJson(200, await Promise.all(list.map(async (c) => ({ ...(await containerSummary(c, ctx.extras.load(c.id), ctx.engine.volumes)), ...(sizes ? await sizes(c) : {}) }))));
  });

  r.add('POST', '/containers/prune', async (x, ctx) => {
    const f = parseFilters(x.query.get('filters'), ['label', 'label!', 'until']);
    const until = untilOf(f);
    const deleted: string[] = [];
    for (const c of await ctx.engine.list({ all: true })) {
      if (c.state.status === 'running') continue;
      if (!labelsMatch(c.labels, f) || Date.parse(c.created) >= until) continue;
      await ctx.engine.remove(c.id).catch(() => {});
      ctx.forget(c.id);
      ctx.events.emit('container', 'destroy', c.id, ctx.containerAttributes(c));
      deleted.push(c.id);
    }
    x.sendJson(200, { ContainersDeleted: deleted, SpaceReclaimed: 0 });
  });

  r.add('GET', '/containers/:id/json', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    x.sendJson(200, { ...(await inspectJson(ctx, rec)), ...(x.bool('size') ? await containerSizes(ctx.engine, await ctx.engine.images.list())(rec) : {}) });
  });

  r.add('POST', '/containers/:id/start', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    if (rec.state.status === 'running') return x.noContent(304);
    const stdin = ctx.pendingStdin.get(rec.id);
    ctx.pendingStdin.delete(rec.id);
    try {
      await ctx.engine.start(rec.id, stdin ? { stdin } : {});
    } catch (err) {
      // As dockerd: a container that cannot start has exit code 127 (or 126), and goes if it was --rm.
      const exitCode = isSkiffError(err, 'NOT_FOUND') ? 127 : 126;
      if (rec.autoRemove) {
        await ctx.engine.remove(rec.id, { force: true, volumes: true }).catch(() => {});
        ctx.forget(rec.id);
      }
      ctx.failStart(rec.id, { exitCode, error: (err as Error).message });
      throw err;
    }
    ctx.events.emit('container', 'start', rec.id, ctx.containerAttributes(rec));
    ctx.watch(rec.id);
    x.noContent();
  });

  r.add('POST', '/containers/:id/attach', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    const wantStdin = x.bool('stdin');
    const keys = parseDetachKeys(x.str('detachKeys') || DEFAULT_DETACH_KEYS);
    const stdout = x.bool('stdout');
    const stderr = x.bool('stderr');
    // Subscribe before answering: output produced after a start must reach this client.
    const live = x.bool('stream') ? await ctx.engine.attach(rec.id) : undefined;
    const past = x.bool('logs') ? await ctx.engine.logs(rec.id) : undefined;
    const conn = x.hijack(rec.tty ? RAW_STREAM : MULTIPLEXED);
    let detached: Promise<boolean> | undefined;
    if (wantStdin && conn.input && rec.openStdin) {
      // The detach keys (ctrl-p,ctrl-q) end this attach and leave the container running.
      const watched = watchDetachKeys(conn.input, keys);
      detached = watched.detached;
      if (rec.state.status !== 'running') ctx.pendingStdin.set(rec.id, watched.input);
      // One more attacher of the running process's stdin: its end detaches it (or closes stdin with StdinOnce).
      else void ctx.engine.attachStdin(rec.id, watched.input).catch(() => {});
    }
    const o = { tty: rec.tty, stdout, stderr, ...(detached ? { until: detached.then((d) => (d ? true : new Promise<never>(() => {}))) } : {}) };
    if (past) await writeEntries(conn, past, o);
    if (live) await writeEntries(conn, live, o);
    conn.end();
  });

  r.add('POST', '/containers/:id/wait', async (x, ctx) => {
    const condition = (x.str('condition') ?? 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalidArgument(`invalid condition "${condition}": use not-running, next-exit or removed`);
    const rec = await recordOf(x, ctx);
    // Register first, then send the head: the CLI starts the container once it has the head.
    const failure = ctx.startFailure(rec.id);
    const waiting = Promise.race([ctx.engine.wait(rec.id, condition), failure.failed]);
    const out = x.stream(200, { 'Content-Type': 'application/json' });
    let body: object;
    try {
      const status = await waiting;
      body = { StatusCode: status.exitCode, Error: null };
    } catch (err) {
      body = { StatusCode: -1, Error: { Message: (err as Error).message } };
    } finally {
      failure.cancel();
    }
    await out.write(JSON.stringify(body) + '\n');
    out.end();
  });

  r.add('GET', '/containers/:id/logs', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    const stdout = x.bool('stdout');
    const stderr = x.bool('stderr');
    if (!stdout && !stderr) throw invalidArgument('you must choose at least one stream (stdout or stderr)');
    const tailRaw = x.str('tail');
    const tail = tailRaw === undefined || tailRaw === 'all' ? undefined : Number(tailRaw);
    if (tail !== undefined && !Number.isFinite(tail)) throw invalidArgument(`invalid tail "${tailRaw}": use a number or all`);
    const seconds = (name: string) => {
      const v = x.str(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) throw invalidArgument(`invalid ${name} "${v}": expected a unix timestamp in seconds`);
      return n > 0 ? n * 1000 : undefined;
    };
    const since = seconds('since');
    const until = seconds('until');
    const entries = await ctx.engine.logs(rec.id, {
      follow: x.bool('follow'),
      ...(tail !== undefined && tail >= 0 ? { tail } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
    });
    const out = x.stream(200, { 'Content-Type': rec.tty ? RAW_STREAM : MULTIPLEXED });
    await writeEntries(out, entries, { tty: rec.tty, stdout, stderr, timestamps: x.bool('timestamps') });
    out.end();
  });

  r.add('GET', '/containers/:id/top', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    if (rec.state.status !== 'running') throw conflict(`container ${rec.id} is not running`);
    const titles = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'];
    const pid = rec.state.pid;
    if (pid === undefined) {
      // In-process backends (WASI) have no host process to list: one row for the main process.
      return x.sendJson(200, { Titles: titles, Processes: [['root', '-', '-', '0', rec.state.startedAt?.slice(11, 16) ?? '', '?', '00:00:00', [rec.path, ...rec.args].join(' ')]] });
    }
    const tree = processTree(pid);
    const psArgs = x.query.get('ps_args') ?? '';
    // With options (docker top NAME -o pid,comm), the host's ps as dockerd runs it; without, the same columns from /proc.
    if (psArgs.trim() !== '' && psArgs.trim() !== '-ef') return x.sendJson(200, await psTop(psArgs, new Set(tree.map((p) => p.pid))));
    const procs = tree.map((p) => [String(p.uid === 0 ? 'root' : p.uid), String(p.pid), String(p.ppid), '0', rec.state.startedAt?.slice(11, 16) ?? '', '?', formatCpuTime(p.ticks), p.cmd]);
    x.sendJson(200, { Titles: titles, Processes: procs });
  });

  r.add('GET', '/containers/:id/stats', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    const stream = x.bool('stream', true) && !x.bool('one-shot');
    if (!stream) {
      const s = await ctx.engine.stats(rec.id);
      return x.sendJson(200, statsJson(rec, s, undefined));
    }
    const out = x.stream(200, { 'Content-Type': 'application/json' });
    let pre: Record<string, unknown> | undefined;
    while (!out.isClosed) {
      const cur = await ctx.engine.record(rec.id).catch(() => undefined);
      if (!cur) break;
      const s = await ctx.engine.stats(rec.id).catch(() => ({}));
      const j = statsJson(cur, s, pre);
      await out.write(JSON.stringify(j) + '\n');
      pre = j;
      if (cur.state.status !== 'running') break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    out.end();
  });

  r.add('POST', '/containers/:id/kill', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    const signal = x.str('signal') ?? 'SIGKILL';
    if (rec.state.status !== 'running') throw conflict(`Cannot kill container: ${x.params.id}: container ${rec.id} is not running`);
    await ctx.engine.kill(rec.id, signal);
    ctx.events.emit('container', 'kill', rec.id, { ...ctx.containerAttributes(rec), signal });
    x.noContent();
  });

  r.add('POST', '/containers/:id/stop', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    const timeoutSec = await stopTimeout(x);
    if (rec.state.status !== 'running') return x.noContent(304);
    const signal = x.str('signal');
    await ctx.engine.stop(rec.id, { ...(timeoutSec !== undefined ? { timeoutSec } : {}), ...(signal ? { signal } : {}) });
    ctx.events.emit('container', 'stop', rec.id, ctx.containerAttributes(rec));
    x.noContent();
  });

  r.add('POST', '/containers/:id/restart', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    const timeoutSec = await stopTimeout(x);
    await ctx.engine.restart(rec.id, timeoutSec !== undefined ? { timeoutSec } : {});
    ctx.events.emit('container', 'restart', rec.id, ctx.containerAttributes(rec));
    ctx.watch(rec.id);
    x.noContent();
  });

  r.add('DELETE', '/containers/:id', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    if (rec.state.status === 'running' && !x.bool('force')) {
      throw conflict(`cannot remove container "/${rec.name}": container is running: stop the container before removing or force remove`);
    }
    await ctx.engine.remove(rec.id, { force: x.bool('force'), volumes: x.bool('v') });
    ctx.forget(rec.id);
    ctx.events.emit('container', 'destroy', rec.id, ctx.containerAttributes(rec));
    x.noContent();
  });

  r.add('POST', '/containers/:id/resize', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    const size = ttySize(x.str('h'), x.str('w'));
    // Only a running container with a terminal has a window; clients that resize others get a harmless 200.
    if (size && rec.tty && rec.state.status === 'running') await ctx.engine.resize(rec.id, size);
    x.send(200);
  });

  for (const verb of ['pause', 'unpause'] as const) {
    r.add('POST', `/containers/:id/${verb}`, async (x, ctx) => {
      const rec = await recordOf(x, ctx);
      await ctx.engine[verb](rec.id);
      ctx.events.emit('container', verb, rec.id, ctx.containerAttributes(rec));
      x.send(204, '');
    });
  }
  r.add('POST', '/containers/:id/rename', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    const name = x.str('name');
    if (!name) throw invalidArgument('rename needs the new name (?name=NEW)');
    await ctx.engine.rename(rec.id, name);
    ctx.events.emit('container', 'rename', rec.id, { ...ctx.containerAttributes(await ctx.engine.record(rec.id)), oldName: `/${rec.name}` });
    x.send(204, '');
  });
  r.add('POST', '/containers/:id/update', async (x, ctx) => {
    const rec = await recordOf(x, ctx);
    const { options, warnings } = updateOptionsFrom((await x.json<DockerUpdateBody>()) ?? {}, cpus().length);
    const saved = await ctx.engine.update(rec.id, options);
    ctx.events.emit('container', 'update', rec.id, ctx.containerAttributes(saved));
    x.sendJson(200, { Warnings: warnings });
  });
}
