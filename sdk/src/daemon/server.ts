/**
 * The skiff daemon: the Docker Engine API over an Engine, on a unix socket
 * (mode 0660) and optionally on loopback TCP. Versioned (`/v1.NN/...`) and
 * unversioned paths reach the same handlers. Closing the daemon ends every
 * client connection; containers keep running, and a daemon started later on
 * the same root finds them again through the Engine's records.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { failedPrecondition, invalidArgument, notFound, toSkiffError } from '../errors/index.js';
import type { Engine } from '../runtime/engine.js';
import type { RegistryOptions } from '../registry/types.js';
import { API_VERSION, splitVersion } from './api-version.js';
import { Exchange } from './exchange.js';
import { Router } from './router.js';
import { DaemonContext, type ImageBuilder } from './context.js';
import { FsExtrasStore, MemoryExtrasStore } from './container-extras.js';
import { systemRoutes } from './routes/system.js';
import { containerRoutes } from './routes/containers.js';
import { archiveRoutes } from './routes/archive.js';
import { execRoutes } from './routes/exec.js';
import { imageRoutes } from './routes/images.js';
import { volumeRoutes } from './routes/volumes.js';
import { networkRoutes } from './routes/networks.js';
import { buildRoutes } from './routes/build.js';
import { commitRoutes } from './routes/commit.js';
import { authRoutes } from './routes/auth.js';

export interface DaemonOptions {
  engine: Engine;
  /**
   * Where to listen: `unix:///path/to.sock` or `tcp://127.0.0.1:PORT` (port 0
   * picks one). Default: `unix://<root>/skiff.sock`.
   */
  hosts?: string[];
  /** The store's root: container extras live beside the records, and /info shows it. */
  root?: string;
  /** How to reach registries for pull and push (credentials, insecure registries). */
  registry?: RegistryOptions;
  /** Builds images for `POST /build`; without one, builds are refused. */
  builder?: ImageBuilder;
  /** Allow TCP on addresses other than loopback (the API has no authentication). */
  allowRemoteTcp?: boolean;
  /** Mode of the unix socket (default 0660). */
  socketMode?: number;
  /** One line per request and per notable event; default: silent. */
  log?: (line: string) => void;
}

export interface Listener {
  /** As a client would write it in DOCKER_HOST: `unix:///...` or `tcp://127.0.0.1:2375`. */
  url: string;
  server: Server;
  socketPath?: string;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/** Whether a daemon answers on a unix socket. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(2000, () => done(true));
  });
}

export function buildRouter(): Router<DaemonContext> {
  const r = new Router<DaemonContext>();
  systemRoutes(r);
  containerRoutes(r);
  archiveRoutes(r);
  execRoutes(r);
  imageRoutes(r);
  volumeRoutes(r);
  networkRoutes(r);
  buildRoutes(r);
  commitRoutes(r);
  authRoutes(r);
  return r;
}

export class Daemon {
  readonly context: DaemonContext;
  readonly listeners: Listener[] = [];
  private readonly router = buildRouter();
  private readonly sockets = new Set<Socket | Duplex>();
  private closing?: Promise<void>;

  private constructor(private readonly options: DaemonOptions) {
    const root = options.root ?? '';
    const extras = root ? new FsExtrasStore(join(root, 'containers')) : new MemoryExtrasStore();
    this.context = new DaemonContext(options.engine, extras, options.registry ?? {}, { name: hostname(), root, id: randomBytes(16).toString('hex') }, options.builder);
  }

  /** Starts the Engine (finding containers left running) and listens on every host. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const d = new Daemon(options);
    await options.engine.init();
    for (const c of await options.engine.list()) d.context.watch(c.id);
    const hosts = options.hosts?.length ? options.hosts : [`unix://${join(options.root ?? '.', 'skiff.sock')}`];
    try {
      for (const h of hosts) d.listeners.push(await d.listen(h));
    } catch (err) {
      await d.close();
      throw err;
    }
    return d;
  }

  /** DOCKER_HOST for the first listener. */
  get url(): string {
    return this.listeners[0]!.url;
  }

