/**
 * A small HTTP proxy on loopback in front of a registry that injects faults:
 * error statuses, connections dropped mid-body, corrupted bytes, rewritten
 * headers or bodies, throttling, and registries that ignore Range.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  | { kind: 'drop'; afterBytes: number }
  | { kind: 'corrupt'; offset: number }
  | { kind: 'header'; name: string; value: string }
  | { kind: 'body'; transform: (body: Buffer) => Buffer }
  | { kind: 'throttle'; bytesPerSecond: number }
  | { kind: 'no-ranges' }
  /** Never answer (the connection stays open). */
  | { kind: 'hang' }
  /** Send the headers and this many body bytes, then nothing more (the connection stays open). */
  | { kind: 'stall'; afterBytes: number };

export interface Rule {
  method?: string;
  /** Matched against the request path and query. */
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault. Default 1; Infinity for all. */
  times?: number;
}

export interface FaultProxy {
  domain: string;
  rules: Rule[];
  /** `METHOD path [range]` of every request, in order. */
  log: string[];
  /** The most blob GETs that were in flight at once (reset it by setting 0). */
  peakBlobGets: number;
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const [uhost, uport] = upstream.split(':') as [string, string];
  const rules: Rule[] = [];
  const log: string[] = [];
  const sockets = new Set<Socket>();
  const state: FaultProxy = {
    domain: '',
    rules,
    log,
    peakBlobGets: 0,
    stop: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };

  const pick = (req: IncomingMessage): Fault[] => {
    const out: Fault[] = [];
    for (const r of rules) {
      if ((r.times ?? 1) <= 0) continue;
      if (r.method && r.method !== req.method) continue;
      if (!r.path.test(req.url ?? '')) continue;
      r.times = (r.times ?? 1) - 1;
      out.push(r.fault);
    }
    return out;
  };

  let activeBlobGets = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '')) {
      activeBlobGets++;
      state.peakBlobGets = Math.max(state.peakBlobGets, activeBlobGets);
      res.once('close', () => { activeBlobGets--; });
    }
    log.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const faults = pick(req);
    const status = faults.find((f) => f.kind === 'status');
    if (status && status.kind === 'status') {
      req.resume();
      res.writeHead(status.status, { 'content-type': 'application/json', ...status.headers });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected fault' }] }));
      return;
    }
    if (faults.some((f) => f.kind === 'hang')) {
      req.resume();
      return;
    }
    const headers = { ...req.headers };
    const noRanges = faults.some((f) => f.kind === 'no-ranges');
    if (noRanges) delete headers.range;
    const up = request({ host: uhost, port: Number(uport), method: req.method, path: req.url, headers }, (ures) => {
      const h: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(ures.headers)) if (v !== undefined) h[k] = v;
      if (noRanges) delete h['accept-ranges'];
      for (const f of faults) if (f.kind === 'header') h[f.name.toLowerCase()] = f.value;
      const bodyFault = faults.find((f) => f.kind === 'body');
      if (bodyFault && bodyFault.kind === 'body') {
        const parts: Buffer[] = [];
        ures.on('data', (c: Buffer) => parts.push(c));
        ures.on('end', () => {
          const body = bodyFault.transform(Buffer.concat(parts));
          h['content-length'] = String(body.length);
          res.writeHead(ures.statusCode ?? 502, h);
          res.end(body);
        });
        return;
      }
      res.writeHead(ures.statusCode ?? 502, h);
      const drop = faults.find((f) => f.kind === 'drop');
      const corrupt = faults.find((f) => f.kind === 'corrupt');
      const stall = faults.find((f) => f.kind === 'stall');
      const throttle = faults.find((f) => f.kind === 'throttle');
      let sent = 0;
      ures.on('data', (chunk: Buffer) => {
        let c = chunk;
        if (corrupt && corrupt.kind === 'corrupt' && corrupt.offset >= sent && corrupt.offset < sent + c.length) {
          c = Buffer.from(c);
          c[corrupt.offset - sent] ^= 0xff;
        }
        if (stall && stall.kind === 'stall' && sent + c.length >= stall.afterBytes) {
          res.write(c.subarray(0, Math.max(0, stall.afterBytes - sent)));
          sent = stall.afterBytes;
          ures.destroy();
          return;
        }
        if (drop && drop.kind === 'drop' && sent + c.length >= drop.afterBytes) {
          res.write(c.subarray(0, Math.max(0, drop.afterBytes - sent)));
          sent = drop.afterBytes;
          ures.destroy();
          // Let the bytes go out, then cut the connection without finishing the body.
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        }
        sent += c.length;
        const more = res.write(c);
        if (throttle && throttle.kind === 'throttle') {
          ures.pause();
          setTimeout(() => ures.resume(), (c.length / throttle.bytesPerSecond) * 1000);
        } else if (!more) {
          ures.pause();
          res.once('drain', () => ures.resume());
        }
      });
      ures.on('end', () => { if (!res.destroyed && !stall) res.end(); });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  state.domain = `127.0.0.1:${port}`;
  return state;
}
