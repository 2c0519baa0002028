/**
 * The backend conformance suite: one test file's worth of behaviour that every
 * Backend must show through the Engine (the same exit codes, output, image
 * semantics and volume behaviour on Linux and on WASI). Run it from a test file:
 *
 *   describeBackendConformance('wasm', async () => ({ engine, shellImage, shell, ... }));
 *
 * It is exported for users' own backends as `@skiff/sdk/testing`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../runtime/engine.js';
import { SkiffError } from '../errors/index.js';
import type { ImageConfig } from '../image/types.js';

export interface ConformanceTarget {
  engine: Engine;
  /** The backend under test, by name. */
  backend: string;
  /**
   * An image in the engine's store with a POSIX-like shell: `sh -c` runs simple
   * command lines with echo, cat, ls, pwd, env, mkdir, touch, rm, redirections,
   * `;`, `&&`, `exit N`.
   */
  shellImage: string;
  /** The shell command prefix, e.g. ['sh', '-c'] or ['/bin/sh', '-c']. */
  shell: string[];
  /** A fresh empty host directory for bind mounts; undefined where the backend has none (browsers). */
  hostDir?: () => Promise<string>;
  /** Reads and writes files in a host directory (Node's fs), for bind-mount checks. */
  hostFs?: { readFile(p: string): Promise<string>; writeFile(p: string, s: string): Promise<void>; exists(p: string): Promise<boolean> };
  cleanup?: () => Promise<void>;
}

