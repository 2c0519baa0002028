/**
 * Requests to a container's worker while its thread runs a guest.
 *
 * A guest runs synchronously and holds the worker's thread, so a comlink call
 * would wait until the guest exits. A request instead goes on a port of its
 * own and rings a bell, an Int32Array in a SharedArrayBuffer: the guest's
 * blocking waits (a sleep, a read of stdin) wake on the bell and, through the
 * thread's WaitService (wasi/clock.ts), take the request without the event
 * loop (Node's receiveMessageOnPort) and serve it right there, nested in the
 * guest's host call. A worker with no guest running takes it from the port's
 * message event as usual. The answer comes back as a `reply` event on the
 * worker's event port. A guest that never blocks is never interrupted: its
 * requests wait for its next blocking call (the host gives up after a while).
 *
 * Browsers have no synchronous receive: there a request is served only
 * between guests, and the host refuses what needs more (exec).
 *
 * Bell layout: [WAKE] changes for anything a blocked wait should look at (a
 * request, stdin bytes, a kill); [SENT] counts requests sent, so a wait that
 * wakes for stdin does not look at the port.
 */
import { SkiffError, unsupported } from '@skiff/sdk';

export const WAKE = 0;
const SENT = 1;
const BELL_BYTES = 8;

export function createBell(): SharedArrayBuffer {
  return new SharedArrayBuffer(BELL_BYTES);
}

/** Wakes whatever waits on the bell. */
export function ring(bell: Int32Array): void {
  Atomics.add(bell, WAKE, 1);
  Atomics.notify(bell, WAKE);
}

export interface Request {
  id: number;
  kind: string;
  body: unknown;
}

/** How an error crosses a port with its code (structured clone keeps only an Error's message and name). */
export interface PortableError {
  skiffError: true;
  code: string;
  message: string;
}

export function portable(err: unknown): PortableError {
  if (err instanceof SkiffError) return { skiffError: true, code: err.code, message: err.message };
  return { skiffError: true, code: 'INTERNAL', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

export type Reply = { t: 'reply'; id: number; value?: unknown; error?: PortableError };

/** The host's end. */
export class RequestSender {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly port: MessagePort, readonly bell: Int32Array) {}

  /** Sends a request; resolves with the worker's reply, or fails with its error and code. */
  send<T>(kind: string, body: unknown, transfer: Transferable[] = []): Promise<T> {
    const id = ++this.next;
    const answer = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    this.port.postMessage({ id, kind, body } satisfies Request, transfer);
    // Counted after the post: a worker that sees the count can receive the message.
    Atomics.add(this.bell, SENT, 1);
    ring(this.bell);
    return answer;
  }

  /** A reply event from the worker. */
  settle(r: Reply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (r.error) p.reject(new SkiffError(r.error.code as SkiffError['code'], r.error.message));
    else p.resolve(r.value);
  }

  /** The worker is gone: every request still unanswered fails with `err`. */
  close(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.port.close();
  }
}

/**
 * A claim word for a request with effects (a copy into the container): the
 * host may give up waiting for it, and the worker must then not run it. Both
 * race for the word, so exactly one wins: a request taken runs and answers;
 * one given up never runs.
 */
const OPEN = 0;
const TAKEN = 1;
const GIVEN_UP = 2;

export function createClaim(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/** The worker's side: true if the request may run (the host still waits). */
export function takeClaim(claim: SharedArrayBuffer): boolean {
  return Atomics.compareExchange(new Int32Array(claim), 0, OPEN, TAKEN) === OPEN;
}

/** The host's side: true if the request will never run; false if it has run or runs now (its answer is on the way). */
export function giveUpClaim(claim: SharedArrayBuffer): boolean {
  return Atomics.compareExchange(new Int32Array(claim), 0, OPEN, GIVEN_UP) === OPEN;
}

/** Answers a request: once, with a value (the default: undefined once the handler returns); `transfer` moves buffers instead of copying them. */
export type Respond = (value?: unknown, transfer?: Transferable[]) => void;
/** Serves one kind of request, synchronously: it may run nested in a guest's host call, where nothing can be awaited. */
export type Handler<B = unknown> = (body: B, respond: Respond) => void;
/** Takes a message from a port without the event loop (Node's receiveMessageOnPort). */
export type ReceiveNow = (port: MessagePort) => { message: unknown } | undefined;

/** The worker's end: handlers by kind, served from the port's events and from blocked waits. */
export class RequestServer {
  readonly bell: Int32Array;
  private taken = 0;
  private readonly handlers = new Map<string, Handler>();

  constructor(
    private readonly port: MessagePort,
    bell: SharedArrayBuffer,
    private readonly post: (r: Reply, transfer?: Transferable[]) => void,
    private readonly receiveNow?: ReceiveNow,
  ) {
    this.bell = new Int32Array(bell);
    port.addEventListener('message', (e: MessageEvent) => this.handle(e.data as Request));
    port.start();
  }

  on<B>(kind: string, handler: Handler<B>): void {
    this.handlers.set(kind, handler as Handler);
  }

  /** Serves the requests waiting on the port, here and now (from a blocked wait). */
  serveNow(): void {
    if (!this.receiveNow || Atomics.load(this.bell, SENT) === this.taken) return;
    for (let m = this.receiveNow(this.port); m; m = this.receiveNow(this.port)) this.handle(m.message as Request);
  }

  private handle(req: Request): void {
    this.taken++;
    let answered = false;
    const respond: Respond = (value, transfer) => {
      if (answered) return;
      answered = true;
      this.post({ t: 'reply', id: req.id, value }, transfer);
    };
    try {
      const h = this.handlers.get(req.kind);
      if (!h) throw unsupported(`the container's worker does not serve ${req.kind} requests`);
      h(req.body, respond);
      respond();
    } catch (err) {
      // After the answer an error has no one to go to; it must not reach the guest this may be nested in.
      if (!answered) {
        answered = true;
        this.post({ t: 'reply', id: req.id, error: portable(err) });
      }
    }
  }
}
