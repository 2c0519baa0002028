/**
 * A container's stdio through `skiff daemon` on the Linux backend, driven by
 * the real docker CLI: `docker exec -it` in a terminal (under script(1)),
 * resize, `docker attach` with stdin to a running `-d -i` container,
 * `docker start -ai`, and logs that outlive the daemon that started the
 * container (the shim writes them).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxContext, docker, dockerBinary, startDaemon, type DaemonProcess, shutdownDaemon } from './support/harness.js';
import { connectDocker } from '../../src/client/node-transport.js';

const IMAGE = 'skiff-stdio/busybox:1';
let d: DaemonProcess;
let tmp: string;
let root: string;
const run = (args: string[], input?: string) => docker(d.url, args, { env: { DOCKER_BUILDKIT: '0' }, ...(input !== undefined ? { input } : {}) });

/**
 * Runs a shell command line under script(1), so the docker CLI in it has a
 * terminal; `steps` are typed one after another, each once `ready` matches
 * the output so far (a regex), as a person would.
 */
function inTerminal(line: string, steps: Array<{ ready: RegExp; type: string }>, timeoutMs = 30_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', line, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', DOCKER_HOST: d.url, DOCKER_CLI_HINTS: 'false', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let next = 0;
    const step = () => {
      while (next < steps.length && steps[next]!.ready.test(out)) child.stdin.write(steps[next++]!.type);
    };
    child.stdout.on('data', (b: Buffer) => { out += b.toString('utf8'); step(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString('utf8'); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${line} did not finish; output so far:\n${out}`)); }, timeoutMs);
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
    step();
  });
}

/** `docker attach` fed `input`, killed once its output matches `until`; resolves with the output. */
function attachUntil(name: string, input: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(dockerBinary(), ['attach', name], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', DOCKER_HOST: d.url, DOCKER_CLI_HINTS: 'false' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`docker attach ${name} never printed ${until}; got: ${out}`)); }, 20_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
      if (until.test(out)) { clearTimeout(timer); child.kill('SIGKILL'); }
    });
    child.once('close', () => { clearTimeout(timer); resolve(out); });
    child.stdin.on('error', () => {});
    child.stdin.write(input);
  });
}

beforeAll(async () => {
  dockerBinary();
  tmp = mkdtempSync(join(tmpdir(), 'skiff-stdio-'));
  const ctx = busyboxContext(join(tmp, 'ctx'), ['sh', 'cat', 'echo', 'sleep', 'stty', 'tty', 'ls', 'ps']);
  root = mkdtempSync(join(tmpdir(), 'skiff-stdio-root-'));
  d = await startDaemon({ backends: ['linux'], root });
  const built = await run(['build', '-q', '-t', IMAGE, ctx]);
  if (built.code !== 0) throw new Error(`docker build failed: ${built.stderr}`);
}, 120_000);

afterAll(() => shutdownDaemon(d, tmp));

it('docker exec -it runs an interactive shell in the container\'s terminal, sized like the client\'s', async () => {
  expect((await run(['run', '-d', '--name', 'box', IMAGE, 'sleep', '300'])).code).toBe(0);
  const r = await inTerminal('stty rows 41 cols 123; docker exec -it box sh', [
    { ready: /\/ # /, type: 'tty; stty size; echo $((6*7))\n' },
    { ready: /\n42\r?\n/, type: 'exit 3\n' },
  ]);
  expect(r.out).toMatch(/\r\n42\r\n/);
  expect(r.out).toMatch(/\/dev\/pts\/\d+\r\n/); // a terminal of the container's own devpts
  expect(r.out).toMatch(/\r\n41 123\r\n/); // the CLI's resize after the start reached the terminal
  expect(r.code).toBe(3);
  // ctrl-p ctrl-q leaves the exec'd shell running.
  const detached = await inTerminal('docker exec -it box sh -c "echo started; exec sleep 123"', [{ ready: /started/, type: '\x10\x11' }]);
  expect(detached.out).toContain('read escape sequence'); // the CLI's words (and its exit code 1), as with dockerd
  expect((await run(['exec', 'box', 'ps', '-o', 'args'])).stdout).toContain('sleep 123');
  // exec -t without a terminal on the client: the output is one raw stream.
  const plain = await run(['exec', '-t', 'box', 'sh', '-c', 'echo out; echo err >&2']);
  expect(plain.code).toBe(0);
  expect(plain.stdout).toBe('out\r\nerr\r\n');
  expect((await run(['rm', '-f', 'box'])).code).toBe(0);
}, 60_000);

it('docker run -it gives the main process a terminal that follows resizes', async () => {
  const r = await inTerminal(`stty rows 33 cols 99; docker run --rm -it ${IMAGE} sh`, [
    { ready: /\/ # /, type: 'stty size; exit\n' },
  ]);
  expect(r.out).toMatch(/\r\n33 99\r\n/);
  expect(r.code).toBe(0);
}, 60_000);

it('a -t process starts with the client\'s window size (ConsoleSize), before any resize', async () => {
  const r = await inTerminal(`stty rows 27 cols 77; docker run --rm -t ${IMAGE} stty size`, []);
  expect(r.out).toMatch(/^27 77\r*\n/);
  expect(r.code).toBe(0);
  expect((await run(['run', '-d', '--name', 'sized', IMAGE, 'sleep', '300'])).code).toBe(0);
  const e = await inTerminal('stty rows 19 cols 61; docker exec -t sized stty size', []);
  expect(e.out).toMatch(/^19 61\r*\n/);
  expect((await run(['rm', '-f', 'sized'])).code).toBe(0);
}, 60_000);

it('the SDK client execs with a terminal, sized from the start and resized while it runs', async () => {
  const client = connectDocker(d.url);
  const { id } = await client.create({ image: IMAGE, cmd: ['sleep', '300'] });
  await client.start(id);
  const collected = await client.exec(id, { cmd: ['sh', '-c', 'stty size; echo err >&2'], tty: true, consoleSize: { rows: 12, cols: 34 } });
  expect(collected).toEqual({ exitCode: 0, stdout: '12 34\r\nerr\r\n', stderr: '' });
  const chunks: Uint8Array[] = [];
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  const stdin = new ReadableStream<Uint8Array>({ start: (c) => { ctl = c; } });
  const p = await client.execStreams(id, { cmd: ['sh', '-c', 'read x; stty size'], tty: true }, {
    stdout: new WritableStream({ write: (b) => void chunks.push(b.slice()) }),
    stderr: new WritableStream(),
    stdin,
  });
  await p.resize!({ rows: 44, cols: 55 });
  await client.resize(id, { rows: 0, cols: 0 }); // "no size known": accepted and ignored, as dockerd does
  ctl.enqueue(new TextEncoder().encode('go\n'));
  expect((await p.wait()).exitCode).toBe(0);
  expect(Buffer.concat(chunks).toString()).toMatch(/44 55\r\n$/);
  await client.remove(id, { force: true });
}, 60_000);

it('ctrl-p ctrl-q detaches from docker run -it and leaves the shell running for the next docker attach', async () => {
  const first = await inTerminal(`docker run -it --name det ${IMAGE} sh`, [{ ready: /\/ # /, type: '\x10\x11' }]);
  expect(first.code).toBe(0);
  expect((await run(['inspect', '-f', '{{.State.Running}}', 'det'])).stdout.trim()).toBe('true');
  const again = await inTerminal('docker attach det', [{ ready: /(?:)/, type: 'echo $((3*4)); exit 5\r' }]);
  expect(again.out).toMatch(/\n12\r\n/);
  expect(again.code).toBe(5);
  expect((await run(['rm', 'det'])).code).toBe(0);
}, 60_000);

it('docker attach gives stdin to a running -d -i container, and the container keeps its stdin between attachers', async () => {
  expect((await run(['run', '-d', '-i', '--name', 'reader', IMAGE, 'sh', '-c', 'read a; echo "first $a"; read b; echo "second $b"'])).code).toBe(0);
  // The first attacher goes away (as docker attach does when killed) once it has seen its answer;
  // stdin stays open for the next one (no StdinOnce with -d).
  expect(await attachUntil('reader', 'one\n', /first one\n/)).toBe('first one\n');
  const second = await run(['attach', 'reader'], 'two\n');
  expect(second.stdout).toContain('second two');
  expect(second.code).toBe(0);
  const logs = await run(['logs', 'reader']);
  expect(logs.stdout).toBe('first one\nsecond two\n');
  expect((await run(['rm', '-f', 'reader'])).code).toBe(0);
}, 60_000);

it('docker start -ai feeds a created -i container', async () => {
  expect((await run(['create', '-i', '--name', 'later', IMAGE, 'sh', '-c', 'read a; echo "got $a"'])).code).toBe(0);
  const r = await run(['start', '-ai', 'later'], 'hi\n');
  expect(r.stdout).toBe('got hi\n');
  expect(r.code).toBe(0);
  expect((await run(['rm', '-f', 'later'])).code).toBe(0);
}, 60_000);

it('50 concurrent docker run --rm: each output through its shim, and no descriptors or control sockets left', async () => {
  const fds = () => readdirSync(`/proc/${d.pid}/fd`).length;
  const controls = () => readFileSync('/proc/net/unix', 'utf8').split('\n').filter((l) => l.includes('@skiff-c-') || l.includes('@skiff-x-')).length;
  expect((await run(['run', '--rm', IMAGE, 'sh', '-c', ':'])).code).toBe(0);
  const containersBefore = (await run(['ps', '-aq'])).stdout;
  const fdsBefore = fds();
  const controlsBefore = controls();
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    docker(d.url, ['run', '--rm', '-i', IMAGE, 'sh', '-c', `cat; echo "err ${i}" >&2; exit ${i % 7}`], { input: `in ${i}\n`, timeoutMs: 180_000 })));
  results.forEach((r, i) => expect({ i, code: r.code, out: r.stdout, err: r.stderr }).toEqual({ i, code: i % 7, out: `in ${i}\n`, err: `err ${i}\n` }));
  expect((await run(['ps', '-aq'])).stdout).toBe(containersBefore);
  const until = Date.now() + 5000;
  while ((fds() > fdsBefore || controls() > controlsBefore) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  expect(fds()).toBeLessThanOrEqual(fdsBefore);
  expect(controls()).toBeLessThanOrEqual(controlsBefore);
}, 240_000);

it('keeps the output of a detached container when the daemon that started it is gone; logs -f follows it from a new daemon', async () => {
  expect((await run(['run', '-d', '--name', 'talker', IMAGE, 'sh', '-c', 'echo hi; sleep 1; echo bye; echo oops >&2; sleep 1; echo last'])).code).toBe(0);
  await d.stop(); // the container runs on; its shim writes what it says
  d = await startDaemon({ backends: ['linux'], root });
  const followed = await run(['logs', '-f', 'talker']);
  expect(followed.stdout).toBe('hi\nbye\nlast\n');
  expect(followed.stderr).toBe('oops\n');
  const again = await run(['logs', '--tail', '2', 'talker']);
  expect(again.stdout + again.stderr).toContain('last\n');
  expect((await run(['rm', '-f', 'talker'])).code).toBe(0);
}, 60_000);

it('a new daemon attaches stdin and output to a -d -i container the old one started', async () => {
  expect((await run(['run', '-d', '-i', '--name', 'orphan', IMAGE, 'sh', '-c', 'read a; echo "got $a"; exit 6'])).code).toBe(0);
  await d.stop();
  d = await startDaemon({ backends: ['linux'], root });
  const r = await run(['attach', 'orphan'], 'late\n');
  expect(r.stdout).toBe('got late\n');
  expect(r.code).toBe(6);
  expect((await run(['rm', 'orphan'])).code).toBe(0);
}, 60_000);
