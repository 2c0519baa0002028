/**
 * `docker login` / `docker logout` and authenticated push and pull with the
 * real docker CLI against `skiff daemon` (POST /auth, X-Registry-Auth), with
 * a real dockerd beside it for the wording and exit codes: Debian's
 * docker-registry behind htpasswd Basic auth, and one behind a Bearer token
 * server.
 */
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerBinary, shutdownDaemon, startDaemon, type DaemonProcess, type DockerResult } from './support/harness.js';
import { startDockerd, type Dockerd } from './support/dockerd.js';
import { HOST_IMAGE } from './support/images.js';
import { freePort, startRegistry, type RegistryServer } from '../registry/registry-server.js';
import { startTokenServer, type TokenServer } from '../registry/token-server.js';
import { DEFAULT_DOMAIN } from '../../src/image/reference.js';

const alice = { username: 'alice', password: 's3cret pass' };
let real: Dockerd;
let skiff: DaemonProcess;
let basic: RegistryServer;
let tokens: TokenServer;
let tokenReg: RegistryServer;
let tmp: string;

/** A fresh DOCKER_CONFIG: a CLI that has never logged in anywhere. */
function freshConfig(): string {
  return mkdtempSync(join(tmp, 'docker-config-'));
}

function run(host: string, config: string, args: string[], input?: string): Promise<DockerResult> {
  return docker(host, args, { env: { DOCKER_CONFIG: config }, ...(input !== undefined ? { input } : {}), timeoutMs: 90_000 });
}

function login(host: string, config: string, registry: string, password = alice.password): Promise<DockerResult> {
  return run(host, config, ['login', '-u', alice.username, '--password-stdin', registry], `${password}\n`);
}

/** The `auths` entries the CLI stored in a config dir. */
function storedAuths(config: string): Record<string, { auth?: string }> {
  const file = join(config, 'config.json');
  if (!existsSync(file)) return {};
  return (JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, { auth?: string }> }).auths ?? {};
}

const both = (r: DockerResult) => r.stdout + r.stderr;

/** POST /auth on skiff's socket, as other clients (dockerode, SDKs) send it. */
function postAuth(body: string): Promise<{ status: number; json: { Status?: string; IdentityToken?: string; message?: string } }> {
  return new Promise((resolve, reject) => {
    const r = request({ socketPath: skiff.socket, method: 'POST', path: '/v1.41/auth', headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { message?: string } }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

beforeAll(async () => {
  dockerBinary();
  tmp = mkdtempSync(join(tmpdir(), 'skiff-login-'));
  tokens = await startTokenServer(tmp, { [alice.username]: alice.password });
  [real, skiff, basic, tokenReg] = await Promise.all([
    startDockerd(),
    startDaemon(),
    startRegistry({ auth: alice }),
    startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certFile } }),
  ]);
});

afterAll(async () => {
  await Promise.all([real?.stop(), shutdownDaemon(skiff), basic?.stop(), tokenReg?.stop()]);
  await tokens?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('docker login against skiff daemon, beside dockerd', () => {
  it('a wrong password fails with exit 1 and dockerd\'s wording, and nothing is stored', async () => {
    const [d, s] = [freshConfig(), freshConfig()];
    const [byDockerd, bySkiff] = await Promise.all([login(real.url, d, basic.domain, 'wrong'), login(skiff.url, s, basic.domain, 'wrong')]);
    const wording = `Error response from daemon: login attempt to http://${basic.domain}/v2/ failed with status: 401 Unauthorized`;
    expect(byDockerd.code, both(byDockerd)).toBe(1);
    expect(byDockerd.stderr).toContain(wording);
    expect(bySkiff.code, both(bySkiff)).toBe(1);
    expect(bySkiff.stderr).toContain(wording);
    expect(bySkiff.stderr).toContain('refused the credentials of user "alice"');
    expect(bySkiff.stdout).not.toContain('Login Succeeded');
    expect(storedAuths(s)).toEqual({});
  });

  it('a wrong password at a token server: exit 1 and the token server\'s reason, as dockerd', async () => {
    const [byDockerd, bySkiff] = await Promise.all([login(real.url, freshConfig(), tokenReg.domain, 'wrong'), login(skiff.url, freshConfig(), tokenReg.domain, 'wrong')]);
    for (const r of [byDockerd, bySkiff]) {
      expect(r.code, both(r)).toBe(1);
      expect(r.stderr).toMatch(/Error response from daemon: .*unauthorized.*bad credentials/i);
    }
  });

  it('the right password: "Login Succeeded", and the CLI stores the credentials', async () => {
    const [d, s] = [freshConfig(), freshConfig()];
    const [byDockerd, bySkiff] = await Promise.all([login(real.url, d, basic.domain), login(skiff.url, s, basic.domain)]);
    const auth = Buffer.from(`${alice.username}:${alice.password}`).toString('base64');
    for (const [r, config] of [[byDockerd, d], [bySkiff, s]] as const) {
      expect(r.code, both(r)).toBe(0);
      expect(r.stdout).toContain('Login Succeeded');
      expect(storedAuths(config)[basic.domain]?.auth).toBe(auth);
    }
    const token = await login(skiff.url, s, tokenReg.domain);
    expect(token.code, both(token)).toBe(0);
    expect(token.stdout).toContain('Login Succeeded');
  });

  it('an unreachable registry fails at once with a clear error, as dockerd', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const [byDockerd, bySkiff] = await Promise.all([login(real.url, freshConfig(), closed), login(skiff.url, freshConfig(), closed)]);
    expect(byDockerd.code, both(byDockerd)).toBe(1);
    expect(byDockerd.stderr).toContain('connection refused');
    expect(bySkiff.code, both(bySkiff)).toBe(1);
    expect(bySkiff.stderr).toContain(`Error response from daemon: cannot reach registry ${closed} (http://${closed}/v2/): ECONNREFUSED`);
  });

  it('without a server the CLI logs in to the default registry; here it cannot be reached, and the error says so within the login timeout', async () => {
    const started = Date.now();
    const r = await run(skiff.url, freshConfig(), ['login', '-u', alice.username, '--password-stdin'], `${alice.password}\n`);
    expect(r.code, both(r)).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`Error response from daemon: .*registry ${DEFAULT_DOMAIN.replace(/\./g, '\\.')}`));
    expect(Date.now() - started).toBeLessThan(35_000);
  });
});

