/**
 * Registry authentication: anonymous, HTTP Basic, and the Bearer token flow
 * (distribution's token spec). A 401's WWW-Authenticate challenge says which;
 * bearer tokens are fetched per scope and cached until they expire.
 */
import { unauthenticated } from '../errors/index.js';
import { errorFromResponse, networkError } from './errors.js';
import { withRetry } from './retry.js';
import { parseChallenges } from './challenge.js';
import type { CredentialSource, Credentials, RetryOptions } from './types.js';

/** `repository:NAME:pull` or `repository:NAME:pull,push`. */
export function repositoryScope(repository: string, actions: Array<'pull' | 'push'>): string {
  return `repository:${repository}:${actions.join(',')}`;
}

export function basicAuth(c: Credentials): string {
  const bytes = new TextEncoder().encode(`${c.username}:${c.password}`);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

interface TokenResponse {
  token?: string;
  access_token?: string;
  expires_in?: number;
  issued_at?: string;
}

/**
 * Holds what one registry asked for and the tokens it granted. One per
 * registry per client; safe to share across concurrent requests.
 */
export class Authenticator {
  private scheme: 'none' | 'basic' | 'bearer' = 'none';
  private bearer?: { realm: string; service?: string };
  private tokens = new Map<string, CachedToken>();
  private pending = new Map<string, Promise<CachedToken>>();
  private creds?: Promise<Credentials | undefined>;

  constructor(
    readonly registry: string,
    private readonly source: CredentialSource | undefined,
    private readonly fetchFn: typeof fetch,
    private readonly retry: RetryOptions | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  credentials(): Promise<Credentials | undefined> {
    if (!this.creds) {
      const s = this.source;
      this.creds = Promise.resolve(typeof s === 'function' ? s(this.registry) : s);
    }
    return this.creds;
  }

  /** Whether the next request carries credentials (for error messages). */
  async sendsCredentials(): Promise<boolean> {
    return this.scheme !== 'none' && (await this.credentials()) !== undefined;
  }

  /** The Authorization header for a request needing `scopes`, from what is known so far. */
  async authorization(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    if (this.scheme === 'basic') {
      const c = await this.credentials();
      return c ? basicAuth(c) : undefined;
    }
    if (this.scheme === 'bearer') {
      const t = await this.token(scopes, signal);
      return `Bearer ${t.token}`;
    }
    return undefined;
  }

  /**
   * Learns from a 401. Returns true when retrying with the new authorization
   * may succeed; false when it would only fail again.
   */
  async challenged(res: Response, scopes: string[], sentAuthorization: string | undefined): Promise<boolean> {
    const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      const realm = bearer.params.realm!;
      this.scheme = 'bearer';
      this.bearer = bearer.params.service === undefined ? { realm } : { realm, service: bearer.params.service };
      // A token we sent was refused (expired early, or revoked): drop it and ask again once.
      if (sentAuthorization?.startsWith('Bearer ')) {
        const key = scopeKey(scopes);
        const had = this.tokens.get(key);
        if (had && `Bearer ${had.token}` === sentAuthorization) {
          this.tokens.delete(key);
          return true;
        }
        return false;
      }
      return true;
    }
    if (basic) {
      this.scheme = 'basic';
      if (sentAuthorization?.startsWith('Basic ')) return false;
      return (await this.credentials()) !== undefined;
    }
    return false;
  }

  private async token(scopes: string[], signal?: AbortSignal): Promise<CachedToken> {
    const key = scopeKey(scopes);
    const have = this.tokens.get(key);
    if (have && have.expiresAt > this.now()) return have;
    let p = this.pending.get(key);
    if (!p) {
      p = this.fetchToken(scopes, signal).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    const t = await p;
    this.tokens.set(key, t);
    return t;
  }

  private async fetchToken(scopes: string[], signal?: AbortSignal): Promise<CachedToken> {
    const b = this.bearer!;
    let url: URL;
    try {
      url = new URL(b.realm);
    } catch {
      throw unauthenticated(`registry ${this.registry} sent an invalid token realm "${b.realm}"`);
    }
    if (url.protocol !== 'https:' && !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(url.hostname)) {
      // Credentials would travel in clear text to a non-loopback host.
      if ((await this.credentials()) !== undefined) throw unauthenticated(`registry ${this.registry} asks for credentials at a plain-http token server (${url.origin}); refusing to send them`);
    }
    if (b.service !== undefined) url.searchParams.set('service', b.service);
    for (const s of [...new Set(scopes)].sort()) url.searchParams.append('scope', s);
    const c = await this.credentials();
    if (c) url.searchParams.set('account', c.username);
    const headers: Record<string, string> = {};
    if (c) headers.authorization = basicAuth(c);
    const ctx = { registry: this.registry, kind: 'token' as const, hadCredentials: c !== undefined };
    const body = await withRetry(async () => {
      let res: Response;
      try {
        res = await this.fetchFn(url, { headers, ...(signal ? { signal } : {}) });
      } catch (err) {
        if (signal?.aborted) throw err;
        throw networkError(err, this.registry, url.origin);
      }
      if (!res.ok) throw await errorFromResponse(res, ctx);
      return (await res.json()) as TokenResponse;
    }, this.retry, signal);
    const token = body.token ?? body.access_token;
    if (!token) throw unauthenticated(`the token server of registry ${this.registry} answered without a token`);
    const lifetime = (body.expires_in && body.expires_in > 0 ? body.expires_in : 60) * 1000;
    const issued = body.issued_at ? Date.parse(body.issued_at) : NaN;
    const start = Number.isNaN(issued) ? this.now() : Math.min(issued, this.now());
    // Renew a little early so a token never expires in flight.
    return { token, expiresAt: start + lifetime - Math.min(10_000, lifetime / 10) };
  }
}

function scopeKey(scopes: string[]): string {
  return [...new Set(scopes)].sort().join(' ');
}
