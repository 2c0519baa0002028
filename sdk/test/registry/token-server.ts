/**
 * A token server for registry Bearer auth (distribution's token spec): it
 * checks Basic credentials and signs ES256 JWTs with a self-signed key whose
 * certificate the registry trusts (rootcertbundle), carried in the x5c header.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { requireTool } from './registry-server.js';

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** The query of each token request, in order. */
  requests: Array<{ scopes: string[]; service: string | null; account: string | null; user?: string }>;
  /** Which name to use for the token in the answer. */
  field: 'token' | 'access_token';
  expiresIn?: number;
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(dir: string, users: Record<string, string>): Promise<TokenServer> {
  requireTool('/usr/bin/openssl', 'openssl');
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  const r = spawnSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=skiff-test-token'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const key = createPrivateKey(readFileSync(keyFile));
  const der = new X509Certificate(readFileSync(certFile)).raw;
  const service = 'skiff-test-registry';
  const issuer = 'skiff-test-issuer';

  const state: TokenServer = {
    realm: '', service, issuer, certFile, requests: [], field: 'token',
    stop: async () => {},
  };

  const userOf = (req: IncomingMessage): string | undefined | null => {
    const h = req.headers.authorization;
    if (!h) return undefined;
    if (!h.startsWith('Basic ')) return null;
    const plain = Buffer.from(h.slice(6), 'base64').toString('utf8');
    const i = plain.indexOf(':');
    const [u, p] = [plain.slice(0, i), plain.slice(i + 1)];
    return users[u] === p ? u : null;
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const user = userOf(req);
    const scopes = url.searchParams.getAll('scope');
    state.requests.push({ scopes, service: url.searchParams.get('service'), account: url.searchParams.get('account'), ...(user ? { user } : {}) });
    if (user === null) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    // Signed-in users may pull and push anything; anonymous users get nothing.
    const access = user
      ? scopes.map((s) => {
        const [type, name, actions] = [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1, s.lastIndexOf(':')), s.slice(s.lastIndexOf(':') + 1)];
        return { type, name, actions: actions.split(',') };
      })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'ES256', typ: 'JWT', x5c: [der.toString('base64')] };
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    const token = `${input}.${b64url(sig)}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ [state.field]: token, expires_in: state.expiresIn ?? 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  state.realm = `http://127.0.0.1:${port}/token`;
  state.stop = () => new Promise<void>((r) => server.close(() => r()));
  return state;
}
