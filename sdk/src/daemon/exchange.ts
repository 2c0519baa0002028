/**
 * One API request and its answer, the same for plain requests and for the
 * hijacked ones (`Connection: Upgrade`, `Upgrade: tcp`) that `attach` and
 * `exec start` use. On a hijack the answer is written straight to the socket.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { SkiffError, httpStatusOf, invalidArgument, toSkiffError } from '../errors/index.js';
import { API_VERSION } from './api-version.js';

/** Request bodies read whole (JSON) are capped; archives and contexts stream. */
const MAX_JSON_BODY = 16 * 1024 * 1024;

export interface ResponseStream {
  /** Resolves when the bytes are handed to the socket (waits while the client reads slowly). */
  write(chunk: Uint8Array | string): Promise<void>;
  end(): void;
  /** Settles when the client has gone or the answer is complete. */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
}

export interface Hijacked extends ResponseStream {
  /** What the client sends after the request (stdin); only on an upgraded connection. */
  input?: ReadableStream<Uint8Array>;
}

export class Exchange {
  readonly method: string;
  readonly query: URLSearchParams;
  params: Record<string, string> = {};
  /** The path without its `/vX.Y` prefix. */
  path: string;
  version = API_VERSION;
  private answered = false;
  private bodyRead?: Promise<Buffer>;
  private closeCallbacks: Array<() => void> = [];
  private gone = false;

  constructor(
    readonly req: IncomingMessage,
    private readonly res: ServerResponse | undefined,
    private readonly upgrade?: { socket: Duplex; head: Buffer },
  ) {
    this.method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://daemon');
    this.path = decodeURIComponentSafe(url.pathname);
    this.query = url.searchParams;
    const onGone = () => {
      if (this.gone) return;
      this.gone = true;
      for (const cb of this.closeCallbacks.splice(0)) cb();
    };
    if (upgrade) upgrade.socket.once('close', onGone);
    else {
      res!.once('close', onGone);
      req.once('close', () => { if (req.destroyed && !req.complete) onGone(); });
    }
  }

  get isUpgrade(): boolean {
    return this.upgrade !== undefined;
  }

  get hasAnswered(): boolean {
    return this.answered;
  }

  /** The client closed the connection (or the answer is complete). */
  onClose(cb: () => void): void {
    if (this.gone) cb();
    else this.closeCallbacks.push(cb);
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  }

  // ---- query helpers ------------------------------------------------------

  /** Docker booleans: `1`, `true`, `True` (CLI sends 1, dockerode true). */
  bool(name: string, fallback = false): boolean {
    const v = this.query.get(name);
    if (v === null || v === '') return fallback;
    return !['0', 'false', 'False', 'FALSE', 'no'].includes(v);
  }

  int(name: string): number | undefined {
    const v = this.query.get(name);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw invalidArgument(`invalid value for ${name}: "${v}" is not a number`);
    return n;
  }

  str(name: string): string | undefined {
    const v = this.query.get(name);
    return v === null || v === '' ? undefined : v;
  }

  /** A JSON-encoded query parameter (`filters`, `buildargs`, `labels`). */
  queryJson<T>(name: string): T | undefined {
    const v = this.query.get(name);
    if (v === null || v === '') return undefined;
    try {
      return JSON.parse(v) as T;
    } catch (err) {
      throw invalidArgument(`invalid ${name} parameter: not JSON (${(err as Error).message})`, err);
    }
  }

  // ---- request body ---------------------------------------------------------

  /**
   * The whole body. Reads exactly Content-Length bytes when given: dockerode
   * sends `exec start` with a Content-Length and never ends its request.
   */
  body(limit = MAX_JSON_BODY): Promise<Buffer> {
    this.bodyRead ??= this.readBody(limit);
    return this.bodyRead;
  }

