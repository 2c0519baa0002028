/**
 * `docker run --init` and `--init=false` against dockerd and `skiff daemon`
 * on the Linux backend: who is PID 1, what `docker stop` ends with, and what
 * inspect reports; and the exit code of a command that cannot start. The one
 * intended difference: without the flag, dockerd
 * runs the command as PID 1 and skiff runs its init (a daemon default, as
 * dockerd's own `--init` option would make it).
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { busyboxContext } from './support/harness.js';
import { sideBySide } from './support/side-by-side.js';

const IMAGE = 'skiff-init/busybox:1';
const daemons = sideBySide('init', (tmp) => ({ [IMAGE]: busyboxContext(join(tmp, 'ctx'), ['sh', 'sleep', 'echo', 'cat', 'tr', 'ls']) }));
const both = (args: string[]) => daemons.both(args);

it('--init=false runs the command as PID 1; --init puts an init there', async () => {
  const plain = await both(['run', '--rm', '--init=false', IMAGE, 'sh', '-c', 'echo $$; cat /proc/1/cmdline | tr "\\0" " "']);
  expect(plain.skiff).toEqual(plain.dockerd);
  expect(plain.skiff.stdout).toBe('1\nsh -c echo $$; cat /proc/1/cmdline | tr "\\0" " " ');
  const init = await both(['run', '--rm', '--init', IMAGE, 'sh', '-c', 'echo $$']);
  expect(init.dockerd.code).toBe(0);
  expect(init.skiff.code).toBe(0);
  expect(init.dockerd.stdout.trim()).not.toBe('1');
  expect(init.skiff.stdout.trim()).not.toBe('1');
  // skiff's default is its init; dockerd's is none.
  const unset = await both(['run', '--rm', IMAGE, 'sh', '-c', 'echo $$']);
  expect(unset.dockerd.stdout).toBe('1\n');
  expect(unset.skiff.stdout.trim()).not.toBe('1');
}, 60_000);

it('docker stop: a PID 1 without a SIGTERM handler outlives SIGTERM (137); under an init SIGTERM ends it (143)', async () => {
  for (const [flag, name, code] of [['--init=false', 'init-off', '137'], ['--init', 'init-on', '143']] as const) {
    const started = await both(['run', '-d', flag, '--name', name, IMAGE, 'sleep', '60']);
    expect([started.dockerd.code, started.skiff.code]).toEqual([0, 0]);
    const stopped = await both(['stop', '-t', '1', name]);
    expect([stopped.dockerd.code, stopped.skiff.code]).toEqual([0, 0]);
    const state = await both(['inspect', '--format', '{{.State.ExitCode}} {{.HostConfig.Init}}', name]);
    expect(state.skiff.stdout).toBe(state.dockerd.stdout);
    expect(state.skiff.stdout).toBe(`${code} ${flag === '--init'}\n`);
    await both(['rm', name]);
  }
  const unset = await both(['create', '--name', 'init-unset', IMAGE]);
  expect([unset.dockerd.code, unset.skiff.code]).toEqual([0, 0]);
  const shown = await both(['inspect', '--format', '{{.HostConfig.Init}}', 'init-unset']);
  expect(shown.skiff.stdout).toBe(shown.dockerd.stdout);
  await both(['rm', 'init-unset']);
}, 60_000);

it('a command that is missing or cannot be run: docker run exits 127 or 126 on both, the reason in its message', async () => {
  for (const [args, code, reason] of [
    [['no-such-program'], 127, 'executable file not found'],
    [['/no/such/file'], 127, 'no such file or directory'],
    [['/etc'], 126, 'permission denied'],
    [['/bin/../etc'], 126, 'permission denied'],
  ] as const) {
    const r = await both(['run', '--rm', IMAGE, ...args]);
    expect({ args, dockerd: r.dockerd.code, skiff: r.skiff.code }).toEqual({ args, dockerd: code, skiff: code });
    expect(r.skiff.stderr).toContain(reason);
  }
}, 60_000);

it('docker top with ps options runs ps as dockerd: the columns asked for, the container\'s rows only', async () => {
  await both(['run', '-d', '--init=false', '--name', 'top-ps', IMAGE, 'sleep', '60']);
  const top = await both(['top', 'top-ps', '-o', 'pid,comm']);
  const commands = (out: string) => out.trim().split('\n').map((l) => l.trim().split(/\s+/).slice(1).join(' '));
  expect(commands(top.skiff.stdout)).toEqual(commands(top.dockerd.stdout));
  expect(commands(top.skiff.stdout)).toEqual(['COMMAND', 'sleep']);
  const noPid = await both(['top', 'top-ps', '-o', 'comm']);
  expect([noPid.dockerd.code, noPid.skiff.code]).toEqual([1, 1]);
  expect(noPid.skiff.stderr).toContain("Couldn't find PID field in ps output");
  await both(['rm', '-f', 'top-ps']);
}, 60_000);

it('docker build: COPY keeps the context files\' modification times, as dockerd\'s builder does', async () => {
  const r = await both(['run', '--rm', IMAGE, 'ls', '-le', '/bin/busybox']);
  expect(r.skiff).toEqual(r.dockerd);
  expect(r.skiff.stdout).not.toContain('1970');
}, 60_000);

