/**
 * Registry answers turned into SkiffErrors with messages that say what to do.
 * A RegistryError also says whether trying again may help, which the retry
 * loop reads; callers branch on `code` as for any SkiffError.
 */
import { SkiffError, type ErrorCode } from '../errors/index.js';
import { parseChallenges } from './challenge.js';

export class RegistryError extends SkiffError {
  /** The HTTP status, when the registry answered. */
  readonly status?: number;
  /** The first code of the registry's error body, e.g. MANIFEST_UNKNOWN. */
  readonly registryCode?: string;
  /** What the registry's error body said (its codes and messages, or the first line of a text body). */
  readonly registrySays?: string;
  /** A 5xx, a 429 or a dropped connection: trying again may succeed. */
  readonly retryable: boolean;
  /** What the registry asked for in Retry-After. */
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, extra: { status?: number; registryCode?: string; registrySays?: string; retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {}) {
    super(code, message, extra.cause === undefined ? undefined : { cause: extra.cause });
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.registryCode !== undefined) this.registryCode = extra.registryCode;
    if (extra.registrySays !== undefined) this.registrySays = extra.registrySays;
    this.retryable = extra.retryable ?? false;
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof RegistryError && err.retryable;
}

/** What a request was about, for the message. */
export interface RequestContext {
  registry: string;
  repository?: string;
  /** `manifest`, `blob`, `tags`, `upload`, `ping`, `token`. */
  kind: 'manifest' | 'blob' | 'tags' | 'upload' | 'ping' | 'token';
  /** The tag or digest asked for. */
  ref?: string;
  /** Whether credentials were sent (a 401 then means they were refused). */
  hadCredentials?: boolean;
  /** `pull` or `push`, for 403 messages. */
  action?: 'pull' | 'push';
}

interface RegistryErrorBody {
  errors?: Array<{ code?: string; message?: string; detail?: unknown }>;
}

/** Seconds or an HTTP date, as Retry-After allows. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

async function readErrorBody(res: Response): Promise<{ code?: string; message: string }> {
  let text = '';
  try {
    text = (await res.text()).slice(0, 4096);
  } catch {
    return { message: '' };
  }
  try {
    const body = JSON.parse(text) as RegistryErrorBody;
    const first = body.errors?.[0];
    if (first) {
      const message = body.errors!.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
      return first.code === undefined ? { message } : { code: first.code, message };
    }
  } catch {
    // not JSON: keep the text
  }
  return { message: text.trim().split('\n')[0]!.slice(0, 200) };
}

/** Builds the error for a response with status >= 400 (its body is consumed). */
export async function errorFromResponse(res: Response, ctx: RequestContext): Promise<RegistryError> {
  const { code: registryCode, message: detail } = await readErrorBody(res);
  const status = res.status;
  const reg = ctx.registry;
  const repo = ctx.repository ?? '';
  const said = detail ? ` (the registry said: ${detail})` : '';
  const extra = { status, ...(registryCode ? { registryCode } : {}), ...(detail ? { registrySays: detail } : {}) };
  if (status === 401) {
    const bearer = parseChallenges(res.headers.get('www-authenticate') ?? '').find((c) => c.scheme === 'bearer');
    if (ctx.hadCredentials && bearer?.params.error === 'insufficient_scope') {
      const action = ctx.action ?? 'pull';
      return new RegistryError('PERMISSION_DENIED', `registry ${reg} denied ${action} access${repo ? ` to ${repo}` : ''}: the token lacks the rights${said}; check that your account may ${action} it and that the repository exists`, extra);
    }
    const msg = ctx.hadCredentials
      ? `registry ${reg} refused the credentials${repo ? ` for ${repo}` : ''}${said}; check them and run \`skiff login ${reg}\` again`
      : `authentication required${repo ? ` to access ${repo}` : ''} on registry ${reg}${said}: run \`skiff login ${reg}\``;
    return new RegistryError('UNAUTHENTICATED', msg, extra);
  }
  if (status === 403) {
    const action = ctx.action ?? 'pull';
    return new RegistryError('PERMISSION_DENIED', `registry ${reg} denied ${action} access${repo ? ` to ${repo}` : ''}${said}; check that your account may ${action} it`, extra);
  }
  if (status === 404) {
    if (ctx.kind === 'manifest') {
      return new RegistryError('NOT_FOUND', `manifest unknown: ${repo}${ctx.ref ? (ctx.ref.startsWith('sha256:') ? '@' : ':') + ctx.ref : ''} not found in registry ${reg}${said}`, extra);
    }
    if (ctx.kind === 'blob') return new RegistryError('NOT_FOUND', `blob unknown: ${ctx.ref ?? 'blob'} not found in ${repo} on registry ${reg}${said}`, extra);
    if (ctx.kind === 'upload') return new RegistryError('NOT_FOUND', `upload session for ${ctx.ref ?? 'a blob'} in ${repo} on registry ${reg} is gone${said}; push again`, { ...extra, retryable: true });
    if (ctx.kind === 'tags') return new RegistryError('NOT_FOUND', `repository ${repo} not found in registry ${reg}${said}`, extra);
    return new RegistryError('NOT_FOUND', `registry ${reg} has no OCI distribution API at /v2/${said}; is it a registry?`, extra);
  }
  if (status === 429) {
    const after = parseRetryAfter(res.headers.get('retry-after'));
    const wait = after !== undefined ? ` (it asks to wait ${Math.ceil(after / 1000)} s)` : '';
    return new RegistryError('RESOURCE_EXHAUSTED', `registry ${reg} is rate-limiting requests: 429 Too Many Requests${wait}${said}; wait and try again`, { ...extra, retryable: true, ...(after !== undefined ? { retryAfterMs: after } : {}) });
  }
  if (status >= 500) {
    const after = parseRetryAfter(res.headers.get('retry-after'));
    return new RegistryError('UNAVAILABLE', `registry ${reg} failed (${status} ${res.statusText || 'server error'}) while handling ${describe(ctx)}${said}; try again later`, { ...extra, retryable: true, ...(after !== undefined ? { retryAfterMs: after } : {}) });
  }
  if (registryCode === 'DIGEST_INVALID' || registryCode === 'SIZE_INVALID') {
    return new RegistryError('DATA_LOSS', `registry ${reg} rejected ${describe(ctx)}: the content does not match its digest or size${said}; the local copy may be corrupt (run \`skiff system check\`)`, extra);
  }
  if (registryCode === 'MANIFEST_BLOB_UNKNOWN' || status === 416) {
    return new RegistryError('FAILED_PRECONDITION', `registry ${reg} rejected ${describe(ctx)}${said}`, extra);
  }
  return new RegistryError('INVALID_ARGUMENT', `registry ${reg} rejected ${describe(ctx)}: ${status} ${res.statusText}${said}`, extra);
}

function describe(ctx: RequestContext): string {
  const repo = ctx.repository ? ` in ${ctx.repository}` : '';
  switch (ctx.kind) {
    case 'manifest': return `manifest ${ctx.ref ?? ''}${repo}`;
    case 'blob': return `blob ${ctx.ref ?? ''}${repo}`;
    case 'upload': return `the upload of ${ctx.ref ?? 'a blob'}${repo}`;
    case 'tags': return `the tag list${repo}`;
    case 'token': return 'the token request';
    default: return 'the API check';
  }
}

/** A fetch that failed without an answer: refused, reset, DNS, TLS. */
export function networkError(err: unknown, registry: string, url: string): RegistryError {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new RegistryError('UNAVAILABLE', `cannot reach registry ${registry} (${url}): ${why}; check the name, the network, or whether it needs --insecure`, { retryable: true, cause: err });
}
