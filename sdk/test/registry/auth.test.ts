/** Registry authentication against real registries: htpasswd Basic, and Bearer tokens from a token server. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryImageLayout } from '../../src/content/memory.js';
import { installNodeHasher } from '../../src/node/hasher.js';
import { CredentialStore, login, logout } from '../../src/node/credentials.js';
import { RegistryClient } from '../../src/registry/client.js';
import { pullImage } from '../../src/registry/pull.js';
import { pushImage } from '../../src/registry/push.js';
import { startRegistry, type RegistryServer } from './registry-server.js';
import { startTokenServer, type TokenServer } from './token-server.js';
import { makeImage } from './test-images.js';

installNodeHasher();
const retry = { baseDelayMs: 10, maxDelayMs: 50 };
const alice = { username: 'alice', password: 's3cret pass:with colon' };

describe('HTTP Basic (htpasswd)', () => {
  let reg: RegistryServer;
  let tmp: string;
  beforeAll(async () => {
    reg = await startRegistry({ auth: alice });
    tmp = mkdtempSync(join(tmpdir(), 'skiff-auth-'));
  });
  afterAll(async () => {
    await reg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('fails without credentials with UNAUTHENTICATED telling to run skiff login', async () => {
    const err = await pullImage({ layout: new MemoryImageLayout(), reference: `${reg.domain}/b/app:1`, retry }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((err as Error).message).toContain(`run \`skiff login ${reg.domain}\``);
  });

  it('pushes and pulls with credentials', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/b/app:1`;
    const img = await makeImage(src, name);
    await pushImage({ layout: src, reference: name, credentials: alice, retry });
    const dst = new MemoryImageLayout();
    await pullImage({ layout: dst, reference: name, credentials: () => alice, retry });
    expect((await dst.getRef(name))?.digest).toBe(img.manifest.digest);
  });

  it('reports refused credentials as such', async () => {
    const err = await pullImage({ layout: new MemoryImageLayout(), reference: `${reg.domain}/b/app:1`, credentials: { username: 'alice', password: 'wrong' }, retry }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((err as Error).message).toMatch(/refused the credentials/);
  });

  it('login checks the credentials, saves them with mode 0600, and logout removes them', async () => {
    const store = new CredentialStore({ file: join(tmp, 'skiff', 'auth.json'), dockerConfig: false });
    await expect(login({ registry: reg.domain, username: 'alice', password: 'nope', store, retry })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(() => statSync(store.file)).toThrow();

    expect(await login({ registry: `http://${reg.domain}/`, ...alice, store, retry })).toBe(reg.domain);
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(store.file, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(saved.auths[reg.domain]!.auth, 'base64').toString()).toBe(`${alice.username}:${alice.password}`);

    const dst = new MemoryImageLayout();
    await pullImage({ layout: dst, reference: `${reg.domain}/b/app:1`, credentials: store.source, retry });
    expect(await dst.getRef(`${reg.domain}/b/app:1`)).toBeDefined();

    expect(await logout({ registry: reg.domain, store })).toBe(true);
    expect(await logout({ registry: reg.domain, store })).toBe(false);
    expect(await store.get(reg.domain)).toBeUndefined();
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
  });

  it("falls back to Docker's config.json auths", async () => {
    const dockerDir = join(tmp, 'docker');
    mkdirSync(dockerDir, { recursive: true });
    writeFileSync(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [`http://${reg.domain}`]: { auth: Buffer.from(`${alice.username}:${alice.password}`).toString('base64') } } }));
    const store = new CredentialStore({ file: join(tmp, 'empty', 'auth.json'), dockerConfig: join(dockerDir, 'config.json') });
    expect(await store.get(reg.domain)).toEqual(alice);
    const dst = new MemoryImageLayout();
    await pullImage({ layout: dst, reference: `${reg.domain}/b/app:1`, credentials: store.source, retry });
    expect(await dst.getRef(`${reg.domain}/b/app:1`)).toBeDefined();
  });
});

describe('Bearer tokens (token server)', () => {
  let reg: RegistryServer;
  let tokens: TokenServer;
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'skiff-token-'));
    tokens = await startTokenServer(tmp, { [alice.username]: alice.password });
    reg = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certFile } });
  });
  afterAll(async () => {
    await reg?.stop();
    await tokens?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('gets a token per scope from the realm with service and scope, and caches it', async () => {
    const src = new MemoryImageLayout();
    const name = `${reg.domain}/t/app:1`;
    const img = await makeImage(src, name, { layerSizes: [100, 200, 300] });
    const client = new RegistryClient({ credentials: alice, retry });
    tokens.requests.length = 0;
    await pushImage({ layout: src, reference: name, client });
    // Many requests (HEADs, POSTs, PUTs, the manifest), one token for `pull,push`.
    expect(tokens.requests).toEqual([{ scopes: ['repository:t/app:pull,push'], service: tokens.service, account: 'alice', user: 'alice' }]);

    tokens.requests.length = 0;
    const dst = new MemoryImageLayout();
    await pullImage({ layout: dst, reference: name, client });
    expect(tokens.requests.map((r) => r.scopes)).toEqual([['repository:t/app:pull']]);
    for (const l of img.layers) expect(await dst.info(l.digest)).toBeDefined();
  });

  it('accepts access_token instead of token', async () => {
    tokens.field = 'access_token';
    try {
      const dst = new MemoryImageLayout();
      await pullImage({ layout: dst, reference: `${reg.domain}/t/app:1`, credentials: alice, retry });
      expect(await dst.getRef(`${reg.domain}/t/app:1`)).toBeDefined();
    } finally {
      tokens.field = 'token';
    }
  });

  it('fetches a new token when the cached one expires', async () => {
    tokens.expiresIn = 1;
    try {
      const client = new RegistryClient({ credentials: alice, retry });
      tokens.requests.length = 0;
      await client.resolve(`${reg.domain}/t/app:1`);
      await client.resolve(`${reg.domain}/t/app:1`);
      expect(tokens.requests.length).toBe(1);
      await new Promise((r) => setTimeout(r, 1100));
      await client.resolve(`${reg.domain}/t/app:1`);
      expect(tokens.requests.length).toBe(2);
    } finally {
      delete tokens.expiresIn;
    }
  });

  it('anonymous: UNAUTHENTICATED with the login hint; wrong password: refused by the token server', async () => {
    const anon = await pullImage({ layout: new MemoryImageLayout(), reference: `${reg.domain}/t/app:1`, retry }).catch((e: unknown) => e);
    expect(anon).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((anon as Error).message).toContain(`skiff login ${reg.domain}`);
    const bad = await pullImage({ layout: new MemoryImageLayout(), reference: `${reg.domain}/t/app:1`, credentials: { username: 'alice', password: 'x' }, retry }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((bad as Error).message).toMatch(/refused the credentials/);
  });

  it('login works through the token flow (GET /v2/ then a token without scope)', async () => {
    const store = new CredentialStore({ file: join(tmp, 'auth.json'), dockerConfig: false });
    tokens.requests.length = 0;
    await login({ registry: reg.domain, ...alice, store, retry });
    expect(tokens.requests).toEqual([{ scopes: [], service: tokens.service, account: 'alice', user: 'alice' }]);
    expect(await store.get(reg.domain)).toEqual(alice);
    await expect(login({ registry: reg.domain, username: 'alice', password: 'bad', store, retry })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