describe('POST /auth as the API has it', () => {
  it('takes the older "auth" field and a server address with a scheme and path', async () => {
    const auth = Buffer.from(`${alice.username}:${alice.password}`).toString('base64');
    const ok = await postAuth(JSON.stringify({ auth, serveraddress: `http://${basic.domain}/v2/` }));
    expect(ok).toEqual({ status: 200, json: { Status: 'Login Succeeded', IdentityToken: '' } });
    const bad = await postAuth(JSON.stringify({ auth: Buffer.from('alice:nope').toString('base64'), serveraddress: basic.domain }));
    expect(bad.status).toBe(401);
    expect(bad.json.message).toContain(`registry ${basic.domain} refused the credentials of user "alice"`);
    expect(bad.json.message).toContain('401 Unauthorized (UNAUTHORIZED: '); // the registry's own words
  });

  it('says what is wrong with a request it cannot use', async () => {
    const notJson = await postAuth('{"username":');
    expect(notJson.status).toBe(400);
    expect(notJson.json.message).toMatch(/invalid JSON/);
    const badHost = await postAuth(JSON.stringify({ username: 'a', password: 'b', serveraddress: 'not a host!' }));
    expect(badHost.status).toBe(400);
    expect(badHost.json.message).toMatch(/is not a registry name/);
    const token = await postAuth(JSON.stringify({ identitytoken: 'abc', serveraddress: basic.domain }));
    expect(token.status).toBe(501);
    expect(token.json.message).toMatch(/identity or registry token is not supported.*user name and password/);
  });
});

describe('push and pull through skiff daemon with the stored credentials', () => {
  for (const kind of ['htpasswd', 'token'] as const) {
    it(`${kind} registry: refused without login, works after it, refused again after logout`, async () => {
      const reg = kind === 'htpasswd' ? basic : tokenReg;
      const name = `${reg.domain}/skiff/private:1`;
      const anonymous = freshConfig();
      const user = freshConfig();
      expect((await run(skiff.url, user, ['tag', HOST_IMAGE, name])).code).toBe(0);
      const id = async () => (await run(skiff.url, user, ['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim();
      const pushedId = await id();
      expect(pushedId).toMatch(/^sha256:[0-9a-f]{64}$/);

      const refused = await run(skiff.url, anonymous, ['push', name]);
      expect(refused.code, both(refused)).not.toBe(0);
      expect(both(refused)).toMatch(/authentication required|unauthorized/i);

      expect((await login(skiff.url, user, reg.domain)).code).toBe(0);
      const push = await run(skiff.url, user, ['push', name]);
      expect(push.code, both(push)).toBe(0);
      expect(push.stdout).toMatch(/1: digest: sha256:[0-9a-f]{64} size: \d+/);

      expect((await run(skiff.url, user, ['rmi', name])).code).toBe(0);
      const anonPull = await run(skiff.url, anonymous, ['pull', name]);
      expect(anonPull.code, both(anonPull)).not.toBe(0);
      expect(both(anonPull)).toMatch(/authentication required|unauthorized/i);

      const pull = await run(skiff.url, user, ['pull', name]);
      expect(pull.code, both(pull)).toBe(0);
      expect(pull.stdout).toContain(`Status: Downloaded newer image for ${name}`);
      expect(await id()).toBe(pushedId);

      if (kind === 'htpasswd') {
        // dockerd pulls what skiff pushed with the same stored credentials, and refuses it without them.
        const viaDockerd = await run(real.url, user, ['pull', name]);
        expect(viaDockerd.code, both(viaDockerd)).toBe(0);
        const anonDockerd = await run(real.url, anonymous, ['pull', name]);
        expect(anonDockerd.code).toBe(anonPull.code);
        expect(anonDockerd.stderr).toContain('no basic auth credentials');
      }

      const logout = await run(skiff.url, user, ['logout', reg.domain]);
      expect(logout.code, both(logout)).toBe(0);
      expect(logout.stdout).toContain(`Removing login credentials for ${reg.domain}`);
      expect(storedAuths(user)[reg.domain]).toBeUndefined();
      expect((await run(skiff.url, user, ['rmi', name])).code).toBe(0);
      const afterLogout = await run(skiff.url, user, ['pull', name]);
      expect(afterLogout.code, both(afterLogout)).not.toBe(0);
      expect(both(afterLogout)).toMatch(/authentication required|unauthorized/i);
    }, 120_000);
  }
});
