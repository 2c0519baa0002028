/**
 * Images committed from an image (its children: docker commit records the
 * parent) hold it, as in dockerd; compared side by side through the docker
 * CLI. Removing the parent by ID is refused even with -f; removing its names
 * keeps it, unnamed, listed only by `images -a`, neither dangling nor pruned,
 * still the child's Parent; removing the child takes the unnamed parent along.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { busyboxContext, type DockerResult } from './support/harness.js';
import { sideBySide } from './support/side-by-side.js';

const IMAGE = 'skiff-children/bb:1';
const daemons = sideBySide('children', (tmp) => ({ [IMAGE]: busyboxContext(join(tmp, 'ctx'), ['sh', 'echo', 'cat']) }));

/** One command on each daemon, where `args` may differ per daemon (image IDs do). */
async function each(args: (who: 'dockerd' | 'skiff') => string[]): Promise<Record<'dockerd' | 'skiff', DockerResult>> {
  const [dockerd, skiff] = await Promise.all([daemons.on(daemons.real.url, args('dockerd')), daemons.on(daemons.skiff.url, args('skiff'))]);
  return { dockerd, skiff };
}

it('a parent stays while an image committed from it exists, as in dockerd', async () => {
  const { both } = daemons;
  const ok = (r: Record<string, DockerResult>) => { for (const [who, x] of Object.entries(r)) expect(x.code, `${who}: ${x.stderr}`).toBe(0); };
  ok(await both(['tag', IMAGE, 'skiff-children/parent:1']));
  ok(await both(['run', '--name', 'made', IMAGE, 'sh', '-c', 'echo x > /x']));
  ok(await both(['commit', 'made', 'skiff-children/child:1']));
  ok(await both(['rm', 'made']));
  const ids = await both(['inspect', '--format', '{{.Id}}', IMAGE]);
  const parent = { dockerd: ids.dockerd.stdout.trim(), skiff: ids.skiff.stdout.trim() };
  const childIds = await both(['inspect', '--format', '{{.Id}}', 'skiff-children/child:1']);
  const child = { dockerd: childIds.dockerd.stdout.trim(), skiff: childIds.skiff.stdout.trim() };
  const short = (who: 'dockerd' | 'skiff') => parent[who].slice(7, 19);

  // By ID: refused, even forced, although the image has two names.
  for (const force of [[], ['-f']]) {
    const r = await each((who) => ['rmi', ...force, short(who)]);
    for (const who of ['dockerd', 'skiff'] as const) {
      expect(r[who].code, who).toBe(1);
      expect(r[who].stderr, who).toBe(`Error response from daemon: conflict: unable to delete ${short(who)} (cannot be forced) - image has dependent child images\n`);
    }
  }
  // By name: untagged only, the last name too.
  expect((await both(['rmi', 'skiff-children/parent:1']))).toMatchObject({ dockerd: { code: 0, stdout: 'Untagged: skiff-children/parent:1\n' }, skiff: { code: 0, stdout: 'Untagged: skiff-children/parent:1\n' } });
  expect((await both(['rmi', IMAGE]))).toMatchObject({ dockerd: { code: 0, stdout: `Untagged: ${IMAGE}\n` }, skiff: { code: 0, stdout: `Untagged: ${IMAGE}\n` } });

  // Kept: not listed, not dangling, not pruned; -a lists it; inspect finds it; still the child's parent.
  const listed = await both(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  expect([listed.dockerd.stdout, listed.skiff.stdout]).toEqual(['skiff-children/child:1\n', 'skiff-children/child:1\n']);
  expect(Object.values(await both(['images', '-f', 'dangling=true', '-q'])).map((r) => r.stdout)).toEqual(['', '']);
  expect(Object.values(await both(['image', 'prune', '-f'])).map((r) => r.stdout)).toEqual(['Total reclaimed space: 0B\n', 'Total reclaimed space: 0B\n']);
  const all = await both(['images', '-a', '-q', '--no-trunc']);
  for (const who of ['dockerd', 'skiff'] as const) expect(all[who].stdout.split('\n'), who).toContain(parent[who]);
  const kept = await each((who) => ['inspect', '--format', '{{.Id}} {{len .RepoTags}}', parent[who]]);
  for (const who of ['dockerd', 'skiff'] as const) expect(kept[who].stdout, who).toBe(`${parent[who]} 0\n`);
  const parentOfChild = await both(['inspect', '--format', '{{.Parent}}', 'skiff-children/child:1']);
  for (const who of ['dockerd', 'skiff'] as const) expect(parentOfChild[who].stdout.trim(), who).toBe(parent[who]);
  expect(Object.values(await both(['run', '--rm', 'skiff-children/child:1', 'cat', '/x'])).map((r) => r.stdout)).toEqual(['x\n', 'x\n']);

  // The child goes, and its unnamed parent with it.
  const removed = await both(['rmi', 'skiff-children/child:1']);
  for (const who of ['dockerd', 'skiff'] as const) {
    expect(removed[who].code, removed[who].stderr).toBe(0);
    const lines = removed[who].stdout.split('\n');
    expect(lines[0], who).toBe('Untagged: skiff-children/child:1');
    expect(lines, who).toContain(`Deleted: ${child[who]}`);
    expect(lines, who).toContain(`Deleted: ${parent[who]}`);
  }
  const gone = await each((who) => ['inspect', parent[who]]);
  expect([gone.dockerd.code, gone.skiff.code]).toEqual([1, 1]);
}, 120_000);

it('an unnamed parent stays while any of its children does, and is not taken by one that is in use', async () => {
  const { both } = daemons;
  const ok = (r: Record<string, DockerResult>) => { for (const [who, x] of Object.entries(r)) expect(x.code, `${who}: ${x.stderr}`).toBe(0); };
  ok(await both(['build', '-q', '-t', 'skiff-children/base:2', busyboxContext(join(daemons.tmp, 'ctx2'), ['sh', 'echo', 'cat', 'true'])]));
  ok(await both(['run', '--name', 'm2', 'skiff-children/base:2', 'true']));
  ok(await both(['commit', 'm2', 'skiff-children/c:a']));
  ok(await both(['commit', '-c', 'ENV B=1', 'm2', 'skiff-children/c:b']));
  ok(await both(['rm', 'm2']));
  const ids = await both(['inspect', '--format', '{{.Id}}', 'skiff-children/base:2']);
  const base = { dockerd: ids.dockerd.stdout.trim(), skiff: ids.skiff.stdout.trim() };
  ok(await both(['rmi', 'skiff-children/base:2']));
  // One child goes: the other still holds the parent.
  ok(await both(['rmi', 'skiff-children/c:a']));
  let kept = await each((who) => ['inspect', '--format', '{{.Id}}', base[who]]);
  expect([kept.dockerd.code, kept.skiff.code]).toEqual([0, 0]);
  // A container of the parent (by ID) keeps it when the last child goes.
  ok(await each((who) => ['create', '--name', 'holder', base[who], 'true']));
  ok(await both(['rmi', 'skiff-children/c:b']));
  kept = await each((who) => ['inspect', '--format', '{{.Id}}', base[who]]);
  expect([kept.dockerd.code, kept.skiff.code]).toEqual([0, 0]);
  ok(await both(['rm', 'holder']));
}, 120_000);
