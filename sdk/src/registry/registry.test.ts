import { describe, expect, it } from 'vitest';
import { parseChallenges } from './challenge.js';
import { nextLink } from './client.js';
import { baseUrlOf, isLoopback, mayUseHttp } from './endpoint.js';
import { parseRetryAfter, RegistryError } from './errors.js';
import { limiter } from './limit.js';
import { chooseManifests } from './pull.js';
import { backoffDelay, retryOptions, withRetry } from './retry.js';
import { withDigest } from './upload.js';
import { toDockerProgress } from './progress.js';
import { parseXRegistryAuth } from './x-registry-auth.js';
import { MediaType } from '../image/media-types.js';

describe('WWW-Authenticate parsing', () => {
  it('reads a Bearer challenge with quoted, comma-holding values', () => {
    expect(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } },
    ]);
  });
  it('reads several challenges and unquoted values', () => {
    expect(parseChallenges('Basic realm="x", Bearer realm="https://t", error=insufficient_scope')).toEqual([
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'https://t', error: 'insufficient_scope' } },
    ]);
  });
  it('handles escapes and an empty header', () => {
    expect(parseChallenges('Basic realm="a \\"q\\" b"')[0]!.params.realm).toBe('a "q" b');
    expect(parseChallenges('')).toEqual([]);
  });
});

