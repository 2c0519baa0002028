/**
 * The daemon's HTTP surface, in process: ping headers, versioned paths, the
 * error form, routes it does not have, a daemon without a builder, stats
 * streaming. Raw HTTP, so nothing a client library smooths over is missed.
 */
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon/server.js';
import { createNodeEngine } from '../../src/node/engine.js';
import { installNodeHasher } from '../../src/node/hasher.js';
import { connectDocker } from '../../src/client/node-transport.js';
import { HostProcessBackend } from './support/host-backend.js';
import { HOST_IMAGE, putHostImage } from './support/images.js';

installNodeHasher();
let root: string;
let daemon: Daemon;
let socketPath: string;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const r = request({ socketPath, method, path, headers: { Host: 'api.moby.localhost', ...headers, ...(body ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'skiff-api-'));
  const engine = await createNodeEngine({ root, backends: [new HostProcessBackend()], pull: false });
  await putHostImage(engine.layout);
  socketPath = join(root, 'api.sock');
  // No builder: /build must say so.
  daemon = await Daemon.start({ engine, root, hosts: [`unix://${socketPath}`] });
});

afterAll(async () => {
  await daemon?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the API surface', () => {
  it('HEAD and GET /_ping carry the negotiation headers', async () => {
    const head = await raw('HEAD', '/_ping');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers).toMatchObject({ 'api-version': '1.50', ostype: 'linux', 'docker-experimental': 'false', swarm: 'inactive', 'cache-control': 'no-cache, no-store, must-revalidate', pragma: 'no-cache' });
    const get = await raw('GET', '/_ping');
    expect(get.body).toBe('OK');
  });

  it('versioned and unversioned paths reach the same handler; versions out of range are 400', async () => {
    const a = JSON.parse((await raw('GET', '/v1.41/version')).body);
    const b = JSON.parse((await raw('GET', '/version')).body);
    expect(a).toMatchObject({ ApiVersion: '1.50', MinAPIVersion: '1.24', Os: 'linux', Platform: { Name: 'skiff' } });
    expect(a.Components[0]).toMatchObject({ Name: 'Engine', Details: { ApiVersion: '1.50', MinAPIVersion: '1.24' } });
    expect(b.ApiVersion).toBe(a.ApiVersion);
    const tooNew = await raw('GET', '/v1.51/version');
    expect(tooNew.status).toBe(400);
    expect(JSON.parse(tooNew.body)).toEqual({ message: 'client version 1.51 is too new. Maximum supported API version is 1.50' });
    // The CLI reads Api-Version even from an error answer.
    expect(tooNew.headers['api-version']).toBe('1.50');
  });

  it('errors are {"message"} with the status of their code', async () => {
    const missing = await raw('GET', '/v1.50/containers/nope/json');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ message: 'No such container: nope' });
    const img = await raw('POST', '/containers/create', JSON.stringify({ Image: 'busybox' }));
    expect(img.status).toBe(404);
    expect(JSON.parse(img.body)).toEqual({ message: 'No such image: busybox:latest' });
    const noImage = await raw('POST', '/containers/create', JSON.stringify({}));
    expect(noImage.status).toBe(400);
    const badJson = await raw('POST', '/containers/create', '{not json');
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body).message).toMatch(/invalid JSON/);
    const unknown = await raw('GET', '/v1.50/swarm');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({ message: 'page not found' });
    const ports = await raw('POST', '/containers/create', JSON.stringify({ Image: HOST_IMAGE, HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '8080' }] } } }));
    expect(ports.status).toBe(501);
  });

  it('dockerode style: booleans as true/false and the body repeated in the query', async () => {
    const created = await raw('POST', `/containers/create?name=q1&Image=${encodeURIComponent(HOST_IMAGE)}&Cmd=true&HostConfig=${encodeURIComponent('{"AutoRemove":false}')}`, JSON.stringify({ Image: HOST_IMAGE, Cmd: ['true'] }));
    expect(created.status).toBe(201);
    const { Id } = JSON.parse(created.body) as { Id: string };
    expect(Id).toMatch(/^[0-9a-f]{64}$/);
    const list = JSON.parse((await raw('GET', `/containers/json?all=true&filters=${encodeURIComponent('{"name":{"q1":true}}')}`)).body) as Array<{ Id: string; Names: string[] }>;
    expect(list.map((c) => c.Names)).toEqual([['/q1']]);
    expect((await raw('DELETE', `/containers/${Id}?force=false&v=true`)).status).toBe(204);
  });

  it('stop and start answer 304 when there is nothing to do', async () => {
    const c = JSON.parse((await raw('POST', '/containers/create', JSON.stringify({ Image: HOST_IMAGE, Cmd: ['sleep', '30'] }))).body) as { Id: string };
    expect((await raw('POST', `/containers/${c.Id}/stop`)).status).toBe(304);
    expect((await raw('POST', `/containers/${c.Id}/start`)).status).toBe(204);
    expect((await raw('POST', `/containers/${c.Id}/start`)).status).toBe(304);
    // testcontainers sends the timeout in the body too.
    expect((await raw('POST', `/containers/${c.Id}/stop`, JSON.stringify({ t: 0 }))).status).toBe(204);
    expect((await raw('DELETE', `/containers/${c.Id}`)).status).toBe(204);
  });

  it('stats: one answer, or a stream whose entries carry the previous reading', async () => {
    const docker = connectDocker(`unix://${socketPath}`);
    const c = await docker.create({ image: HOST_IMAGE, cmd: ['sleep', '30'] });
    await docker.start(c.id);
    const one = JSON.parse((await raw('GET', `/containers/${c.id}/stats?stream=false`)).body) as { memory_stats: { usage: number }; name: string };
    expect(one.memory_stats.usage).toBeGreaterThan(0);
    expect(one.name).toMatch(/^\//);
    const res = await docker.call('GET', `/containers/${c.id}/stats`, { query: { stream: true } });
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let text = '';
    while (text.split('\n').filter(Boolean).length < 2) text += dec.decode((await reader.read()).value);
    await reader.cancel();
    const [first, second] = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { read: string; preread: string });
    expect(second!.preread).toBe(first!.read);
    await docker.remove(c.id, { force: true });
    docker.close();
  });

  it('a daemon without a builder refuses builds clearly', async () => {
    const docker = connectDocker(`unix://${socketPath}`);
    await expect(docker.build(new Uint8Array(1024))).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('no image builder') });
    docker.close();
  });

  it('networks that clients look for', async () => {
    const bridge = JSON.parse((await raw('GET', '/networks/bridge')).body) as { IPAM: { Config: Array<{ Gateway: string }> } };
    expect(bridge.IPAM.Config[0]!.Gateway).toBe('127.0.0.1');
    expect((await raw('GET', '/networks/mynet')).status).toBe(404);
    expect((await raw('POST', '/networks/create', JSON.stringify({ Name: 'x', Driver: 'overlay' }))).status).toBe(501);
    expect((await raw('POST', '/networks/create', JSON.stringify({ Name: 'bridge' }))).status).toBe(409);
    const made = await raw('POST', '/networks/create', JSON.stringify({ Name: 'x' }));
    expect(made.status).toBe(201);
    expect((await raw('GET', '/networks/x')).status).toBe(200);
    expect((await raw('DELETE', '/networks/x')).status).toBe(204);
    expect((await raw('GET', '/networks/x')).status).toBe(404);
  });
});
