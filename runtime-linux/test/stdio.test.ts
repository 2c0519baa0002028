/**
 * A container's stdio beyond the start: exec with a terminal from the
 * container's own devpts, resize, stdin attachers on a running container
 * (OpenStdin, StdinOnce), and the log the shim writes itself.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BackendContainer } from '@skiff/sdk';
import { FsLogStore } from '@skiff/sdk/node';
import { LinuxBackend } from '../src/index.js';
import { CI, missingPrerequisite, sink, tempDir, textStream } from './fixtures.js';
import { Harness } from './harness.js';

const why = missingPrerequisite();
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);

/** A stdin the test writes to when it wants. */
function pushStream() {
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => { ctl = c; } });
  return { stream, push: (s: string) => ctl.enqueue(new TextEncoder().encode(s)), end: () => ctl.close() };
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function logLines(path: string): Array<{ stream: string; text: string }> {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => {
    // docker's json-file lines: {"log","stream","time":RFC 3339}.
    const j = JSON.parse(l) as { stream: string; time: string; log: string };
    expect(j.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    return { stream: j.stream, text: j.log };
  });
}

describe.skipIf(!!why)('linux backend: attach, terminals, logs', () => {
  let h: Harness;
  const running: BackendContainer[] = [];
  beforeAll(async () => { h = await Harness.open(); });
  afterAll(async () => {
    for (const c of running) await c.kill('SIGKILL').catch(() => {});
    for (const c of running) await c.wait().catch(() => {});
    for (const c of running) await c.remove().catch(() => {});
    const leaks = await h?.close();
    expect(leaks).toEqual({ mounts: [], cgroups: [] });
  });

  async function started(line: string, extra: Parameters<Harness['create']>[1] = {}, stdin?: ReadableStream<Uint8Array>) {
    const c = await h.create(line, extra);
    running.push(c);
    const out = sink();
    const err = sink();
    await c.start({ stdout: out.stream, stderr: err.stream, ...(stdin ? { stdin } : {}) });
    return { c, out, err };
  }

  it('exec -t gets a terminal of the container\'s own devpts, and resize changes its window', async () => {
    const { c } = await started('sleep 30');
    const out = sink();
    const input = pushStream();
    const p = await c.exec({ args: ['sh', '-c', 'tty; ls /dev/pts; stty size; read x; stty size'], env: [], cwd: '/', tty: true }, { stdout: out.stream, stderr: sink().stream, stdin: input.stream });
    await until('the first size', () => out.text().includes('24 80'));
    const [tty, pts] = out.text().split('\r\n');
    // The slave is one the container's devpts has (a host pts would not be listed there).
    expect(tty).toMatch(/^\/dev\/pts\/\d+$/);
    expect(pts!.split(/\s+/)).toContain(tty!.slice('/dev/pts/'.length));
    await p.resize!({ rows: 50, cols: 132 });
    input.push('go\n');
    expect((await p.wait()).exitCode).toBe(0);
    expect(out.text()).toMatch(/24 80\r\ngo\r\n50 132\r\n$/);
    await expect(p.resize!({ rows: 10, cols: 10 })).rejects.toMatchObject({ code: 'CONFLICT' });
    await c.kill('SIGKILL');
  });


  it('exec -t keeps what a process wrote just before its exit, and a background process holding the terminal does not keep it', async () => {
    const { c } = await started('sleep 30');
    // The last write is still in the terminal's line discipline when the exit
    // is seen; many at once make that race likely.
    const runs = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
      const out = sink();
      const p = await c.exec({ args: ['sh', '-c', `echo first ${i}; echo last ${i}`], env: [], cwd: '/', tty: true }, { stdout: out.stream, stderr: sink().stream });
      return { i, code: (await p.wait()).exitCode, text: out.text() };
    }));
    for (const r of runs) expect(r).toEqual({ i: r.i, code: 0, text: `first ${r.i}\r\nlast ${r.i}\r\n` });
    const out = sink();
    const started_ = Date.now();
    const p = await c.exec({ args: ['sh', '-c', 'sleep 20 & echo left it running'], env: [], cwd: '/', tty: true }, { stdout: out.stream, stderr: sink().stream });
    expect((await p.wait()).exitCode).toBe(0);
    expect(out.text()).toBe('left it running\r\n');
    expect(Date.now() - started_).toBeLessThan(10_000);
    await c.kill('SIGKILL');
  });
  it('resizes the terminal of a container run with -t', async () => {
    const input = pushStream();
    const { c, out } = await started('stty size; read x; stty size', { process: { tty: true } }, input.stream);
    await until('the first size', () => out.text().includes('24 80'));
    await c.resize!({ rows: 33, cols: 101 });
    input.push('\n');
    expect((await c.wait()).exitCode).toBe(0);
    expect(out.text()).toMatch(/24 80\r\n\r\n33 101\r\n$/);
  });

  it('keeps stdin open (OpenStdin) while attachers come and go, from any process', async () => {
    const { c, out } = await started('read a; read b; echo "$a $b"', { openStdin: true });
    await c.attachStdin!(textStream('hello\n'));
    // Another backend on the same state (as a later Engine process has) attaches through the shim.
    const other = new LinuxBackend();
    await other.init({ content: h.img.layout, stateDir: h.state });
    try {
      const again = await other.restore!(c.id, (c as unknown as { spec: Parameters<LinuxBackend['create']>[0] }).spec);
      await again!.attachStdin!(textStream('world\n'));
    } finally {
      await other.close();
    }
    expect((await c.wait()).exitCode).toBe(0);
    expect(out.text()).toBe('hello world\n');
  });

  it('closes stdin when the first attacher detaches (StdinOnce), and refuses attachers after', async () => {
    const { c, out } = await started('cat; echo done; sleep 30', { openStdin: true, stdinOnce: true });
    await c.attachStdin!(textStream('x\n'));
    await until('cat to end', () => out.text().includes('done'));
    expect(out.text()).toBe('x\ndone\n');
    await expect(c.attachStdin!(textStream('y\n'))).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await c.kill('SIGKILL');
  });

  it('without OpenStdin there is nothing to attach to', async () => {
    const { c } = await started('sleep 30');
    await expect(c.attachStdin!(textStream('x'))).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringContaining('-i') });
    await c.kill('SIGKILL');
  });

  it('writes the log itself, and keeps writing when the reader of the output is gone', async () => {
    const logPath = join(tempDir(), 'container.log');
    const c = await h.create('echo one; echo two >&2; sleep 0.3; echo three', { logPath });
    running.push(c);
    // A reader that fails at once, like a Node process that has exited.
    const gone = new WritableStream<Uint8Array>({ write() { throw new Error('reader gone'); } });
    await c.start({ stdout: gone, stderr: sink().stream });
    expect((await c.wait()).exitCode).toBe(0);
    const lines = logLines(logPath);
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text).join('')).toBe('one\nthree\n');
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text).join('')).toBe('two\n');
  });

  it('logs a terminal\'s output as stdout', async () => {
    const logPath = join(tempDir(), 'container.log');
    const c = await h.create('echo hi', { logPath, process: { tty: true } });
    running.push(c);
    const out = sink();
    await c.start({ stdout: out.stream, stderr: sink().stream });
    await c.wait();
    expect(out.text()).toBe('hi\r\n');
    expect(logLines(logPath)).toEqual([{ stream: 'stdout', text: 'hi\r\n' }]);
  });

  it("writes docker's json-file lines: one per line of output, JSON escapes, U+FFFD for bytes that are not UTF-8 (exact in \"raw\")", async () => {
    const logPath = join(tempDir(), 'container.log');
    const c = await h.create("printf 'a \\042q\\042\\tb\\nno\\351x\\n\\001end'", { logPath });
    running.push(c);
    await c.start({ stdout: sink().stream, stderr: sink().stream });
    await c.wait();
    const raw = readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => l.replace(/"time":"[^"]+"/, '"time":"T"'));
    expect(raw).toEqual([
      '{"log":"a \\"q\\"\\tb\\n","stream":"stdout","time":"T"}',
      `{"log":"no\\ufffdx\\n","stream":"stdout","time":"T","raw":"${Buffer.from('no\xe9x\n', 'latin1').toString('base64')}"}`,
      '{"log":"\\u0001end","stream":"stdout","time":"T"}',
    ]);
    const entries = await new FsLogStore(join(logPath, '..', '..')).read(basename(join(logPath, '..')));
    expect(Buffer.concat(entries.map((e) => Buffer.from(e.data))).toString('latin1')).toBe('a "q"\tb\nno\xe9x\n\x01end');
  });

  it('logs a line written in pieces as one entry, as docker: held until its newline, 16 KiB of it, or the end of the output', async () => {
    const logPath = join(tempDir(), 'container.log');
    // 'abc' then 'def\n' later; 20,000 bytes with no newline; an unfinished last line on stderr.
    const c = await h.create("printf abc; sleep 0.3; echo def; head -c 20000 /dev/zero | tr '\\0' x; sleep 0.2; echo; head -c 40000 /dev/zero | tr '\\0' y > /tmp/y; echo >> /tmp/y; cat /tmp/y; printf tail >&2", { logPath });
    running.push(c);
    const out = sink();
    await c.start({ stdout: out.stream, stderr: sink().stream });
    await c.wait();
    const lines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { log: string; stream: string });
    expect(lines.map((l) => [l.stream, l.log.length < 100 ? l.log : `${l.log.length} x`])).toEqual([
      ['stdout', 'abcdef\n'],
      ['stdout', '16384 x'],
      ['stdout', '3617 x'], // the rest of the long line with its newline
      ['stdout', '16384 x'], // a long line in one write: in 16 KiB pieces too
      ['stdout', '16384 x'],
      ['stdout', '7233 x'],
      ['stderr', 'tail'],
    ]);
    expect(out.text()).toBe(`abcdef\n${'x'.repeat(20000)}\n${'y'.repeat(40000)}\n`); // attached readers get output at once, as it comes
  });

  it('rotates the log by size between lines: container.log, .1, .2, the oldest dropped, the retained tail in order', async () => {
    const dir = tempDir();
    const logPath = join(dir, 'c1', 'container.log');
    mkdirSync(join(dir, 'c1'));
    const maxSize = 4000;
    // 2000 lines in many writes (a sleep now and then so the shim reads them in many chunks).
    const line = 'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); [ $((i % 200)) = 0 ] && sleep 0.01; done; echo done >&2';
    const c = await h.create(line, { logPath, logLimits: { maxSize, maxFiles: 3 } });
    running.push(c);
    const out = sink();
    await c.start({ stdout: out.stream, stderr: sink().stream });
    expect((await c.wait()).exitCode).toBe(0);
    const full = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`).join('');
    expect(out.text()).toBe(full); // the reader gets everything; only the log is cut
    expect(readdirSync(join(dir, 'c1')).sort()).toEqual(['container.log', 'container.log.1', 'container.log.2']);
    for (const f of [`${logPath}.2`, `${logPath}.1`]) {
      // Rotated at the first line that reached the size: never below it, never more than one chunk's line above it.
      expect(statSync(f).size).toBeGreaterThanOrEqual(maxSize);
      expect(statSync(f).size).toBeLessThan(maxSize + 200_000);
      for (const l of readFileSync(f, 'utf8').split('\n').filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
    }
    const entries = await new FsLogStore(dir).read('c1');
    const stdout = entries.filter((e) => e.stream === 'stdout').map((e) => Buffer.from(e.data).toString()).join('');
    // More than one file's worth of output (max-size counts the log's JSON, so compare the data: small chunks cost more JSON per byte).
    const dataIn = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).reduce((n, l) => n + Buffer.byteLength((JSON.parse(l) as { log: string }).log), 0);
    expect(stdout.length).toBeGreaterThan(dataIn(`${logPath}.1`));
    expect(stdout.length).toBeGreaterThanOrEqual(dataIn(`${logPath}.2`) + dataIn(`${logPath}.1`));
    expect(stdout.length).toBeLessThan(full.length); // the oldest file was dropped
    expect(full.endsWith(stdout)).toBe(true); // a contiguous tail, in order
    expect(entries.filter((e) => e.stream === 'stderr').map((e) => Buffer.from(e.data).toString())).toEqual(['done\n']);
  });
});
