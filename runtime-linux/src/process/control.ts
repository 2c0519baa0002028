/**
 * A shim's control socket (native/src/io.h): an abstract unix socket, open to
 * our own user only, taking one request line per connection. Any process can
 * use it, so stdin attach and resize work from an Engine process other than
 * the one that started the container.
 */
import { connect, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { failedPrecondition, internal } from '@skiff/sdk';
import type { TtySize } from '@skiff/sdk';

/** The main process's control socket name: fixed per container directory, so a later Engine finds it. */
export function controlNameFor(containerDir: string): string {
  return `skiff-c-${createHash('sha256').update(containerDir).digest('hex').slice(0, 24)}`;
}

/** A fresh name for an exec'd process. */
export function execControlName(): string {
  return `skiff-x-${randomBytes(12).toString('hex')}`;
}

function open(name: string, what: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ path: `\0${name}` });
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ECONNREFUSED' || err.code === 'ENOENT'
        ? failedPrecondition(`${what}: the process is not running (its runtime helper does not answer)`)
        : internal(`${what}: connect to the runtime helper: ${err.message}`, err));
    });
  });
}

/** Sends a request line and resolves with the helper's answer (it closes the connection after it). */
async function request(name: string, line: string, what: string): Promise<string> {
  const s = await open(name, what);
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (b: Buffer) => parts.push(b));
    s.on('error', (err) => reject(internal(`${what}: ${err.message}`, err)));
    s.on('close', () => resolve(Buffer.concat(parts).toString('utf8').trim()));
    s.end(line);
  });
}

export async function resizeTerminal(name: string, size: TtySize, what: string): Promise<void> {
  const rows = Math.trunc(size.rows);
  const cols = Math.trunc(size.cols);
  if (!(rows > 0 && rows < 65536 && cols > 0 && cols < 65536)) throw failedPrecondition(`${what}: invalid terminal size ${size.rows}x${size.cols}; rows and columns must be between 1 and 65535`);
  const answer = await request(name, `resize ${rows} ${cols}\n`, what);
  if (answer !== 'ok') throw failedPrecondition(`${what}: ${answer.replace(/^error /, '') || 'the runtime helper closed the connection'}`);
}

/** The helper's one-line answer to a request, or what it said before closing. */
function answer(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (b: Buffer) => {
      text += b.toString('utf8');
      if (text.includes('\n')) done();
    };
    const done = () => {
      s.off('data', onData);
      s.off('close', done);
      resolve(text.trim());
    };
    s.on('data', onData);
    s.once('close', done);
  });
}

/** Copies input to the process's stdin until it ends (a detach); resolves then. */
export async function attachInput(name: string, input: ReadableStream<Uint8Array>, what: string): Promise<void> {
  const s = await open(name, what);
  s.on('error', () => {});
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.write('stdin\n');
  const reply = await answer(s);
  if (reply !== 'ok') {
    s.destroy();
    input.cancel().catch(() => {});
    throw failedPrecondition(`${what}: ${reply.replace(/^error /, '') || 'the runtime helper closed the connection'}`);
  }
  s.resume();
  const reader = input.getReader();
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), closed.then(() => ({ done: true as const, value: undefined }))]);
      if (next.done || s.destroyed) break;
      if (!s.write(next.value)) await Promise.race([new Promise((r) => s.once('drain', r)), closed]);
    }
  } catch { /* the input failed: that is a detach too */ }
  finally {
    reader.cancel().catch(() => {});
    s.end();
  }
  await closed;
}
