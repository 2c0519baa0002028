/**
 * A line written in pieces is one log entry, as docker's json-file logs keep
 * it: compared side by side with dockerd through the docker CLI, for
 * `logs -t` after the exit and for `logs -f` started in the middle of the
 * line (its start, written before the follower came, is not lost).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { busyboxContext } from './support/harness.js';
import { sideBySide } from './support/side-by-side.js';

const IMAGE = 'skiff-log-lines/bb:1';
const daemons = sideBySide('log-lines', (tmp) => ({ [IMAGE]: busyboxContext(join(tmp, 'ctx'), ['sh', 'printf', 'sleep', 'echo']) }));

it('logs -f from the middle of a line, and logs -t after the exit, show whole lines as dockerd', async () => {
  const { both } = daemons;
  const started = await both(['run', '-d', '--name', 'pieces', IMAGE, 'sh', '-c', 'printf abc; sleep 2; echo def; printf tail']);
  expect([started.dockerd.code, started.skiff.code], started.skiff.stderr).toEqual([0, 0]);
  await new Promise((r) => setTimeout(r, 800)); // 'abc' written, 'def' not yet
  const followed = await both(['logs', '-f', 'pieces']);
  // dockerd's follower may end before the unfinished last line reaches it; skiff's gets it.
  expect(followed.dockerd.stdout).toMatch(/^abcdef\n(tail)?$/);
  expect(followed.skiff.stdout).toBe('abcdef\ntail');
  const stamped = await both(['logs', '-t', 'pieces']);
  const paths = await both(['inspect', '--format', '{{.LogPath}}', 'pieces']);
  for (const who of ['dockerd', 'skiff'] as const) {
    const r = stamped[who];
    expect(r.stdout.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z /g, 'T '), who).toBe('T abcdef\nT tail');
    // The times of the log file, to the nanosecond (dockerd's file trims trailing zeros, as RFC 3339 allows; logs -t prints nine digits).
    const nine = (t: string) => t.replace(/\.(\d+)Z$/, (_m, f: string) => `.${f.padEnd(9, '0')}Z`);
    const times = readFileSync(paths[who].stdout.trim(), 'utf8').split('\n').filter(Boolean).map((l) => nine((JSON.parse(l) as { time: string }).time));
    expect(r.stdout.split('\n').map((l) => l.slice(0, l.indexOf(' '))), who).toEqual(times);
  }
  await both(['rm', 'pieces']);
}, 60_000);
