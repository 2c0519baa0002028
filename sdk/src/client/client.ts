/**
 * DockerClient: the Docker Engine API as the Engine's own interface
 * (ContainerRuntime), so the same code drives a local Engine, a skiff daemon
 * or Docker. Output comes back demultiplexed: log entries that name their
 * stream, or separate stdout/stderr streams. Isomorphic: it talks through a
 * Transport (node-transport.ts in Node, fetch-transport.ts for http URLs).
 *
 *   const docker = connectDocker('unix:///var/lib/skiff/skiff.sock');
 *   const { exitCode, stdout } = await docker.run({ image: 'alpine', cmd: ['echo', 'hi'], rm: true });
 */
import { SkiffError, conflict, invalidArgument, unsupported } from '../errors/index.js';
import type { CreateOptions } from '../runtime/options.js';
import type { ExitStatus, ProcessStats, TtySize } from '../runtime/backend.js';
import type { ExecOptions, LogsOptions, RunResult, StartOptions, WaitCondition } from '../runtime/engine.js';
import type { LogEntry, StreamName } from '../runtime/logs.js';
import type { CommitOptions } from '../runtime/commit.js';
import type { ImportRootfsOptions } from '../runtime/import-rootfs.js';
import { formatPlatform } from '../image/platform.js';
import { checkVolumeName, type VolumeInfo, type VolumeStore } from '../volumes/types.js';
import type { VolumeHandle } from '../runtime/backend.js';
import { parseReference } from '../image/reference.js';
import type { Credentials } from '../registry/types.js';
import { apiError, type ApiRequest, type ApiResponse, type HijackedConnection, type QueryValue, type Transport } from './transport.js';
import { FrameDecoder, MULTIPLEXED } from './stdcopy.js';
import { toCreateBody } from './create-body.js';
import { fromBase64 } from '../content/base64.js';
import { concat } from '../content/util.js';
import type { ContainerInspect, ContainerRuntime, ContainerSummary, ExecStdio, ImageInspectJson, ImageSummaryJson, ProgressMessage } from './types.js';

/** The newest API version this client knows. */
export const CLIENT_API_VERSION = '1.50';

export interface DockerClientOptions {
  /** Pin the API version; by default it is negotiated (min of the daemon's and ours), as the docker CLI does. */
  apiVersion?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function versionBelow(a: string, b: string): boolean {
  const [am, an] = a.split('.').map(Number) as [number, number];
  const [bm, bn] = b.split('.').map(Number) as [number, number];
  return am < bm || (am === bm && an < bn);
}

function toStream(input: ReadableStream<Uint8Array> | Uint8Array | string): ReadableStream<Uint8Array> {
  if (input instanceof ReadableStream) return input;
  const bytes = typeof input === 'string' ? enc.encode(input) : input;
  return new ReadableStream({ start(c) { if (bytes.length) c.enqueue(bytes); c.close(); } });
}

async function readText(body: ReadableStream<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return dec.decode(concat(parts));
}

/** Newline-delimited JSON (progress, events), one object at a time. */
async function* jsonLines<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  const reader = body.getReader();
  const d = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += d.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) yield JSON.parse(line) as T;
      }
    }
    if (buf.trim()) yield JSON.parse(buf) as T;
  } finally {
    reader.releaseLock();
  }
}