  private readBody(limit: number): Promise<Buffer> {
    const lengthHeader = this.header('content-length');
    const length = lengthHeader !== undefined ? Number(lengthHeader) : undefined;
    if (length !== undefined && length > limit) return Promise.reject(invalidArgument(`request body too large: ${length} bytes (limit ${limit})`));
    if (this.upgrade) {
      // On an upgrade, Node hands over the bytes after the headers in `head`.
      const { socket, head } = this.upgrade;
      const want = length ?? 0;
      if (head.length >= want) {
        if (head.length > want) socket.unshift(head.subarray(want));
        return Promise.resolve(head.subarray(0, want));
      }
      return new Promise((resolve, reject) => {
        const parts = [head];
        let got = head.length;
        const onData = (c: Buffer) => {
          parts.push(c);
          got += c.length;
          if (got >= want) {
            socket.off('data', onData);
            socket.pause();
            const all = Buffer.concat(parts);
            if (all.length > want) socket.unshift(all.subarray(want));
            resolve(all.subarray(0, want));
          }
        };
        socket.on('data', onData);
        socket.once('error', reject);
        socket.once('close', () => reject(invalidArgument('the client closed the connection before sending the whole body')));
      });
    }
    if (length === 0) return Promise.resolve(Buffer.alloc(0));
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let got = 0;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.req.off('data', onData);
        resolve(Buffer.concat(parts));
      };
      const onData = (c: Buffer) => {
        parts.push(c);
        got += c.length;
        if (got > limit) {
          done = true;
          this.req.off('data', onData);
          reject(invalidArgument(`request body too large (limit ${limit} bytes)`));
        } else if (length !== undefined && got >= length) finish();
      };
      this.req.on('data', onData);
      this.req.once('end', finish);
      this.req.once('error', (e) => { if (!done) { done = true; reject(e); } });
    });
  }

  /** The body as JSON, or undefined when there is none. */
  async json<T>(): Promise<T | undefined> {
    const b = await this.body();
    const text = b.toString('utf8').trim();
    if (!text) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw invalidArgument(`invalid JSON in the request body: ${(err as Error).message}`, err);
    }
  }

  /**
   * The body as a stream (archives, build contexts). Cancelling it drops the
   * rest of the body rather than destroying the request, so the error answer
   * still reaches the client; and it is not Readable.toWeb, whose adapter
   * throws "Controller is already closed" out of a 'data' event (ending the
   * daemon) when a chunk was already on its way at the cancel.
   */
  bodyStream(): ReadableStream<Uint8Array> {
    const req = this.req;
    let ended = false;
    return new ReadableStream<Uint8Array>({
      start(c) {
        req.on('data', (chunk: Buffer) => {
          if (ended) return;
          c.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
          if ((c.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once('end', () => { if (!ended) { ended = true; c.close(); } });
        req.once('error', (err) => { if (!ended) { ended = true; c.error(err); } });
        req.once('close', () => {
          if (!ended && !req.complete) { ended = true; c.error(invalidArgument('the client closed the connection before the whole request body was sent')); }
        });
        req.pause();
      },
      pull() { req.resume(); },
      cancel() {
        ended = true;
        req.resume();
      },
    }, { highWaterMark: 1 << 16, size: (c) => c.byteLength });
  }

  // ---- answers --------------------------------------------------------------

  private baseHeaders(extra: Record<string, string | number> = {}): Record<string, string | number> {
    return { 'Api-Version': API_VERSION, Server: 'skiff', ...extra };
  }

  private claim(): void {
    if (this.answered) throw new Error(`internal: ${this.method} ${this.path} answered twice`);
    this.answered = true;
  }

  send(status: number, body: string | Uint8Array = '', headers: Record<string, string | number> = {}): void {
    this.claim();
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const h = this.baseHeaders({ ...headers, 'Content-Length': bytes.length });
    if (this.upgrade) {
      writeRawHead(this.upgrade.socket, status, { ...h, Connection: 'close' });
      this.upgrade.socket.end(this.method === 'HEAD' ? undefined : bytes);
      return;
    }
    this.res!.writeHead(status, h);
    this.res!.end(this.method === 'HEAD' ? undefined : bytes);
  }

  sendJson(status: number, value: unknown): void {
    this.send(status, JSON.stringify(value) + '\n', { 'Content-Type': 'application/json' });
  }

  noContent(status = 204): void {
    this.claim();
    if (this.upgrade) {
      writeRawHead(this.upgrade.socket, status, this.baseHeaders({ Connection: 'close' }));
      this.upgrade.socket.end();
      return;
    }
    this.res!.writeHead(status, this.baseHeaders());
    this.res!.end();
  }

  /** Docker's error form: `{"message": ...}` with the status of the error's code. */
  sendError(err: unknown): void {
    const e = err instanceof SkiffError ? err : toSkiffError(err);
    const status = httpStatusOf(e.code);
    if (this.answered) return;
    this.sendJson(status, { message: e.message });
  }

  /** A streamed answer (chunked): progress lines, logs, events, archives. */
  stream(status: number, headers: Record<string, string | number>): ResponseStream {
    this.claim();
    if (this.upgrade) {
      const socket = this.upgrade.socket;
      writeRawHead(socket, status, this.baseHeaders({ ...headers, Connection: 'close' }));
      return socketStream(socket);
    }
    const res = this.res!;
    res.writeHead(status, this.baseHeaders(headers));
    res.flushHeaders();
    // Small frames must not wait for Nagle.
    res.socket?.setNoDelay(true);
    return responseStream(res);
  }

  /** Drops the connection: for a failure after the answer has begun (the client sees it end early). */
  abort(): void {
    if (this.upgrade) this.upgrade.socket.destroy();
    else this.res!.destroy();
  }

  /** Streams a body (an archive) as the answer; stops reading it when the client goes. */
  async pipe(status: number, headers: Record<string, string | number>, body: ReadableStream<Uint8Array>): Promise<void> {
    const out = this.stream(status, headers);
    const reader = body.getReader();
    this.onClose(() => void reader.cancel().catch(() => {}));
    for (;;) {
      const { done, value } = await reader.read();
      if (done || out.isClosed) break;
      await out.write(value);
    }
    out.end();
  }

  /**
   * Takes over the connection: `101 UPGRADED` and the raw socket on an
   * upgrade request; a streamed 200 answer otherwise (dockerode's plain
   * `exec start`, attach without hijack).
   */
  hijack(contentType: string): Hijacked {
    this.claim();
    if (!this.upgrade) {
      const res = this.res!;
      res.writeHead(200, this.baseHeaders({ 'Content-Type': contentType }));
      res.flushHeaders();
      res.socket?.setNoDelay(true);
      return responseStream(res);
    }
    const socket = this.upgrade.socket;
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${API_VERSION}\r\n\r\n`);
    (socket as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
    const out = socketStream(socket) as Hijacked;
    out.input = socketInput(socket);
    return out;
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function writeRawHead(socket: Duplex, status: number, headers: Record<string, string | number>): void {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Status'}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  socket.write(head + '\r\n');
}

function waitDrain(w: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.once('drain', done);
    w.once('close', done);
  });
}

function responseStream(res: ServerResponse): ResponseStream {
  let closed = false;
  const closedP = new Promise<void>((resolve) => res.once('close', () => { closed = true; resolve(); }));
  return {
    async write(chunk) {
      if (closed || res.writableEnded) return;
      if (!res.write(chunk)) await waitDrain(res);
    },
    end() {
      if (!res.writableEnded) res.end();
    },
    closed: closedP,
    get isClosed() { return closed; },
  };
}

function socketStream(socket: Duplex): ResponseStream {
  let closed = false;
  const closedP = new Promise<void>((resolve) => socket.once('close', () => { closed = true; resolve(); }));
  socket.on('error', () => {}); // a vanished client is reported by 'close'
  return {
    async write(chunk) {
      if (closed || socket.writableEnded || socket.destroyed) return;
      if (!socket.write(chunk)) await waitDrain(socket);
    },
    end() {
      if (socket.writableEnded) return;
      // The client may still be sending (stdin); end our side, then let it close.
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    },
    closed: closedP,
    get isClosed() { return closed; },
  };
}

/** The bytes a client sends on a hijacked connection, ending when it half-closes. */
function socketInput(socket: Duplex): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(ctl) {
      let ended = false;
      const end = () => { if (!ended) { ended = true; try { ctl.close(); } catch { /* cancelled */ } } };
      socket.on('data', (c: Buffer) => {
        if (ended) return;
        ctl.enqueue(new Uint8Array(c));
        if ((ctl.desiredSize ?? 1) <= 0) socket.pause();
      });
      socket.once('end', end);
      socket.once('close', end);
      socket.resume();
    },
    pull() {
      socket.resume();
    },
    cancel() {
      socket.pause();
    },
  }, { highWaterMark: 1 << 16, size: (c) => c.byteLength });
}