export function describeBackendConformance(name: string, setup: () => Promise<ConformanceTarget>): void {
  describe(`backend conformance: ${name}`, () => {
    let t: ConformanceTarget;
    let derived = '';
    const sh = (line: string) => [...t.shell, line];
    const run = (line: string, extra: Record<string, unknown> = {}) =>
      t.engine.run({ image: t.shellImage, cmd: sh(line), backend: t.backend, rm: true, ...extra });

    beforeAll(async () => {
      t = await setup();
      // An image derived from the shell image that sets every config default.
      const base = await t.engine.images.resolve(t.shellImage, t.engine.backends.find((b) => b.name === t.backend)!.platforms);
      const config: ImageConfig = structuredClone(base.config);
      config.config = {
        ...(config.config ?? {}),
        Entrypoint: [...t.shell],
        Cmd: ['echo "default cmd $GREETING"; pwd'],
        Env: [...(config.config?.Env ?? []).filter((e) => !e.startsWith('GREETING=')), 'GREETING=hello from the image'],
        WorkingDir: '/tmp',
      };
      derived = `conformance/${name}-defaults:latest`;
      await t.engine.images.putImage(derived, config, base.manifest.layers);
    });

    afterAll(async () => {
      await t?.cleanup?.();
    });

    it('runs a command and returns its stdout and exit code 0', async () => {
      const r = await run('echo hello world');
      expect(r).toMatchObject({ exitCode: 0, stdout: 'hello world\n', stderr: '' });
    });

    it('passes exit codes through', async () => {
      expect((await run('exit 3')).exitCode).toBe(3);
      expect((await run('exit 0')).exitCode).toBe(0);
      expect((await run('exit 255')).exitCode).toBe(255);
    });

    it('keeps stdout and stderr apart', async () => {
      const r = await run('echo to-out; echo to-err 1>&2; echo again');
      expect(r.stdout).toBe('to-out\nagain\n');
      expect(r.stderr).toBe('to-err\n');
    });

    it('passes arguments without a shell re-splitting them', async () => {
      const r = await run('echo "$0|$1|$2"', { cmd: [...t.shell, 'echo "$1|$2"', 'argzero', 'a b', 'c'] });
      expect(r.stdout).toBe('a b|c\n');
    });

    it('sets environment variables and the working directory', async () => {
      const r = await run('echo "$FOO/$BAR"; pwd', { env: ['FOO=one', 'BAR=two=2'], workingDir: '/tmp' });
      expect(r.stdout).toBe('one/two=2\n/tmp\n');
    });

    it('feeds stdin', async () => {
      const r = await run('cat', { stdin: 'line one\nline two\n' });
      expect(r.stdout).toBe('line one\nline two\n');
    });

    it('uses the image config defaults: Entrypoint, Cmd, Env, WorkingDir', async () => {
      const r = await t.engine.run({ image: derived, backend: t.backend, rm: true });
      expect(r.stdout).toBe('default cmd hello from the image\n/tmp\n');
      // A command replaces Cmd and keeps the Entrypoint.
      const r2 = await t.engine.run({ image: derived, backend: t.backend, rm: true, cmd: ['echo replaced $GREETING'] });
      expect(r2.stdout).toBe('replaced hello from the image\n');
      // -e overrides the image's Env; -w its WorkingDir.
      const r3 = await t.engine.run({ image: derived, backend: t.backend, rm: true, env: { GREETING: 'overridden' }, workingDir: '/' });
      expect(r3.stdout).toBe('default cmd overridden\n/\n');
      // --entrypoint replaces the Entrypoint and drops the image's Cmd.
      const r4 = await t.engine.run({ image: derived, backend: t.backend, rm: true, entrypoint: t.shell[0]!, cmd: [...t.shell.slice(1), 'echo own'] });
      expect(r4.stdout).toBe('own\n');
    });

    it("keeps a container's writes across its own restarts and drops them on removal", async () => {
      const c = await t.engine.create({ image: t.shellImage, cmd: sh('echo kept >> /tmp/state; cat /tmp/state'), backend: t.backend });
      await c.start();
      expect((await c.wait()).exitCode).toBe(0);
      await c.start();
      expect((await c.wait()).exitCode).toBe(0);
      const logs = await readAll(await c.logs());
      expect(logs).toBe('kept\nkept\nkept\n');
      await c.remove();
      const r = await run('cat /tmp/state');
      expect(r.exitCode).not.toBe(0);
      await expect(t.engine.record(c.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('isolates two containers of one image from each other', async () => {
      const a = await t.engine.create({ image: t.shellImage, cmd: sh('echo a > /tmp/mine; cat /tmp/mine'), backend: t.backend });
      const b = await t.engine.create({ image: t.shellImage, cmd: sh('cat /tmp/mine'), backend: t.backend });
      await a.start();
      expect((await a.wait()).exitCode).toBe(0);
      await b.start();
      expect((await b.wait()).exitCode).not.toBe(0);
      await a.remove();
      await b.remove();
    });

    it("keeps a named volume's data across containers", async () => {
      const vol = `conf-${name}-${Date.now()}`;
      const w = await run('echo persisted > /data/file', { volumes: [`${vol}:/data`] });
      expect(w.exitCode).toBe(0);
      const r = await run('cat /data/file', { volumes: [`${vol}:/data`] });
      expect(r.stdout).toBe('persisted\n');
      const ro = await run('echo nope > /data/file2', { volumes: [`${vol}:/data:ro`] });
      expect(ro.exitCode).not.toBe(0);
      expect((await t.engine.volumes.list()).map((v) => v.name)).toContain(vol);
      await t.engine.volumes.remove(vol);
    });

    it('bind-mounts host directories read-write and read-only', async (ctx) => {
      if (!t.hostDir || !t.hostFs) return ctx.skip();
      const dir = await t.hostDir();
      await t.hostFs.writeFile(`${dir}/from-host`, 'host data\n');
      const rw = await run('cat /mnt/from-host; echo from container > /mnt/from-container', { volumes: [`${dir}:/mnt`] });
      expect(rw).toMatchObject({ exitCode: 0, stdout: 'host data\n' });
      expect(await t.hostFs.readFile(`${dir}/from-container`)).toBe('from container\n');
      const ro = await run('cat /mnt/from-host; echo x > /mnt/denied', { volumes: [`${dir}:/mnt:ro`] });
      expect(ro.stdout).toBe('host data\n');
      expect(ro.exitCode).not.toBe(0);
      expect(await t.hostFs.exists(`${dir}/denied`)).toBe(false);
    });

    const runToExit = async (line: string) => {
      const c = await t.engine.create({ image: t.shellImage, cmd: sh(line), backend: t.backend });
      await c.start();
      await c.wait();
      return c;
    };

    it('keeps logs of both streams after the container exits', async () => {
      const c = await t.engine.create({ image: t.shellImage, cmd: sh('echo out1; echo err1 1>&2; echo out2'), backend: t.backend });
      await c.start();
      await c.wait();
      const entries = await readEntries(await c.logs());
      expect(entries.filter((e) => e.stream === 'stdout').map((e) => e.text).join('')).toBe('out1\nout2\n');
      expect(entries.filter((e) => e.stream === 'stderr').map((e) => e.text).join('')).toBe('err1\n');
      await c.remove();
      // stdout and stderr are separate pipes, so only one stream's lines have a defined order.
      const tailed = await runToExit('echo a; echo b; echo c');
      expect(await readAll(await tailed.logs({ tail: 1 }))).toBe('c\n');
      expect(await readAll(await tailed.logs({ tail: 2 }))).toBe('b\nc\n');
      expect(await readAll(await tailed.logs({ tail: 0 }))).toBe('');
      await tailed.remove();
    });

    it('exports what a container changed as a layer', async () => {
      const c = await t.engine.create({ image: t.shellImage, cmd: sh('mkdir -p /tmp/exported && echo data > /tmp/exported/f'), backend: t.backend });
      await c.start();
      expect((await c.wait()).exitCode).toBe(0);
      const tar = await readBytes(await c.exportChanges());
      const text = new TextDecoder('latin1').decode(tar);
      expect(text).toContain('tmp/exported/f');
      await c.remove();
    });

    it('commit: the changes and config of a container become an image; no changes add no layer', async () => {
      const platforms = t.engine.backends.find((b) => b.name === t.backend)!.platforms;
      const base = await t.engine.images.resolve(t.shellImage, platforms);
      const c = await t.engine.create({ image: t.shellImage, cmd: sh('echo committed > /tmp/commit.txt'), backend: t.backend });
      await c.start();
      expect((await c.wait()).exitCode).toBe(0);
      const repo = `conformance/${name}-commit`;
      const made = await c.commit({ repo, tag: '1', comment: 'by the suite', author: 'conformance', changes: ['ENV COMMITTED=yes', `WORKDIR /tmp`] });
      expect(made).toMatchObject({ id: expect.stringMatching(/^sha256:[a-f0-9]{64}$/), name: expect.stringContaining(`${repo}:1`) });
      const r = await t.engine.run({ image: `${repo}:1`, cmd: sh('cat commit.txt; echo "$COMMITTED"'), backend: t.backend, rm: true });
      expect(r).toMatchObject({ exitCode: 0, stdout: 'committed\nyes\n' });
      const img = await t.engine.images.resolve(`${repo}:1`, platforms);
      expect(img.id).toBe(made.id);
      expect(img.manifest.layers.length).toBe(base.manifest.layers.length + 1);
      expect(img.config.author).toBe('conformance');
      expect(img.config.history?.at(-1)).toMatchObject({ created_by: sh('echo committed > /tmp/commit.txt').join(' '), comment: 'by the suite', author: 'conformance' });
      expect(img.config.config?.Cmd).toEqual(sh('echo committed > /tmp/commit.txt'));
      // A container that never ran changed nothing: no layer, an empty_layer entry, as dockerd.
      const idle = await t.engine.create({ image: `${repo}:1`, backend: t.backend });
      const same = await t.engine.commit(idle.id, { changes: ['LABEL idle=1'] });
      const again = await t.engine.images.resolve(same.id, platforms);
      expect(again.manifest.layers).toEqual(img.manifest.layers);
      expect(again.config.history?.at(-1)?.empty_layer).toBe(true);
      expect(again.config.config?.Labels?.idle).toBe('1');
      await expect(t.engine.commit(idle.id, { changes: ['RUN true'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(t.engine.commit('no-such-container')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await idle.remove();
      await c.remove();
    });

    it('follows the state machine and refuses invalid transitions with CONFLICT', async () => {
      const c = await t.engine.create({ image: t.shellImage, cmd: sh('exit 0'), backend: t.backend });
      expect((await c.inspect()).state.status).toBe('created');
      await expect(c.kill()).rejects.toMatchObject({ code: 'CONFLICT' });
      await expect(c.exec({ cmd: ['true'] })).rejects.toMatchObject({ code: 'CONFLICT' });
      await c.start();
      await c.wait();
      expect((await c.inspect()).state).toMatchObject({ status: 'exited', exitCode: 0 });
      expect((await t.engine.list({ all: true })).some((r) => r.id === c.id)).toBe(true);
      expect((await t.engine.list()).some((r) => r.id === c.id)).toBe(false);
      await c.remove();
      await expect(c.inspect()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('answers wait only after the exit is recorded, for each run, however late the waiter comes', async () => {
      const c = await t.engine.create({ image: t.shellImage, cmd: sh('exit 7'), backend: t.backend });
      for (let i = 0; i < 5; i++) {
        await c.start();
        // A waiter that arrives after the run may already have ended.
        if (i % 2) await new Promise((res) => setTimeout(res, 20));
        expect((await c.wait()).exitCode).toBe(7);
        expect((await c.inspect()).state).toMatchObject({ status: 'exited', exitCode: 7 });
      }
      await c.remove();
      const sleeper = await t.engine.create({ image: t.shellImage, cmd: sh('sleep 30'), backend: t.backend });
      await sleeper.start();
      const waited = sleeper.wait();
      await t.engine.stop(sleeper.id, { timeoutSec: 0 });
      expect((await sleeper.inspect()).state.status).toBe('exited');
      expect((await waited).exitCode).not.toBe(0);
      await sleeper.remove();
    });

    it('restarts by its policy: on-failure up to its count, always until the user stops it', async () => {
      const until = async (id: string, ok: (r: Awaited<ReturnType<typeof t.engine.record>>) => boolean) => {
        for (let i = 0; i < 200; i++) {
          const r = await t.engine.record(id);
          if (ok(r)) return r;
          await new Promise((res) => setTimeout(res, 25));
        }
        return t.engine.record(id);
      };
      const failing = await t.engine.create({ image: t.shellImage, cmd: sh('echo run; exit 3'), backend: t.backend, restartPolicy: 'on-failure:2' });
      await failing.start();
      const done = await until(failing.id, (r) => r.restartCount === 2 && r.state.status === 'exited');
      expect(done).toMatchObject({ restartCount: 2, state: { status: 'exited', exitCode: 3 } });
      // The policy's count is spent: no third restart comes (the back-off before it would be 400 ms).
      await new Promise((res) => setTimeout(res, 700));
      expect((await t.engine.record(failing.id)).restartCount).toBe(2);
      const logs = await readAll(await failing.logs());
      expect(logs).toBe('run\nrun\nrun\n');
      await failing.remove();

      const always = await t.engine.create({ image: t.shellImage, cmd: sh('exit 0'), backend: t.backend, restartPolicy: 'always' });
      await always.start();
      expect((await until(always.id, (r) => (r.restartCount ?? 0) >= 2)).restartCount).toBeGreaterThanOrEqual(2);
      await t.engine.stop(always.id, { timeoutSec: 0 });
      const stopped = await until(always.id, (r) => r.state.status === 'exited');
      expect(stopped.stoppedByUser).toBe(true);
      const count = stopped.restartCount;
      await new Promise((res) => setTimeout(res, 700));
      expect(await t.engine.record(always.id)).toMatchObject({ restartCount: count, state: { status: 'exited' } });
      await expect(t.engine.create({ image: t.shellImage, cmd: sh('true'), backend: t.backend, restartPolicy: 'always', autoRemove: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      // An engine that starts (a daemon) runs `always` again even after a stop by the user, `unless-stopped` not.
      const unless = await t.engine.create({ image: t.shellImage, cmd: sh('exit 0'), backend: t.backend, restartPolicy: 'unless-stopped' });
      await unless.start();
      await t.engine.stop(unless.id, { timeoutSec: 0 });
      await until(unless.id, (r) => r.state.status === 'exited');
      await until(always.id, (r) => r.state.status === 'exited');
      const again = await t.engine.applyRestartPolicies();
      expect(again).toContain(always.id);
      expect(again).not.toContain(unless.id);
      await t.engine.stop(always.id, { timeoutSec: 0 });
      await until(always.id, (r) => r.state.status === 'exited');
      await always.remove();
      await unless.remove();
    });

    it('update: a restart policy given later acts on the next exit; a stopped container takes new limits or refuses them as UNSUPPORTED', async () => {
      const settled = async (id: string, ok: (r: Awaited<ReturnType<typeof t.engine.record>>) => boolean) => {
        for (let i = 0; i < 200; i++) {
          const r = await t.engine.record(id);
          if (ok(r)) return r;
          await new Promise((res) => setTimeout(res, 25));
        }
        return t.engine.record(id);
      };
      const c = await t.engine.create({ image: t.shellImage, cmd: sh('echo run; exit 3'), backend: t.backend });
      expect((await t.engine.update(c.id, { restartPolicy: 'on-failure:1' })).restartPolicy).toEqual({ name: 'on-failure', maximumRetryCount: 1 });
      await c.start();
      expect(await settled(c.id, (r) => r.restartCount === 1 && r.state.status === 'exited')).toMatchObject({ restartCount: 1, state: { status: 'exited', exitCode: 3 } });
      expect((await t.engine.update(c.id, { restartPolicy: 'no' })).restartPolicy).toBeUndefined();
      // Limits: a backend applies them (kept in the record, the next run has them) or refuses them whole.
      const changed = await t.engine.update(c.id, { resources: { memoryBytes: 64 << 20 } }).catch((err: unknown) => err);
      if (changed instanceof SkiffError) {
        expect(changed.code).toBe('UNSUPPORTED');
        expect((await t.engine.record(c.id)).resources.memoryBytes).toBeUndefined();
      } else {
        expect((await t.engine.record(c.id)).resources.memoryBytes).toBe(64 << 20);
        await c.start();
        expect((await c.wait()).exitCode).toBe(3);
      }
      await expect(t.engine.update(c.id, { resources: { memoryBytes: 1024 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(t.engine.update('no-such-container', { restartPolicy: 'always' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await c.remove();
    });

    it('rejects bad input with the right error code', async () => {
      const code = async (p: Promise<unknown>) => {
        try {
          await p;
          return 'no error';
        } catch (err) {
          expect(err).toBeInstanceOf(SkiffError);
          expect((err as Error).message.length).toBeGreaterThan(10);
          return (err as SkiffError).code;
        }
      };
      expect(await code(t.engine.run({ image: 'no-such-image-anywhere:1', backend: t.backend }))).toBe('NOT_FOUND');
      expect(await code(t.engine.run({ image: 'Bad Name!', backend: t.backend }))).toBe('INVALID_ARGUMENT');
      expect(await code(run('true', { volumes: ['vol:relative/path'] }))).toBe('INVALID_ARGUMENT');
      expect(await code(run('true', { env: ['=nokey'] }))).toBe('INVALID_ARGUMENT');
      expect(await code(run('true', { workingDir: 'relative' }))).toBe('INVALID_ARGUMENT');
      expect(await code(t.engine.run({ image: t.shellImage, backend: 'no-such-backend' }))).toBe('INVALID_ARGUMENT');
      expect(await code(t.engine.record('no-such-container'))).toBe('NOT_FOUND');
      const named = `conf-${name}-dup-${Date.now()}`;
      const c = await t.engine.create({ image: t.shellImage, cmd: sh('true'), name: named, backend: t.backend });
      expect(await code(t.engine.create({ image: t.shellImage, cmd: sh('true'), name: named, backend: t.backend }))).toBe('CONFLICT');
      await c.remove();
    });
  });
}

async function readEntries(s: ReadableStream<{ stream: string; data: Uint8Array }>) {
  const out: Array<{ stream: string; text: string }> = [];
  const dec = new TextDecoder();
  for await (const e of s as unknown as AsyncIterable<{ stream: string; data: Uint8Array }>) out.push({ stream: e.stream, text: dec.decode(e.data) });
  return out;
}

async function readAll(s: ReadableStream<{ stream: string; data: Uint8Array }>): Promise<string> {
  return (await readEntries(s)).map((e) => e.text).join('');
}

async function readBytes(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of s as unknown as AsyncIterable<Uint8Array>) parts.push(p);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