  private newServer(): Server {
    const server = createServer({ keepAlive: true });
    server.requestTimeout = 0; // loads and build contexts may take long to arrive
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(new Exchange(req, res)));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.handle(new Exchange(req, undefined, { socket, head })));
    server.on('clientError', (_err, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    return server;
  }

  private async listen(host: string): Promise<Listener> {
    const url = new URL(host.includes('://') ? host : `unix://${host}`);
    const server = this.newServer();
    const listenOn = (arg: string | { host: string; port: number }) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        const done = () => {
          server.off('error', reject);
          resolve();
        };
        if (typeof arg === 'string') server.listen(arg, done);
        else server.listen(arg.port, arg.host, done);
      });
    if (url.protocol === 'unix:') {
      const path = decodeURIComponent(url.pathname || url.host);
      if (!path.startsWith('/')) throw invalidArgument(`invalid --host ${host}: the socket path must be absolute (unix:///path/to.sock)`);
      let stat;
      try {
        stat = lstatSync(path);
      } catch {
        stat = undefined;
      }
      if (stat) {
        if (!stat.isSocket()) throw failedPrecondition(`cannot listen on ${path}: it exists and is not a socket`);
        if (await answers(path)) throw failedPrecondition(`another daemon is already listening on ${path}; stop it first (or use another --host)`);
        unlinkSync(path); // stale: left by a daemon that died
      }
      mkdirSync(dirname(path), { recursive: true });
      await listenOn(path).catch((err: NodeJS.ErrnoException) => {
        throw failedPrecondition(`listen on unix socket ${path}: ${err.code ?? ''} ${err.message}`, err);
      });
      chmodSync(path, this.options.socketMode ?? 0o660);
      return { url: `unix://${path}`, server, socketPath: path };
    }
    if (url.protocol === 'tcp:' || url.protocol === 'http:') {
      const hostName = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
      if (!isLoopback(hostName) && !this.options.allowRemoteTcp) {
        throw invalidArgument(`refusing to listen on ${host}: the API has no authentication, so TCP is allowed on loopback only (127.0.0.1, ::1); pass --allow-remote-tcp to listen there anyway`);
      }
      const port = url.port === '' ? 2375 : Number(url.port);
      await listenOn({ host: hostName, port }).catch((err: NodeJS.ErrnoException) => {
        throw failedPrecondition(`listen on tcp ${hostName}:${port}: ${err.code ?? ''} ${err.message}`, err);
      });
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      return { url: `tcp://${hostName.includes(':') ? `[${hostName}]` : hostName}:${actual}`, server };
    }
    throw invalidArgument(`invalid --host ${host}: use unix:///path/to.sock or tcp://127.0.0.1:PORT`);
  }

  private async handle(x: Exchange): Promise<void> {
    const started = Date.now();
    if (x.isUpgrade) {
      const s = (x.req.socket as Socket);
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    }
    try {
      if (this.closing) throw failedPrecondition('the daemon is shutting down');
      const { version, path } = splitVersion(x.path);
      x.path = path;
      x.version = version;
      const hit = this.router.match(x.method, path);
      if (!hit) throw notFound('page not found');
      x.params = hit.params;
      await hit.handler(x, this.context);
      if (!x.hasAnswered) throw new Error(`internal: ${x.method} ${path} gave no answer`);
    } catch (err) {
      const e = toSkiffError(err);
      if (!x.hasAnswered) x.sendError(e);
      else x.abort();
      this.options.log?.(`${x.method} ${x.req.url} failed: ${e.code} ${e.message}`);
      return;
    }
    this.options.log?.(`${x.method} ${x.req.url} ${Date.now() - started}ms`);
  }

  /** Stops listening and ends every connection; containers keep running. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = this.listeners.map((l) => new Promise<void>((res) => l.server.close(() => res())));
      for (const l of this.listeners) l.server.closeIdleConnections();
      for (const s of this.sockets) s.destroy();
      await Promise.all(closed);
      for (const l of this.listeners) {
        if (!l.socketPath) continue;
        try {
          unlinkSync(l.socketPath);
        } catch {
          // already gone
        }
      }
      await this.options.engine.close();
    })();
    return this.closing;
  }
}

export { API_VERSION };
