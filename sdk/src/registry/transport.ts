/**
 * One registry's HTTP transport: base URL, authentication (answering 401
 * challenges), retries of retryable failures, and cancellation.
 */
import { cancelled } from '../errors/index.js';
import { Authenticator } from './auth.js';
import { baseUrlOf } from './endpoint.js';
import { errorFromResponse, networkError, RegistryError, type RequestContext } from './errors.js';
import { withRetry } from './retry.js';
import type { RegistryOptions } from './types.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RegistryRequest {
  method: Method;
  /** An absolute URL (a Location), or a path starting with `/v2/`. */
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Token scopes the request needs, e.g. `repository:app:pull`. */
  scopes: string[];
  ctx: RequestContext;
  /** Statuses >= 400 handed back instead of thrown, e.g. 404 for existence checks. */
  allow?: number[];
  /** Retry retryable failures here (default true). Steps of an upload session say false and are retried as a whole. */
  retry?: boolean;
  signal?: AbortSignal;
}

export class RegistryTransport {
  readonly base: string;
  readonly auth: Authenticator;
  private readonly fetchFn: typeof fetch;

  constructor(readonly domain: string, readonly options: RegistryOptions = {}) {
    this.base = baseUrlOf(domain, options);
    this.fetchFn = options.fetch ?? ((...a: Parameters<typeof fetch>) => globalThis.fetch(...a));
    this.auth = new Authenticator(domain, options.credentials, this.fetchFn, options.retry);
  }

  url(pathOrUrl: string): string {
    return pathOrUrl.startsWith('/') ? this.base + pathOrUrl : pathOrUrl;
  }

  /** Sends a request; a status >= 400 that is not allowed becomes a RegistryError. */
  async request(r: RegistryRequest): Promise<Response> {
    if (r.retry === false) return this.once(r);
    return withRetry(() => this.once(r), this.options.retry, r.signal);
  }

  private async once(r: RegistryRequest): Promise<Response> {
    const url = this.url(r.url);
    let authorization = await this.auth.authorization(r.scopes, r.signal);
    for (let authTry = 0; ; authTry++) {
      const headers: Record<string, string> = { ...r.headers };
      if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
      if (authorization) headers.authorization = authorization;
      let res: Response;
      const deadline = new Deadline(this.options.timeoutMs ?? 60_000, r.signal);
      try {
        res = await this.fetchFn(url, {
          method: r.method,
          headers,
          ...(r.body !== undefined ? { body: r.body as Uint8Array<ArrayBuffer> } : {}),
          signal: deadline.signal,
          redirect: 'follow',
        });
      } catch (err) {
        if (r.signal?.aborted) throw cancelled(`the request to registry ${this.domain} was cancelled`, r.signal.reason);
        if (deadline.expired) throw new RegistryError('UNAVAILABLE', `registry ${this.domain} did not answer ${r.method} ${new URL(url).pathname} within ${deadline.ms / 1000} s`, { retryable: true, cause: err });
        throw networkError(err, this.domain, url);
      } finally {
        deadline.stop();
      }
      if (res.status === 401 && authTry === 0 && (await this.auth.challenged(res, r.scopes, authorization))) {
        const next = await this.auth.authorization(r.scopes, r.signal);
        if (next) {
          await res.body?.cancel().catch(() => {});
          authorization = next;
          continue;
        }
      }
      if (res.status >= 400 && !r.allow?.includes(res.status)) {
        const hadCredentials = authorization !== undefined && (await this.auth.credentials()) !== undefined;
        throw await errorFromResponse(res, { ...r.ctx, hadCredentials });
      }
      return res;
    }
  }
}

/** Resolves a Location header against the URL of the response that carried it. */
export function locationOf(res: Response, fallbackBase: string): string | undefined {
  const loc = res.headers.get('location');
  if (!loc) return undefined;
  return new URL(loc, res.url || fallbackBase).toString();
}

/**
 * An abort signal for one request's wait for an answer: it fires when `ms`
 * pass or when the caller's signal fires, until stopped. Once the headers are
 * in, body readers watch the caller's signal themselves (blob-reader does), so
 * no listener outlives the request.
 */
class Deadline {
  private readonly ac = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly onAbort: () => void;
  expired = false;

  constructor(readonly ms: number, private readonly outer?: AbortSignal) {
    this.onAbort = () => this.ac.abort(outer?.reason);
    if (outer?.aborted) this.ac.abort(outer.reason);
    else outer?.addEventListener('abort', this.onAbort, { once: true });
    this.timer = setTimeout(() => {
      this.expired = true;
      this.ac.abort(new Error(`no answer within ${ms} ms`));
    }, ms);
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }
}