/** The API's output (frames without a TTY, raw bytes with one) as log entries. */
export function outputEntries(body: ReadableStream<Uint8Array>, o: { tty: boolean; timestamps?: boolean }): ReadableStream<LogEntry> {
  const decoder = new FrameDecoder();
  const reader = body.getReader();
  const entry = (stream: StreamName, data: Uint8Array): LogEntry => {
    if (o.timestamps) {
      // "2024-01-02T03:04:05.123456789Z " then the line.
      const space = data.indexOf(0x20);
      if (space > 0) {
        const t = Date.parse(dec.decode(data.subarray(0, space)).replace(/(\.\d{3})\d*/, '$1'));
        if (Number.isFinite(t)) return { stream, time: t, data: data.slice(space + 1) };
      }
    }
    return { stream, time: Date.now(), data };
  };
  return new ReadableStream<LogEntry>({
    async pull(ctl) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return ctl.close();
        if (o.tty) return ctl.enqueue(entry('stdout', value.slice()));
        const frames = decoder.push(value).filter((f) => f.stream !== 'stdin');
        if (frames.length) {
          for (const f of frames) ctl.enqueue(entry(f.stream as StreamName, f.data));
          return;
        }
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * Splits log entries into a stdout and a stderr byte stream. Read both, or
 * cancel the one you do not want: a stream nobody reads keeps its data.
 */
export function splitOutput(entries: ReadableStream<LogEntry>): { stdout: ReadableStream<Uint8Array>; stderr: ReadableStream<Uint8Array> } {
  const ctls: Partial<Record<StreamName, ReadableStreamDefaultController<Uint8Array>>> = {};
  const cancelled = new Set<StreamName>();
  let pumping: Promise<void> | undefined;
  const pump = () => (pumping ??= (async () => {
    const reader = entries.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!cancelled.has(value.stream)) ctls[value.stream]?.enqueue(value.data);
      }
      for (const s of ['stdout', 'stderr'] as const) if (!cancelled.has(s)) ctls[s]?.close();
    } catch (err) {
      for (const s of ['stdout', 'stderr'] as const) if (!cancelled.has(s)) ctls[s]?.error(err);
    }
  })());
  const make = (name: StreamName) => new ReadableStream<Uint8Array>({
    start(c) { ctls[name] = c; },
    pull() { void pump(); },
    cancel() {
      cancelled.add(name);
      if (cancelled.size === 2) void entries.cancel().catch(() => {});
    },
  });
  return { stdout: make('stdout'), stderr: make('stderr') };
}

function collector() {
  const parts: Uint8Array[] = [];
  return { push: (b: Uint8Array) => void parts.push(b), text: () => dec.decode(concat(parts)) };
}

async function drainEntries(s: ReadableStream<LogEntry>, out: ReturnType<typeof collector>, err: ReturnType<typeof collector>): Promise<void> {
  const reader = s.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    (value.stream === 'stderr' ? err : out).push(value.data);
  }
}

/** base64url of the JSON docker's X-Registry-Auth carries. */
export function registryAuthHeader(c: Credentials, serveraddress = ''): string {
  const bytes = enc.encode(JSON.stringify({ username: c.username, password: c.password, serveraddress }));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_');
}

interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Statuses that are not errors besides 2xx (304: already started/stopped). */
  ok?: number[];
}

export class DockerClient implements ContainerRuntime {
  readonly volumes: VolumeStore;
  readonly images: ImageApi;
  private negotiated?: Promise<string>;

  constructor(readonly transport: Transport, private readonly options: DockerClientOptions = {}) {
    this.volumes = new ApiVolumeStore(this);
    this.images = new ImageApi(this);
  }

  // ---- plumbing -------------------------------------------------------------

  /** The API version in use: pinned, or min(ours, the daemon's `Api-Version`). */
  apiVersion(): Promise<string> {
    if (this.options.apiVersion) return Promise.resolve(this.options.apiVersion);
    this.negotiated ??= (async () => {
      const res = await this.transport.request({ method: 'GET', path: '/_ping' });
      await res.body.cancel().catch(() => {});
      const server = res.headers['api-version'];
      // No header: docker's own fallback.
      if (!server) return '1.24';
      return versionBelow(server, CLIENT_API_VERSION) ? server : CLIENT_API_VERSION;
    })();
    this.negotiated.catch(() => (this.negotiated = undefined));
    return this.negotiated;
  }

