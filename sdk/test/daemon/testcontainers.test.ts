/**
 * testcontainers-node 12.0.0 against `skiff daemon`: a GenericContainer with
 * a log-message wait strategy, an exec, its logs, stop (on the host-process
 * test backend; ports.test.ts covers exposed ports on the Linux backend).
 * Ryuk is disabled: its image comes from a registry these machines cannot reach.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDaemon, type DaemonProcess } from './support/harness.js';

let d: DaemonProcess;

beforeAll(async () => {
  d = await startDaemon();
  // testcontainers reads its settings once, at its first use.
  process.env.DOCKER_HOST = d.url;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
});

afterAll(async () => {
  if (!d) return;
  await d.stop();
  rmSync(d.root, { recursive: true, force: true });
});

it('starts a GenericContainer, waits for its log line, execs, reads logs, stops', async () => {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('skiff-test/host')
    .withCommand(['sh', '-c', 'echo booting; sleep 0.3; echo "server ready"; echo on-stderr >&2; sleep 60'])
    .withEnvironment({ MODE: 'test' })
    .withLabels({ suite: 'testcontainers' })
    .withWaitStrategy(Wait.forLogMessage('server ready'))
    .withStartupTimeout(20_000)
    .start();
  try {
    const r = await container.exec(['sh', '-c', 'echo "mode=$MODE"; exit 2']);
    expect(r.exitCode).toBe(2);
    expect(r.output).toBe('mode=test\n');
    const ok = await container.exec(['echo', 'hello']);
    expect(ok).toMatchObject({ exitCode: 0, output: 'hello\n' });
    const logs = await container.logs();
    const text = await new Promise<string>((resolve) => {
      let s = '';
      logs.on('data', (c: Buffer | string) => {
        s += c.toString();
        if (s.includes('on-stderr')) resolve(s);
      });
    });
    logs.destroy();
    expect(text).toContain('booting');
    expect(text).toContain('server ready');
    expect(container.getName()).toMatch(/^\//);
  } finally {
    await container.stop({ timeout: 0 });
  }
  // stop() also removed it.
  const Docker = (await import('dockerode')).default;
  const left = await new Docker({ socketPath: d.socket }).listContainers({ all: true, filters: { label: ['suite=testcontainers'] } });
  expect(left).toEqual([]);
});
