/**
 * `POST /auth`, what `docker login` calls: checks the credentials against the
 * registry (GET /v2/ through its Basic or Bearer challenge) and answers
 * `{"Status":"Login Succeeded"}`. As dockerd, the daemon keeps nothing: the
 * CLI stores the credentials and sends them with each pull and push
 * (X-Registry-Auth).
 */
import { invalidArgument, isSkiffError, unauthenticated, unsupported } from '../../errors/index.js';
import { checkCredentials } from '../../registry/login.js';
import { RegistryError } from '../../registry/errors.js';
import { baseUrlOf } from '../../registry/endpoint.js';
import { registryKey } from '../../node/credentials.js';
import type { Router } from '../router.js';
import type { DaemonContext } from '../context.js';

/** The AuthConfig the CLI sends (docker's api/types/registry.AuthConfig). */
interface AuthConfig {
  username?: string;
  password?: string;
  /** base64(user:password), an older form of the two above. */
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/**
 * A login check is one try with a bounded wait: the CLI waits for it without
 * a timeout, and a registry that cannot be reached (no network, a wrong
 * name) must fail the login now rather than after the pull path's retries.
 */
const LOGIN_TIMEOUT_MS = 30_000;

function credentialsOf(body: AuthConfig): { username: string; password: string } {
  if (body.username !== undefined || body.password !== undefined) return { username: body.username ?? '', password: body.password ?? '' };
  if (body.auth) {
    const plain = Buffer.from(body.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon > 0) return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
    throw invalidArgument('the "auth" field of the login request is not base64 of USER:PASSWORD');
  }
  return { username: '', password: '' };
}

export function authRoutes(r: Router<DaemonContext>): void {
  r.add('POST', '/auth', async (x, ctx) => {
    const body = (await x.json<AuthConfig>()) ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('the login request body must be a JSON object {"username","password","serveraddress"}');
    const creds = credentialsOf(body);
    if (!creds.username && !creds.password && (body.identitytoken || body.registrytoken)) {
      throw unsupported('logging in with an identity or registry token is not supported by skiff daemon; log in with a user name and password');
    }
    // No server address means Docker Hub, as dockerd does; registryKey maps the
    // CLI's Hub index URL and bare host names alike to the domain pulls use.
    const domain = registryKey(body.serveraddress ?? '');
    const endpoint = `${baseUrlOf(domain, ctx.registry)}/v2/`;
    const ac = new AbortController();
    x.onClose(() => ac.abort(new Error('the client went away')));
    try {
      await checkCredentials(domain, creds, {
        ...ctx.registry,
        retry: { ...ctx.registry.retry, attempts: 1 },
        timeoutMs: Math.min(ctx.registry.timeoutMs ?? LOGIN_TIMEOUT_MS, LOGIN_TIMEOUT_MS),
        signal: ac.signal,
      });
    } catch (err) {
      if (!isSkiffError(err, 'UNAUTHENTICATED')) throw err;
      // dockerd's wording, then which credentials and what to do.
      const said = err instanceof RegistryError ? err.registrySays : undefined;
      const who = creds.username ? `user "${creds.username}"` : 'an empty user name';
      throw unauthenticated(`login attempt to ${endpoint} failed with status: 401 Unauthorized${said ? ` (${said})` : ''}: registry ${domain} refused the credentials of ${who}; check the user name and password`, err);
    }
    x.sendJson(200, { Status: 'Login Succeeded', IdentityToken: '' });
  });
}
