/**
 * How the API client reaches a daemon. The client speaks only to this
 * interface; a transport carries one request (or one hijacked connection).
 * Node's transport (unix sockets, TCP, hijack) is in node-transport.ts; a
 * fetch-based one for http(s) URLs is in fetch-transport.ts.
 */
import { SkiffError, type ErrorCode } from '../errors/index.js';

export type QueryValue = string | number | boolean | string[] | undefined;

export interface ApiRequest {
  method: string;
  /** Without the version prefix: `/containers/create`. */
  path: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  body?: Uint8Array | string | ReadableStream<Uint8Array>;
  signal?: AbortSignal;
}

export interface ApiResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: ReadableStream<Uint8Array>;
}

/** A connection taken over after `101 UPGRADED` (attach, exec start). */
export interface HijackedConnection {
  headers: Record<string, string>;
  /** What the daemon sends: frames, or raw bytes with a TTY. */
  output: ReadableStream<Uint8Array>;
  /** What the client sends (stdin); closing it half-closes the connection. */
  input: WritableStream<Uint8Array>;
  /** Drops the connection. */
  close(): void;
}

export interface Transport {
  request(req: ApiRequest): Promise<ApiResponse>;
  /** Absent where the platform cannot hijack a connection (fetch). */
  hijack?(req: ApiRequest): Promise<HijackedConnection>;
  close?(): void;
}

/** `?a=1&b=x&b=y`: lists repeat their key, booleans are 1 or 0 (as the docker CLI sends them). */
export function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.append(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The error code an API status stands for. */
export function codeOfStatus(status: number): ErrorCode {
  switch (status) {
    case 400: return 'INVALID_ARGUMENT';
    case 401: return 'UNAUTHENTICATED';
    case 403: return 'PERMISSION_DENIED';
    case 404: return 'NOT_FOUND';
    case 409: return 'CONFLICT';
    case 429: return 'RESOURCE_EXHAUSTED';
    case 499: return 'CANCELLED';
    case 501: return 'UNSUPPORTED';
    case 503: return 'UNAVAILABLE';
    case 504: return 'DEADLINE_EXCEEDED';
    default: return 'INTERNAL';
  }
}

/** A SkiffError from a daemon's `{"message": ...}` error answer. */
export function apiError(status: number, bodyText: string, what: string): SkiffError {
  let message = bodyText.trim();
  try {
    const j = JSON.parse(bodyText) as { message?: string };
    if (j && typeof j.message === 'string') message = j.message;
  } catch {
    // not JSON: keep the text
  }
  return new SkiffError(codeOfStatus(status), message || `${what}: the daemon answered ${status} without a message`);
}
