import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialStore, defaultAuthFile, dockerConfigFile, registryKey } from './credentials.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'skiff-cred-'));
  dirs.push(d);
  return d;
};
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('credential store', () => {
  it('normalizes registry names the way image references do', () => {
    expect(registryKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(registryKey('docker.io')).toBe('docker.io');
    expect(registryKey('')).toBe('docker.io');
    expect(registryKey('http://LocalHost:5000/')).toBe('localhost:5000');
    expect(() => registryKey('not a host!')).toThrow(/not a registry name/);
  });

  it('finds paths from the environment', () => {
    expect(defaultAuthFile({ SKIFF_CONFIG: '/c' })).toBe('/c/auth.json');
    expect(defaultAuthFile({ SKIFF_ROOT: '/r' })).toBe('/r/auth.json');
    expect(dockerConfigFile({ DOCKER_CONFIG: '/d' })).toBe('/d/config.json');
    expect(dockerConfigFile({ HOME: '/h' })).toBe('/h/.docker/config.json');
  });

  it('saves with mode 0600, keeps other keys, prefers its own file over Docker config', async () => {
    const d = tmp();
    const docker = join(d, 'config.json');
    writeFileSync(docker, JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') }, 'reg.example': { username: 'u', password: 'p' } }, credsStore: 'desktop' }));
    const store = new CredentialStore({ file: join(d, 'skiff', 'auth.json'), dockerConfig: docker });
    expect(await store.get('docker.io')).toEqual({ username: 'hub', password: 'pw' });
    expect(await store.get('reg.example')).toEqual({ username: 'u', password: 'p' });
    expect(await store.get('other.example')).toBeUndefined();

    mkdirSync(join(d, 'skiff'));
    writeFileSync(store.file, JSON.stringify({ auths: {}, keep: 1 }), { mode: 0o644 });
    await store.set('docker.io', { username: 'mine', password: 'a:b' });
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(await store.get('index.docker.io')).toEqual({ username: 'mine', password: 'a:b' });
    expect(JSON.parse(readFileSync(store.file, 'utf8')).keep).toBe(1);
    expect(await store.remove('docker.io')).toBe(true);
    expect(await store.get('docker.io')).toEqual({ username: 'hub', password: 'pw' });
  });

  it('ignores a broken Docker config but reports a broken own file', async () => {
    const d = tmp();
    writeFileSync(join(d, 'config.json'), '{nope');
    const store = new CredentialStore({ file: join(d, 'auth.json'), dockerConfig: join(d, 'config.json') });
    expect(await store.get('x.example')).toBeUndefined();
    writeFileSync(store.file, '{nope');
    await expect(store.get('x.example')).rejects.toMatchObject({ code: 'DATA_LOSS' });
  });
});
