/**
 * Time for a guest: the four WASI clocks and a blocking sleep.
 *
 * An in-process guest runs synchronously, so a sleep must block the thread:
 * Atomics.wait on a SharedArrayBuffer where the platform allows it (Node's
 * main thread, workers), else a busy wait (a browser's main thread, where
 * nothing can block without burning CPU).
 *
 * The deterministic clock is virtual: it starts at a fixed instant, advances
 * 1 µs per reading and by the requested amount on a sleep, which it never
 * really waits. Two runs of the same program see the same times, and a
 * program that waits for time to pass still finishes.
 */

export interface GuestClock {
  /** Nanoseconds since the Unix epoch. */
  realtime(): bigint;
  /** Nanoseconds from an arbitrary origin; never decreases. */
  monotonic(): bigint;
  /** CPU time the guest has used, in nanoseconds (see RealClock). */
  cputime(): bigint;
  /** Resolution of the clocks, in nanoseconds. */
  resolution(): bigint;
  /** Blocks until `monotonic()` has advanced by `ns`. */
  sleep(ns: bigint): void;
}

let waitCell: Int32Array | undefined | null;
/** An Int32Array over a SharedArrayBuffer that Atomics.wait may block on here, or null. */
function atomicsWaitCell(): Int32Array | null {
  if (waitCell !== undefined) return waitCell;
  try {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    Atomics.wait(cell, 0, 1, 0); // throws on a browser's main thread
    waitCell = cell;
  } catch {
    waitCell = null;
  }
  return waitCell;
}

/**
 * Work a thread can do while its guest is blocked: worker mode serves
 * requests (an exec into the container) while the main guest sleeps or waits
 * for stdin. `bell[0]` changes whenever there may be work (a request, new
 * input); a blocked wait wakes on it, calls `serve` there, nested inside the
 * guest's host call, and waits again for what is left. `serve` may throw to
 * end the guest that waits (a kill).
 */
export interface WaitService {
  readonly bell: Int32Array;
  serve(): void;
}

let service: WaitService | undefined;

/** Sets (or clears) this thread's wait service. */
export function setWaitService(s: WaitService | undefined): void {
  service = s;
}

export function waitService(): WaitService | undefined {
  return service;
}

/** Blocks the current thread for `ms` milliseconds without spinning where possible. */
export function blockFor(ms: number): void {
  if (!(ms > 0)) return;
  const end = performance.now() + ms;
  if (service) {
    const { bell } = service;
    for (;;) {
      const rung = Atomics.load(bell, 0);
      service.serve();
      const left = end - performance.now();
      if (left <= 0) return;
      Atomics.wait(bell, 0, rung, left);
    }
  }
  const cell = atomicsWaitCell();
  if (cell) {
    // Atomics.wait may wake a little early; loop until the deadline.
    for (let left = ms; left > 0; left = end - performance.now()) Atomics.wait(cell, 0, 0, left);
    return;
  }
  while (performance.now() < end) {
    /* no way to block here: spin */
  }
}

const NS_PER_MS = 1_000_000;

/** The host's clocks. CPU time is the time the guest ran, minus the time it slept or waited. */
export class RealClock implements GuestClock {
  private readonly origin = performance.timeOrigin;
  private lastMono = 0n;
  private readonly startedAt = performance.now();
  private idleMs = 0;

  realtime(): bigint {
    return BigInt(Math.round((this.origin + performance.now()) * NS_PER_MS));
  }

  monotonic(): bigint {
    const now = BigInt(Math.round(performance.now() * NS_PER_MS));
    if (now > this.lastMono) this.lastMono = now;
    return this.lastMono;
  }

  cputime(): bigint {
    return BigInt(Math.max(0, Math.round((performance.now() - this.startedAt - this.idleMs) * NS_PER_MS)));
  }

  resolution(): bigint {
    return 1000n;
  }

  sleep(ns: bigint): void {
    if (ns <= 0n) return;
    const ms = Number(ns) / NS_PER_MS;
    const t0 = performance.now();
    blockFor(ms);
    this.idleMs += performance.now() - t0;
  }

  /** Time spent blocked for the guest (on stdin, say), not counted as CPU time. */
  addIdle(ms: number): void {
    this.idleMs += ms;
  }
}

/** 2000-01-01T00:00:00Z: the default start of deterministic time. */
export const DETERMINISTIC_EPOCH_NS = 946_684_800_000_000_000n;

export class DeterministicClock implements GuestClock {
  private now = 0n;
  constructor(private readonly epochNs: bigint = DETERMINISTIC_EPOCH_NS) {}

  private tick(): bigint {
    const t = this.now;
    this.now += 1000n;
    return t;
  }

  realtime(): bigint {
    return this.epochNs + this.tick();
  }
  monotonic(): bigint {
    return this.tick();
  }
  cputime(): bigint {
    return this.tick();
  }
  resolution(): bigint {
    return 1000n;
  }
  sleep(ns: bigint): void {
    if (ns > 0n) this.now += ns;
  }
}
