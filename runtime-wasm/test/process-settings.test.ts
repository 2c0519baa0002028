/**
 * docker's process settings on the WASI backend: it has no processes,
 * namespaces or signals, so each is refused by name (UNSUPPORTED), never
 * dropped; nothing is left behind.
 */
import { beforeAll, expect, it } from 'vitest';
import { Engine } from '../../sdk/src/runtime/engine.js';
import type { CreateOptions } from '../../sdk/src/runtime/options.js';
import { WasmBackend } from '../src/backend.js';
import { LayeredFsProvider } from '../src/fs/provider.js';
import { probeImage, type TestImage } from './support/images.js';

let image: TestImage;
let engine: Engine;

beforeAll(async () => {
  image = await probeImage();
  engine = new Engine({ layout: image.layout, backends: [new WasmBackend({ fs: new LayeredFsProvider() })] });
});

it('refuses every setting it cannot carry out, naming the docker flag', async () => {
  const cases: Array<[Partial<CreateOptions>, RegExp]> = [
    [{ ulimits: ['nofile=100:200'] }, /does not support process rlimits \(--ulimit\)/],
    [{ shmSize: '8m' }, /--shm-size/],
    [{ pidMode: 'host' }, /sharing the host's namespaces \(--pid host\)/],
    [{ ipcMode: 'host', utsMode: 'host' }, /--ipc, --uts host/],
    [{ cgroupnsMode: 'host' }, /--cgroupns host/],
    [{ groupAdd: ['10'] }, /supplementary groups \(--group-add\)/],
    [{ dns: ['1.1.1.1'] }, /DNS settings/],
    [{ oomScoreAdj: 10 }, /--oom-score-adj/],
    [{ domainname: 'example.com' }, /--domainname/],
    [{ tmpfs: ['/run:size=1m'] }, /tmpfs options/],
    [{ stopSignal: 'SIGINT' }, /stop signals \(--stop-signal SIGINT\)/],
    [{ stopTimeout: 2 }, /--stop-timeout/],
  ];
  for (const [extra, message] of cases) {
    const err = await engine.create({ image: image.name, ...extra }).catch((e: unknown) => e);
    expect(err, JSON.stringify(extra)).toMatchObject({ code: 'UNSUPPORTED' });
    expect((err as Error).message).toMatch(message);
  }
  // What it can do: a stop signal of SIGKILL (what it sends anyway), and the private defaults.
  const c = await engine.create({ image: image.name, stopSignal: 'SIGKILL', ipcMode: 'private', cgroupnsMode: 'private' });
  expect((await c.inspect()).stopSignal).toBe('SIGKILL');
  await c.remove({ force: true });
  expect(await engine.list({ all: true })).toEqual([]);
});
