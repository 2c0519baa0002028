/**
 * A transport on `fetch`, for daemons reached by an http(s) URL (a daemon on
 * TCP, or behind a proxy). fetch cannot hijack a connection, so attach and
 * exec use the API's plain streamed answers: output only, no stdin.
 */
import { unavailable } from '../errors/index.js';
import { queryString, type ApiRequest, type ApiResponse, type Transport } from './transport.js';

export class FetchTransport implements Transport {
  constructor(private readonly baseUrl: string, private readonly fetchImpl: typeof fetch = globalThis.fetch) {}

  async request(req: ApiRequest): Promise<ApiResponse> {
    const url = this.baseUrl.replace(/\/$/, '') + req.path + queryString(req.query);
    const init: RequestInit & { duplex?: 'half' } = { method: req.method, ...(req.headers ? { headers: req.headers } : {}), ...(req.signal ? { signal: req.signal } : {}) };
    if (req.body !== undefined) {
      init.body = req.body as BodyInit;
      if (req.body instanceof ReadableStream) init.duplex = 'half';
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, init);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw unavailable(`cannot reach the daemon at ${this.baseUrl} (${req.method} ${req.path}): ${(err as Error).message}`, err);
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
    return { status: res.status, headers, body: res.body ?? new ReadableStream({ start: (c) => c.close() }) };
  }
}