  private async prepare(method: string, path: string, o: RequestOptions): Promise<ApiRequest> {
    const v = await this.apiVersion();
    const req: ApiRequest = { method, path: `/v${v}${path}`, headers: { ...o.headers } };
    if (o.query) req.query = o.query;
    if (o.signal) req.signal = o.signal;
    if (o.body !== undefined) {
      if (o.body instanceof Uint8Array || o.body instanceof ReadableStream || typeof o.body === 'string') req.body = o.body as ApiRequest['body'];
      else {
        req.body = JSON.stringify(o.body);
        req.headers!['Content-Type'] = 'application/json';
      }
    }
    return req;
  }

  /** One API call; a non-2xx answer becomes a SkiffError with the daemon's message. */
  async call(method: string, path: string, o: RequestOptions = {}): Promise<ApiResponse> {
    const res = await this.transport.request(await this.prepare(method, path, o));
    if ((res.status >= 200 && res.status < 300) || o.ok?.includes(res.status)) return res;
    throw apiError(res.status, await readText(res.body), `${method} ${path}`);
  }

  async json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.call(method, path, o);
    const text = await readText(res.body);
    return (text.trim() ? JSON.parse(text) : undefined) as T;
  }

  private async done(method: string, path: string, o: RequestOptions = {}): Promise<number> {
    const res = await this.call(method, path, o);
    await res.body.cancel().catch(() => {});
    return res.status;
  }

  /** A hijacked connection where the transport can; else the plain streamed answer (no stdin). */
  private async connection(path: string, o: RequestOptions & { needInput: boolean }): Promise<HijackedConnection> {
    if (this.transport.hijack) {
      const req = await this.prepare('POST', path, o);
      return this.transport.hijack(req);
    }
    if (o.needInput) throw unsupported(`this transport cannot send stdin (no connection hijack); use the Node transport`);
    const res = await this.call('POST', path, o);
    return { headers: res.headers, output: res.body, input: new WritableStream(), close: () => void res.body.cancel().catch(() => {}) };
  }

  private async ttyOf(id: string): Promise<boolean> {
    return (await this.inspect(id)).Config.Tty;
  }

  // ---- system ---------------------------------------------------------------

  async ping(): Promise<string> {
    return readText((await this.transport.request({ method: 'GET', path: '/_ping' })).body);
  }

  version(): Promise<Record<string, unknown> & { ApiVersion: string; Version: string }> {
    return this.json('GET', '/version');
  }

  info(): Promise<Record<string, unknown>> {
    return this.json('GET', '/info');
  }

  /** The daemon's events from `since` (seconds) on, until `until` or the signal. */
  async events(o: { since?: number; until?: number; filters?: Record<string, string[]>; signal?: AbortSignal } = {}): Promise<ReadableStream<Record<string, unknown>>> {
    const res = await this.call('GET', '/events', {
      query: { since: o.since?.toString(), until: o.until?.toString(), filters: o.filters ? JSON.stringify(o.filters) : undefined },
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const lines = jsonLines<Record<string, unknown>>(res.body);
    return new ReadableStream({
      async pull(ctl) {
        const { done, value } = await lines.next();
        if (done) ctl.close();
        else ctl.enqueue(value);
      },
      cancel: () => void res.body.cancel().catch(() => {}),
    });
  }

  // ---- containers -----------------------------------------------------------

  async create(o: CreateOptions): Promise<{ id: string }> {
    const { query, body } = toCreateBody(o);
    const r = await this.json<{ Id: string }>('POST', '/containers/create', { query, body });
    return { id: r.Id };
  }

  async list(o: { all?: boolean; filters?: Record<string, string[]> } = {}): Promise<ContainerSummary[]> {
    return this.json('GET', '/containers/json', { query: { all: o.all ?? false, filters: o.filters ? JSON.stringify(o.filters) : undefined } });
  }

  inspect(id: string): Promise<ContainerInspect> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/json`);
  }

  /**
   * Starts the container. With `stdin`, it is sent over an attach made first
   * (the container needs `openStdin`, as with `docker run -i`).
   */
  async start(id: string, o: StartOptions = {}): Promise<void> {
    let feeding: Promise<void> | undefined;
    if (o.stdin !== undefined) {
      const conn = await this.connection(`/containers/${encodeURIComponent(id)}/attach`, { query: { stream: true, stdin: true, stdout: false, stderr: false }, needInput: true });
      // Nothing comes back on this connection; it ends when the run does.
      void conn.output.pipeTo(new WritableStream()).catch(() => {});
      feeding = toStream(o.stdin).pipeTo(conn.input).catch(() => {});
    }
    const status = await this.done('POST', `/containers/${encodeURIComponent(id)}/start`, { ok: [304] });
    if (status === 304) throw conflict(`container ${id} is already running`);
    void feeding;
  }

  /** Registers a wait; resolves once the daemon has it (before a start), with the result to come. */
  private async beginWait(id: string, condition: WaitCondition): Promise<{ result: Promise<ExitStatus> }> {
    const res = await this.call('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition } });
    const result = (async () => {
      const text = await readText(res.body);
      const j = JSON.parse(text) as { StatusCode: number; Error?: { Message?: string } | null };
      if (j.Error?.Message) throw new SkiffError('INTERNAL', `waiting for container ${id}: ${j.Error.Message}`);
      const status: ExitStatus = { exitCode: j.StatusCode };
      // Why it ended (OOM, a runtime error), when the container is still there to ask.
      if (condition !== 'removed') {
        const c = await this.inspect(id).catch(() => undefined);
        if (c?.State.OOMKilled) status.oomKilled = true;
        if (c?.State.Error) status.error = c.State.Error;
      }
      return status;
    })();
    result.catch(() => {});
    return { result };
  }

  async wait(id: string, condition: WaitCondition = 'not-running'): Promise<ExitStatus> {
    return (await this.beginWait(id, condition)).result;
  }

  async kill(id: string, signal = 'SIGKILL'): Promise<void> {
    await this.done('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal } });
  }

  async stop(id: string, o: { timeoutSec?: number; signal?: string } = {}): Promise<void> {
    await this.done('POST', `/containers/${encodeURIComponent(id)}/stop`, { query: { t: o.timeoutSec, signal: o.signal }, ok: [304] });
  }

  /** Sets the window size of a running container's terminal. */
  async resize(id: string, size: TtySize): Promise<void> {
    await this.done('POST', `/containers/${encodeURIComponent(id)}/resize`, { query: { h: size.rows, w: size.cols } });
  }

  async restart(id: string, o: { timeoutSec?: number } = {}): Promise<void> {
    await this.done('POST', `/containers/${encodeURIComponent(id)}/restart`, { query: { t: o.timeoutSec } });
  }

  async remove(id: string, o: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.done('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { force: o.force ?? false, v: o.volumes ?? false } });
  }

  async logs(id: string, o: LogsOptions = {}): Promise<ReadableStream<LogEntry>> {
    const tty = await this.ttyOf(id);
    const res = await this.call('GET', `/containers/${encodeURIComponent(id)}/logs`, {
      query: {
        stdout: true,
        stderr: true,
        follow: o.follow ?? false,
        // Timestamps give each entry its time (not with a TTY, whose output is not in lines).
        timestamps: !tty,
        tail: o.tail !== undefined ? String(o.tail) : undefined,
        since: o.since !== undefined ? (o.since / 1000).toFixed(3) : undefined,
        until: o.until !== undefined ? (o.until / 1000).toFixed(3) : undefined,
      },
    });
    return outputEntries(res.body, { tty, timestamps: !tty });
  }

  async attach(id: string): Promise<ReadableStream<LogEntry>> {
    return (await this.attachStreams(id)).output;
  }

  /** Attaches (before start, to see all output); with `stdin`, also a stdin writer (needs `openStdin`). */
  async attachStreams(id: string, o: { stdin?: boolean; tty?: boolean } = {}): Promise<{ output: ReadableStream<LogEntry>; stdin?: WritableStream<Uint8Array>; close(): void }> {
    const tty = o.tty ?? (await this.ttyOf(id));
    const conn = await this.connection(`/containers/${encodeURIComponent(id)}/attach`, { query: { stream: true, stdout: true, stderr: true, stdin: o.stdin ?? false }, needInput: o.stdin ?? false });
    const multiplexed = conn.headers['content-type'] === MULTIPLEXED || !tty;
    return { output: outputEntries(conn.output, { tty: !multiplexed }), ...(o.stdin ? { stdin: conn.input } : {}), close: () => conn.close() };
  }

  private async startExec(id: string, o: ExecOptions): Promise<{ execId: string; conn: HijackedConnection }> {
    if (!o.cmd?.length) throw invalidArgument('exec needs a command');
    const env = o.env === undefined ? undefined : Array.isArray(o.env) ? o.env : Object.entries(o.env).map(([k, v]) => `${k}=${v}`);
    const created = await this.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(id)}/exec`, {
      body: {
        Cmd: o.cmd, AttachStdin: o.stdin !== undefined, AttachStdout: true, AttachStderr: true, Tty: o.tty ?? false,
        ...(o.tty && o.consoleSize ? { ConsoleSize: [o.consoleSize.rows, o.consoleSize.cols] } : {}),
        ...(env ? { Env: env } : {}), ...(o.workingDir ? { WorkingDir: o.workingDir } : {}), ...(o.user ? { User: o.user } : {}),
      },
    });
    const conn = await this.connection(`/exec/${created.Id}/start`, { body: { Detach: false, Tty: o.tty ?? false }, needInput: o.stdin !== undefined });
    if (o.stdin !== undefined) void toStream(o.stdin).pipeTo(conn.input).catch(() => {});
    return { execId: created.Id, conn };
  }

  private async execExit(execId: string): Promise<ExitStatus> {
    const j = await this.json<{ ExitCode: number | null; Running: boolean }>('GET', `/exec/${execId}/json`);
    if (j.ExitCode === null) throw new SkiffError('INTERNAL', `exec ${execId} ended its output but has no exit code`);
    return { exitCode: j.ExitCode };
  }

  async exec(id: string, o: ExecOptions): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const { execId, conn } = await this.startExec(id, o);
    const out = collector();
    const err = collector();
    await drainEntries(outputEntries(conn.output, { tty: o.tty ?? false }), out, err);
    return { exitCode: (await this.execExit(execId)).exitCode, stdout: out.text(), stderr: err.text() };
  }

  async execStreams(id: string, o: ExecOptions, stdio: ExecStdio): Promise<{ wait(): Promise<ExitStatus>; kill(): Promise<void>; resize(size: TtySize): Promise<void> }> {
    const { execId, conn } = await this.startExec(id, { ...o, ...(stdio.stdin ? { stdin: stdio.stdin } : {}) });
    const out = stdio.stdout.getWriter();
    const err = stdio.stderr.getWriter();
    const pumped = (async () => {
      // With a terminal the output is one raw stream (stdout).
      const reader = outputEntries(conn.output, { tty: o.tty ?? false }).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await (value.stream === 'stderr' ? err : out).write(value.data);
      }
      out.releaseLock();
      err.releaseLock();
    })();
    const result = pumped.then(() => this.execExit(execId));
    result.catch(() => {});
    return {
      wait: () => result,
      kill: async () => { throw unsupported('the Docker API cannot signal an exec process; stop the container instead'); },
      resize: async (size: TtySize) => { await this.done('POST', `/exec/${execId}/resize`, { query: { h: size.rows, w: size.cols } }); },
    };
  }

  async run(o: CreateOptions & StartOptions & { rm?: boolean }): Promise<RunResult> {
    const { stdin, rm, ...create } = o;
    const autoRemove = rm || o.autoRemove;
    const c = await this.create({ ...create, ...(stdin !== undefined ? { openStdin: true } : {}), ...(autoRemove ? { autoRemove: true } : {}) });
    try {
      // The CLI's order: attach, wait, then start; the output and the exit are not missed.
      const att = await this.attachStreams(c.id, { stdin: stdin !== undefined, tty: o.tty ?? false });
      const waiting = await this.beginWait(c.id, autoRemove ? 'removed' : 'next-exit');
      const out = collector();
      const err = collector();
      const drained = drainEntries(att.output, out, err);
      await this.start(c.id);
      if (stdin !== undefined && att.stdin) void toStream(stdin).pipeTo(att.stdin).catch(() => {});
      const status = await waiting.result;
      await drained;
      const result: RunResult = { id: c.id, exitCode: status.exitCode, stdout: out.text(), stderr: err.text() };
      if (status.oomKilled) result.oomKilled = true;
      if (status.error) result.error = status.error;
      return result;
    } catch (e) {
      if (autoRemove) await this.remove(c.id, { force: true, volumes: true }).catch(() => {});
      throw e;
    }
  }

  async stats(id: string): Promise<ProcessStats> {
    const s = await this.json<{ memory_stats?: { usage?: number; limit?: number }; cpu_stats?: { cpu_usage?: { total_usage?: number } }; pids_stats?: { current?: number } }>('GET', `/containers/${encodeURIComponent(id)}/stats`, { query: { stream: false } });
    const out: ProcessStats = {};
    if (s.memory_stats?.usage !== undefined) out.memoryBytes = s.memory_stats.usage;
    if (s.memory_stats?.limit !== undefined) out.memoryLimitBytes = s.memory_stats.limit;
    if (s.cpu_stats?.cpu_usage?.total_usage) out.cpuNanos = s.cpu_stats.cpu_usage.total_usage;
    if (s.pids_stats?.current !== undefined) out.pids = s.pids_stats.current;
    return out;
  }

  /** A tar of a path in the container (`docker cp CONTAINER:PATH -`), and what the path is. */
  async getArchive(id: string, path: string): Promise<{ stat: { name: string; size: number; mode: number; mtime: string; linkTarget: string }; tar: ReadableStream<Uint8Array> }> {
    const res = await this.call('GET', `/containers/${encodeURIComponent(id)}/archive`, { query: { path } });
    const raw = res.headers['x-docker-container-path-stat'];
    const stat = raw ? (JSON.parse(dec.decode(fromBase64(raw))) as { name: string; size: number; mode: number; mtime: string; linkTarget: string }) : { name: path, size: 0, mode: 0, mtime: '', linkTarget: '' };
    return { stat, tar: res.body };
  }

  /**
   * Extracts a tar into the directory `path` of the container (`docker cp SRC
   * CONTAINER:DIR`; dockerode's putArchive). The directory must exist.
   */
  async putArchive(id: string, path: string, tar: ReadableStream<Uint8Array> | Uint8Array, o: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}): Promise<void> {
    await this.done('PUT', `/containers/${encodeURIComponent(id)}/archive`, {
      query: { path, ...(o.noOverwriteDirNonDir ? { noOverwriteDirNonDir: true } : {}), ...(o.copyUIDGID ? { copyUIDGID: true } : {}) },
      body: tar,
      headers: { 'Content-Type': 'application/x-tar' },
    });
  }

  /** docker commit: a new image from the container's changes (see Engine.commit); resolves with its ID. */
  async commit(id: string, o: CommitOptions = {}): Promise<{ id: string }> {
    const query: Record<string, QueryValue> = { container: id, repo: o.repo, tag: o.tag, comment: o.comment, author: o.author, pause: o.pause ?? true, changes: o.changes };
    const res = await this.json<{ Id: string }>('POST', '/commit', { query, ...(o.config ? { body: o.config } : {}) });
    return { id: res.Id };
  }

  /** Builds an image (the classic builder) from a context tar. */
  async build(context: ReadableStream<Uint8Array> | Uint8Array, o: { tags?: string[]; dockerfile?: string; buildArgs?: Record<string, string>; labels?: Record<string, string>; target?: string; noCache?: boolean; platform?: string; onProgress?: (m: ProgressMessage) => void } = {}): Promise<{ id: string }> {
    const res = await this.call('POST', '/build', {
      query: { t: o.tags, dockerfile: o.dockerfile, buildargs: o.buildArgs ? JSON.stringify(o.buildArgs) : undefined, labels: o.labels ? JSON.stringify(o.labels) : undefined, target: o.target, nocache: o.noCache, platform: o.platform },
      body: context,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    let id = '';
    for await (const m of jsonLines<ProgressMessage>(res.body)) {
      if (m.errorDetail || m.error) throw new SkiffError('FAILED_PRECONDITION', m.errorDetail?.message ?? m.error!);
      if (m.aux && typeof m.aux.ID === 'string') id = m.aux.ID;
      o.onProgress?.(m);
    }
    if (!id) throw new SkiffError('INTERNAL', 'the build ended without an image ID');
    return { id };
  }

  close(): void {
    this.transport.close?.();
  }
}

/** Images over the API. */
export class ImageApi {
  constructor(private readonly c: DockerClient) {}

  list(o: { filters?: Record<string, string[]> } = {}): Promise<ImageSummaryJson[]> {
    return this.c.json('GET', '/images/json', { query: { filters: o.filters ? JSON.stringify(o.filters) : undefined } });
  }

  inspect(name: string): Promise<ImageInspectJson> {
    return this.c.json('GET', `/images/${name}/json`);
  }

  private async progress(res: ApiResponse, onProgress?: (m: ProgressMessage) => void): Promise<ProgressMessage[]> {
    const all: ProgressMessage[] = [];
    for await (const m of jsonLines<ProgressMessage>(res.body)) {
      if (m.errorDetail || m.error) throw new SkiffError('FAILED_PRECONDITION', m.errorDetail?.message ?? m.error!);
      all.push(m);
      onProgress?.(m);
    }
    return all;
  }

  /** Pulls into the daemon's store; resolves once the image is there, with its digest. */
  async pull(reference: string, o: { platform?: string; credentials?: Credentials; onProgress?: (m: ProgressMessage) => void; signal?: AbortSignal } = {}): Promise<{ digest: string }> {
    const ref = parseReference(reference);
    const res = await this.c.call('POST', '/images/create', {
      query: { fromImage: `${ref.domain}/${ref.path}`, tag: ref.digest ?? ref.tag, platform: o.platform },
      headers: o.credentials ? { 'X-Registry-Auth': registryAuthHeader(o.credentials, ref.domain) } : {},
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const lines = await this.progress(res, o.onProgress);
    const digest = lines.map((l) => /^Digest: (\S+)/.exec(l.status ?? '')?.[1]).find(Boolean) ?? '';
    return { digest };
  }

  /** Pushes a tagged image; resolves with the pushed manifest's digest. */
  async push(reference: string, o: { credentials?: Credentials; onProgress?: (m: ProgressMessage) => void } = {}): Promise<{ digest: string; size: number }> {
    const ref = parseReference(reference);
    const res = await this.c.call('POST', `/images/${ref.domain}/${ref.path}/push`, {
      query: { tag: ref.tag },
      headers: { 'X-Registry-Auth': o.credentials ? registryAuthHeader(o.credentials, ref.domain) : 'e30=' },
    });
    const lines = await this.progress(res, o.onProgress);
    const aux = lines.find((l) => l.aux && typeof l.aux.Digest === 'string')?.aux as { Digest: string; Size: number } | undefined;
    if (!aux) throw new SkiffError('INTERNAL', `the push of ${reference} ended without a digest`);
    return { digest: aux.Digest, size: aux.Size };
  }

  async remove(name: string, o: { force?: boolean } = {}): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
    return this.c.json('DELETE', `/images/${name}`, { query: { force: o.force ?? false } });
  }

  async tag(source: string, target: string): Promise<void> {
    const ref = parseReference(target);
    await this.c.call('POST', `/images/${source}/tag`, { query: { repo: `${ref.domain}/${ref.path}`, tag: ref.tag ?? 'latest' } });
  }

  /** A `docker save` archive of the images. */
  async save(names: string[]): Promise<ReadableStream<Uint8Array>> {
    return (await this.c.call('GET', '/images/get', { query: { names } })).body;
  }

  /** docker import: a root file system tarball (plain or gzip) as a one-layer image (see Engine.importImage); resolves with its ID. */
  async import(tarball: ReadableStream<Uint8Array> | Uint8Array, o: ImportRootfsOptions = {}): Promise<{ id: string }> {
    const res = await this.c.call('POST', '/images/create', {
      query: { fromSrc: '-', repo: o.reference, message: o.message, changes: o.changes, platform: o.platform ? formatPlatform(o.platform) : undefined },
      body: tarball,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    const lines = await this.progress(res);
    const id = lines.map((l) => l.status ?? '').find((s) => /^sha256:[a-f0-9]{64}$/.test(s));
    if (!id) throw new SkiffError('INTERNAL', 'the import ended without an image ID');
    return { id };
  }

  /** Loads a `docker save` archive; resolves with the loaded names. */
  async load(archive: ReadableStream<Uint8Array> | Uint8Array): Promise<string[]> {
    const res = await this.c.call('POST', '/images/load', { query: { quiet: true }, body: archive, headers: { 'Content-Type': 'application/x-tar' } });
    const lines = await this.progress(res);
    return lines.map((l) => /^Loaded image(?: ID)?: (.+)\n?$/.exec(l.stream ?? '')?.[1]).filter((n): n is string => !!n);
  }
}

const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

interface VolumeJson {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Labels: Record<string, string> | null;
}

function volumeInfo(v: VolumeJson): VolumeInfo {
  const labels = { ...(v.Labels ?? {}) };
  const anonymous = ANONYMOUS_LABEL in labels;
  delete labels[ANONYMOUS_LABEL];
  return { name: v.Name, driver: 'local', mountpoint: v.Mountpoint, createdAt: v.CreatedAt ?? '', labels, anonymous };
}

/** The daemon's volumes as a VolumeStore (as the Engine's own). */
export class ApiVolumeStore implements VolumeStore {
  constructor(private readonly c: DockerClient) {}

  async create(name?: string, o: { labels?: Record<string, string>; anonymous?: boolean } = {}): Promise<VolumeInfo> {
    if (name !== undefined) checkVolumeName(name);
    const labels = { ...(o.labels ?? {}), ...(o.anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) };
    return volumeInfo(await this.c.json<VolumeJson>('POST', '/volumes/create', { body: { Name: name ?? '', Driver: 'local', Labels: labels } }));
  }

  async inspect(name: string): Promise<VolumeInfo> {
    return volumeInfo(await this.c.json<VolumeJson>('GET', `/volumes/${encodeURIComponent(name)}`));
  }

  async list(): Promise<VolumeInfo[]> {
    const r = await this.c.json<{ Volumes: VolumeJson[] | null }>('GET', '/volumes');
    return (r.Volumes ?? []).map(volumeInfo);
  }

  async remove(name: string): Promise<void> {
    await this.c.call('DELETE', `/volumes/${encodeURIComponent(name)}`);
  }

  async handle(name: string): Promise<VolumeHandle> {
    throw unsupported(`volume ${name} belongs to the daemon; it can be mounted by its containers, not from this client`);
  }
}