describe('endpoints', () => {
  it('uses http only for loopback and listed registries', () => {
    expect(isLoopback('localhost:5000')).toBe(true);
    expect(isLoopback('127.8.9.10:80')).toBe(true);
    expect(isLoopback('[::1]:5000')).toBe(true);
    expect(isLoopback('128.0.0.1')).toBe(false);
    expect(isLoopback('localhost.example:5000')).toBe(false);
    expect(baseUrlOf('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(baseUrlOf('reg.example:5000')).toBe('https://reg.example:5000');
    expect(baseUrlOf('reg.example:5000', { insecure: ['reg.example'] })).toBe('http://reg.example:5000');
    expect(mayUseHttp('reg.example:5000', ['reg.example:5001'])).toBe(false);
    expect(mayUseHttp('reg.example:5000', ['http://reg.example:5000/'])).toBe(true);
  });
  it('uses a configured endpoint, refusing plain http to a registry not listed as insecure', () => {
    expect(baseUrlOf('a.example', { endpoints: { 'a.example': 'https://mirror.example/' } })).toBe('https://mirror.example');
    expect(() => baseUrlOf('a.example', { endpoints: { 'a.example': 'http://mirror.example' } })).toThrow(/plain http/);
  });
});

describe('retries', () => {
  it('backs off exponentially with jitter, bounded', () => {
    const o = retryOptions({ baseDelayMs: 100, maxDelayMs: 1000 });
    for (let i = 0; i < 50; i++) {
      const d0 = backoffDelay(0, o)!;
      expect(d0).toBeGreaterThanOrEqual(50);
      expect(d0).toBeLessThanOrEqual(100);
      const d3 = backoffDelay(3, o)!;
      expect(d3).toBeGreaterThanOrEqual(400);
      expect(d3).toBeLessThanOrEqual(800);
      expect(backoffDelay(20, o)!).toBeLessThanOrEqual(1000);
    }
  });
  it('honours Retry-After, and gives up when it asks for too long', () => {
    const o = retryOptions({ baseDelayMs: 10, maxRetryAfterMs: 5000 });
    expect(backoffDelay(0, o, new RegistryError('RESOURCE_EXHAUSTED', 'x', { retryable: true, retryAfterMs: 2000 }))).toBe(2000);
    expect(backoffDelay(0, o, new RegistryError('RESOURCE_EXHAUSTED', 'x', { retryable: true, retryAfterMs: 6000 }))).toBeUndefined();
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
  it('retries only retryable errors, up to the attempts', async () => {
    let n = 0;
    await expect(withRetry(async () => { n++; throw new RegistryError('UNAVAILABLE', 'down', { retryable: true }); }, { attempts: 3, baseDelayMs: 1 })).rejects.toThrow('down');
    expect(n).toBe(3);
    n = 0;
    await expect(withRetry(async () => { n++; throw new RegistryError('NOT_FOUND', 'gone'); }, { attempts: 3, baseDelayMs: 1 })).rejects.toThrow('gone');
    expect(n).toBe(1);
    n = 0;
    expect(await withRetry(async () => { if (++n < 3) throw new RegistryError('UNAVAILABLE', 'x', { retryable: true }); return 'ok'; }, { baseDelayMs: 1 })).toBe('ok');
  });
  it('stops waiting when aborted', async () => {
    const ac = new AbortController();
    const p = withRetry(async () => { throw new RegistryError('UNAVAILABLE', 'x', { retryable: true }); }, { baseDelayMs: 60_000, maxDelayMs: 60_000 }, ac.signal);
    setTimeout(() => ac.abort(), 10);
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('small helpers', () => {
  it('follows the next page of a Link header', () => {
    expect(nextLink('</v2/x/tags/list?n=2&last=b>; rel="next"')).toBe('/v2/x/tags/list?n=2&last=b');
    expect(nextLink('<https://a/p?x=1>; rel="prev", <https://a/q?y=2>; rel=next')).toBe('https://a/q?y=2');
    expect(nextLink(null)).toBeUndefined();
  });
  it('appends the digest to an upload location and keeps its query', () => {
    expect(withDigest('http://r/v2/x/blobs/uploads/u?_state=ab%3D', 'sha256:00')).toBe('http://r/v2/x/blobs/uploads/u?_state=ab%3D&digest=sha256%3A00');
    expect(withDigest('/v2/x/blobs/uploads/u', 'sha256:00')).toBe('/v2/x/blobs/uploads/u?digest=sha256%3A00');
  });
  it('runs at most n tasks at once', async () => {
    const run = limiter(2);
    let active = 0;
    let peak = 0;
    await Promise.all(Array.from({ length: 8 }, () => run(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
    })));
    expect(peak).toBe(2);
  });
  it('chooses the first manifest of each wanted platform, skipping attestations for all', () => {
    const m = (os: string, architecture: string, d: string) => ({ mediaType: MediaType.OciManifest, digest: d, size: 1, platform: { os, architecture } });
    const index = { schemaVersion: 2 as const, manifests: [m('linux', 'amd64', 'a'), m('linux', 'amd64', 'b'), m('wasip1', 'wasm', 'c'), m('unknown', 'unknown', 'd')] };
    expect(chooseManifests(index, [{ os: 'wasip1', architecture: 'wasm' }, { os: 'linux', architecture: 'amd64' }]).map((x) => x.digest)).toEqual(['a', 'c']);
    expect(chooseManifests(index, 'all').map((x) => x.digest)).toEqual(['a', 'b', 'c']);
    expect(chooseManifests(index, [{ os: 'linux', architecture: 'arm64' }])).toEqual([]);
  });
});

describe('docker progress wording', () => {
  it('maps statuses and carries byte counts only while moving', () => {
    const e = { id: 'abcdefabcdef', digest: 'sha256:abcdefabcdef', kind: 'layer' as const, current: 5, total: 10 };
    expect(toDockerProgress({ ...e, status: 'downloading' }, 'pull')).toEqual({ id: 'abcdefabcdef', status: 'Downloading', progressDetail: { current: 5, total: 10 } });
    expect(toDockerProgress({ ...e, status: 'exists' }, 'push')).toEqual({ id: 'abcdefabcdef', status: 'Layer already exists', progressDetail: {} });
    expect(toDockerProgress({ ...e, status: 'done' }, 'pull').status).toBe('Pull complete');
  });
});

describe('X-Registry-Auth', () => {
  it('decodes base64url JSON credentials, and an empty object as none', () => {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    expect(parseXRegistryAuth(enc({ username: 'ü', password: 'p?>>', serveraddress: 'localhost:5000' }))).toEqual({ username: 'ü', password: 'p?>>' });
    expect(parseXRegistryAuth(enc({}))).toBeUndefined();
    expect(parseXRegistryAuth(undefined)).toBeUndefined();
    expect(() => parseXRegistryAuth('%%%')).toThrow(/X-Registry-Auth/);
  });
});
