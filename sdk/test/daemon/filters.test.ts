/**
 * Listing through the docker CLI, side by side with dockerd: filters (images
 * and containers by before/since, networks by type, and a filter the
 * endpoint does not take refused in dockerd's words, never ignored), and the
 * sizes of ps -s, inspect -s and system df.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { busyboxContext, type DockerResult } from './support/harness.js';
import { sideBySide } from './support/side-by-side.js';

const IMAGE = 'skiff-filters/bb:1';
const daemons = sideBySide('filters', (tmp) => ({ [IMAGE]: busyboxContext(join(tmp, 'ctx'), ['sh', 'true', 'head', 'ln', 'sleep']) }));

const outputs = (r: { dockerd: DockerResult; skiff: DockerResult }) => [r.dockerd.stdout, r.skiff.stdout];

it('images and containers by before and since; networks by type', async () => {
  const { both } = daemons;
  for (const name of ['f1', 'f2', 'f3']) {
    expect((await both(['create', '--name', name, IMAGE, 'true'])).skiff.code).toBe(0);
    await new Promise((r) => setTimeout(r, 1100)); // created times a second apart, as the CLI shows them
  }
  expect(outputs(await both(['ps', '-a', '--filter', 'before=f3', '--filter', 'since=f1', '--format', '{{.Names}}']))).toEqual(['f2\n', 'f2\n']);
  expect(outputs(await both(['ps', '-a', '--filter', 'since=f2', '--format', '{{.Names}}']))).toEqual(['f3\n', 'f3\n']);
  expect((await both(['commit', 'f1', 'skiff-filters/later:1'])).skiff.code).toBe(0);
  expect(outputs(await both(['images', '--filter', 'since=' + IMAGE, '--format', '{{.Repository}}:{{.Tag}}']))).toEqual(['skiff-filters/later:1\n', 'skiff-filters/later:1\n']);
  expect(outputs(await both(['images', '--filter', 'before=skiff-filters/later:1', '--filter', 'reference=skiff-filters/*', '--format', '{{.Repository}}:{{.Tag}}']))).toEqual([`${IMAGE}\n`, `${IMAGE}\n`]);
  expect((await both(['network', 'create', 'skiff-filters-net'])).skiff.code).toBe(0);
  expect(outputs(await both(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']))).toEqual(['skiff-filters-net\n', 'skiff-filters-net\n']);
  expect(outputs(await both(['network', 'ls', '--filter', 'dangling=true', '--format', '{{.Name}}']))).toEqual(['skiff-filters-net\n', 'skiff-filters-net\n']);
  await both(['network', 'rm', 'skiff-filters-net']);
  await both(['rm', 'f1', 'f2', 'f3']);
}, 60_000);

it('ps by exposed and published ports: those of running containers, as dockerd', async () => {
  const { both, on } = daemons;
  // Not running: neither filter matches on either daemon.
  expect((await both(['create', '--name', 'e1', '--expose', '7000/udp', IMAGE, 'true'])).skiff.code).toBe(0);
  expect((await both(['create', '--name', 'p1', '-p', '127.0.0.1::8080', IMAGE, 'true'])).skiff.code).toBe(0);
  for (const v of ['expose=7000/udp', 'expose=8080', 'publish=8080']) expect(outputs(await both(['ps', '-a', '--filter', v, '--format', '{{.Names}}'])), v).toEqual(['', '']);
  await both(['rm', 'e1', 'p1']);
  // Running (skiff: this host's dockerd runs without a bridge, so it publishes nothing to compare).
  const url = daemons.skiff.url;
  expect((await on(url, ['run', '-d', '--name', 'pr', '--expose', '7000/udp', '-p', '127.0.0.1::8080', IMAGE, 'sh', '-c', 'sleep 30'])).code).toBe(0);
  const names = async (v: string) => (await on(url, ['ps', '--filter', v, '--format', '{{.Names}}'])).stdout;
  expect(await names('expose=7000/udp')).toBe('pr\n');
  expect(await names('expose=7000')).toBe(''); // tcp unless told
  expect(await names('expose=8000-8100')).toBe('pr\n'); // -p exposes the port too
  expect(await names('publish=8080/tcp')).toBe('pr\n');
  expect(await names('publish=7000/udp')).toBe(''); // exposed, not published
  expect((await on(url, ['ps', '--filter', 'publish=eighty'])).stderr).toContain('invalid port filter "eighty"');
  await on(url, ['rm', '-f', 'pr']);
}, 60_000);

it('a filter the endpoint does not take is refused, as dockerd refuses it', async () => {
  for (const args of [['images', '--filter', 'colour=red'], ['ps', '--filter', 'colour=red'], ['volume', 'ls', '--filter', 'colour=red'], ['network', 'ls', '--filter', 'colour=red'], ['images', '--filter', 'dangling=maybe']]) {
    const r = await daemons.both(args);
    const words = `Error response from daemon: Invalid filter ${args.at(-1)!.startsWith('dangling') ? `'dangling=[maybe]'` : `'colour'`}\n`;
    expect([r.dockerd.code, r.dockerd.stderr], args.join(' ')).toEqual([1, words]);
    expect([r.skiff.code, r.skiff.stderr], args.join(' ')).toEqual([1, words]);
  }
}, 60_000);

it('ps -s, inspect -s and system df give what a container wrote (SizeRw), as dockerd', async () => {
  const { both } = daemons;
  const made = await both(['run', '--name', 'writer', IMAGE, 'sh', '-c', 'head -c 100000 /dev/zero > /big; ln -s /some/where /link']);
  expect([made.dockerd.code, made.skiff.code], made.skiff.stderr).toEqual([0, 0]);
  const inspected = await both(['inspect', '-s', '--format', '{{.SizeRw}}', 'writer']);
  expect(outputs(inspected)).toEqual(['100011\n', '100011\n']);
  const listed = await both(['ps', '-a', '-s', '--filter', 'name=writer', '--format', '{{.Size}}']);
  for (const [who, r] of Object.entries(listed)) expect(r.stdout, who).toMatch(/^100kB \(virtual \d+(\.\d+)?[kM]B\)\n$/);
  const df = await both(['system', 'df', '-v', '--format', '{{range .Containers}}{{if eq .Names "writer"}}{{.Size}}{{end}}{{end}}']);
  expect(outputs(df)).toEqual(['100kB', '100kB']);
  await both(['rm', 'writer']);
}, 60_000);
