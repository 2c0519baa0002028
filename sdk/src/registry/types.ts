/** Shared types of the OCI distribution client. */

/** A user name and password (or an access token used as the password). */
export interface Credentials {
  username: string;
  password: string;
}

/**
 * Where credentials come from: fixed ones, or a lookup by registry domain
 * (`docker.io`, `localhost:5000`). Returning undefined means anonymous.
 */
export type CredentialSource =
  | Credentials
  | ((registry: string) => Credentials | undefined | Promise<Credentials | undefined>);

export interface RetryOptions {
  /** Tries in all, the first included. Default 5. */
  attempts?: number;
  /** The first backoff; each next one doubles, with jitter. Default 250 ms. */
  baseDelayMs?: number;
  /** The longest backoff. Default 8 s. */
  maxDelayMs?: number;
  /** A 429 or 503 asking to wait longer than this fails at once. Default 60 s. */
  maxRetryAfterMs?: number;
}

/** How to reach registries; shared by every call of the client. */
export interface RegistryOptions {
  credentials?: CredentialSource;
  /**
   * Registries (`host` or `host:port`) that may be reached over plain http.
   * Loopback registries (localhost, 127.0.0.0/8, [::1]) always may.
   */
  insecure?: string[];
  /**
   * Base URLs to use instead of `https://DOMAIN` for some domains, e.g. a
   * mirror, or the API host of a registry whose name differs from its domain.
   */
  endpoints?: Record<string, string>;
  retry?: RetryOptions;
  /**
   * How long to wait for a registry's answer, and for the next bytes of a
   * blob, before counting the connection as dropped (and retrying). Default 60 s.
   */
  timeoutMs?: number;
  /** The fetch to use (tests, proxies). Default: globalThis.fetch. */
  fetch?: typeof fetch;
  userAgent?: string;
}

/** What happens to one blob during a pull or a push. */
export type BlobStatus = 'waiting' | 'downloading' | 'verifying' | 'done' | 'exists' | 'pushing' | 'mounted';

/** A progress event, one stream of them per blob. */
export interface RegistryProgress {
  /** The short digest (12 hex digits), as docker shows it. */
  id: string;
  /** The full digest. */
  digest: string;
  kind: 'layer' | 'config';
  status: BlobStatus;
  /** Bytes done so far. */
  current: number;
  total: number;
}

export type ProgressListener = (event: RegistryProgress) => void;

export function shortDigest(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}
