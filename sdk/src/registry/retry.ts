/**
 * Retries with exponential backoff and jitter, bounded in count and in delay.
 * Only RegistryErrors marked retryable are retried (5xx, 429, dropped
 * connections); a Retry-After from the registry is honoured.
 */
import { cancelled } from '../errors/index.js';
import { RegistryError, isRetryable } from './errors.js';
import type { RetryOptions } from './types.js';

export const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8000, maxRetryAfterMs: 60_000 };

export function retryOptions(o?: RetryOptions): Required<RetryOptions> {
  return { ...DEFAULT_RETRY, ...o };
}

/** The wait before try number `retry + 1` (retry counts from 0), or undefined to give up. */
export function backoffDelay(retry: number, o: Required<RetryOptions>, err?: unknown): number | undefined {
  const exp = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** retry);
  // "Equal jitter": half fixed, half random, so clients that failed together spread out.
  const delay = exp / 2 + Math.random() * (exp / 2);
  const after = err instanceof RegistryError ? err.retryAfterMs : undefined;
  if (after !== undefined) return after > o.maxRetryAfterMs ? undefined : Math.max(after, delay);
  return delay;
}

export function throwIfAborted(signal: AbortSignal | undefined, what = 'the operation'): void {
  if (signal?.aborted) throw cancelled(`${what} was cancelled`, signal.reason);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled('cancelled while waiting to retry', signal.reason));
    const onAbort = () => {
      clearTimeout(t);
      reject(cancelled('cancelled while waiting to retry', signal?.reason));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, fails with an error that is not retryable, or
 * the tries run out (then the last error is thrown).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions | undefined, signal?: AbortSignal, onRetry?: (err: unknown, delayMs: number) => void): Promise<T> {
  const o = retryOptions(options);
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (signal?.aborted) throw cancelled('the operation was cancelled', signal.reason);
      if (!isRetryable(err) || attempt + 1 >= o.attempts) throw err;
      const delay = backoffDelay(attempt, o, err);
      if (delay === undefined) throw err;
      onRetry?.(err, delay);
      await sleep(delay, signal);
    }
  }
}
