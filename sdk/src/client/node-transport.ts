/**
 * The Node transport: HTTP over a unix socket or TCP, with connection hijack
 * for attach and exec. Node-only (export it from @skiff/sdk/node). Also reads
 * DOCKER_HOST: `connectDocker()` reaches whatever daemon the docker CLI would.
 */
import { Agent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { invalidArgument, unavailable } from '../errors/index.js';
import { apiError, queryString, type ApiRequest, type ApiResponse, type HijackedConnection, type Transport } from './transport.js';
import { DockerClient, type DockerClientOptions } from './client.js';

export type NodeTarget = { socketPath: string } | { host: string; port: number };

/** `unix:///run/skiff.sock`, `tcp://127.0.0.1:2375`, `http://host:port`; a bare path is a socket. */
export function parseDockerHost(host: string): NodeTarget {
  if (host.startsWith('/')) return { socketPath: host };
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw invalidArgument(`invalid daemon address "${host}": use unix:///path/to.sock or tcp://HOST:PORT`);
  }
  if (url.protocol === 'unix:') return { socketPath: decodeURIComponent(url.pathname || url.host) };
  if (url.protocol === 'tcp:' || url.protocol === 'http:') return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 2375 };
  throw invalidArgument(`unsupported daemon address "${host}": only unix:// and tcp:// (no TLS) are supported`);
}

function headersOf(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function toWeb(r: Readable): ReadableStream<Uint8Array> {
  return Readable.toWeb(r) as unknown as ReadableStream<Uint8Array>;
}

async function readAll(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

export class NodeTransport implements Transport {
  private readonly agent = new Agent({ keepAlive: true });

  constructor(readonly target: NodeTarget) {}

  private options(req: ApiRequest, extra: RequestOptions = {}): RequestOptions {
    const headers: Record<string, string> = { Host: 'docker', ...req.headers };
    if (typeof req.body === 'string' || req.body instanceof Uint8Array) headers['Content-Length'] = String(typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.length);
    return {
      ...('socketPath' in this.target ? { socketPath: this.target.socketPath } : { host: this.target.host, port: this.target.port }),
      method: req.method,
      path: req.path + queryString(req.query),
      headers,
      agent: this.agent,
      ...extra,
    };
  }

  private where(): string {
    return 'socketPath' in this.target ? this.target.socketPath : `${this.target.host}:${this.target.port}`;
  }

  private connectError(err: NodeJS.ErrnoException, req: ApiRequest): Error {
    if (err.name === 'AbortError') return err;
    return unavailable(`cannot reach the daemon at ${this.where()} (${req.method} ${req.path}): ${err.code ?? ''} ${err.message}; is it running?`, err);
  }

  private send(r: ReturnType<typeof httpRequest>, body: ApiRequest['body']): void {
    if (body === undefined) r.end();
    else if (typeof body === 'string' || body instanceof Uint8Array) r.end(body);
    else Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>).pipe(r);
  }

  request(req: ApiRequest): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const r = httpRequest(this.options(req, req.signal ? { signal: req.signal } : {}), (res) => {
        resolve({ status: res.statusCode ?? 0, headers: headersOf(res), body: toWeb(res) });
      });
      r.on('error', (err) => reject(this.connectError(err, req)));
      this.send(r, req.body);
    });
  }

  hijack(req: ApiRequest): Promise<HijackedConnection> {
    return new Promise((resolve, reject) => {
      const r = httpRequest(this.options({ ...req, headers: { ...req.headers, Connection: 'Upgrade', Upgrade: 'tcp' } }, { agent: false }));
      r.on('error', (err) => reject(this.connectError(err, req)));
      r.on('response', (res) => {
        // Not upgraded: an error answer (or a daemon that streams without hijack).
        if ((res.statusCode ?? 0) >= 400) {
          void readAll(res).then((text) => reject(apiError(res.statusCode ?? 0, text, `${req.method} ${req.path}`)));
          return;
        }
        resolve({ headers: headersOf(res), output: toWeb(res), input: new WritableStream({ write: () => {} }), close: () => res.destroy() });
      });
      r.on('upgrade', (res, socket: Socket, head: Buffer) => {
        if (head.length) socket.unshift(head);
        socket.setNoDelay(true);
        const output = new ReadableStream<Uint8Array>({
          start(ctl) {
            socket.on('data', (c: Buffer) => {
              ctl.enqueue(new Uint8Array(c));
              if ((ctl.desiredSize ?? 1) <= 0) socket.pause();
            });
            let ended = false;
            const end = () => { if (!ended) { ended = true; try { ctl.close(); } catch { /* cancelled */ } } };
            socket.once('end', end);
            socket.once('close', end);
            socket.once('error', (e) => { if (!ended) { ended = true; ctl.error(e); } });
          },
          pull() { socket.resume(); },
          cancel() { socket.destroy(); },
        }, { highWaterMark: 1 << 16, size: (c) => c.byteLength });
        const input = new WritableStream<Uint8Array>({
          write: (chunk) => new Promise<void>((res2, rej2) => socket.write(chunk, (err) => (err ? rej2(err) : res2()))),
          close: () => new Promise<void>((res2) => socket.end(() => res2())),
          abort: () => void socket.destroy(),
        });
        resolve({ headers: headersOf(res), output, input, close: () => socket.destroy() });
      });
      this.send(r, req.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * A client for the daemon the docker CLI would use: `host`, else
 * $DOCKER_HOST, else /var/run/docker.sock. Works with skiff's daemon and with
 * Docker's.
 */
export function connectDocker(host?: string, options: DockerClientOptions = {}): DockerClient {
  const where = host ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  return new DockerClient(new NodeTransport(parseDockerHost(where)), options);
}
