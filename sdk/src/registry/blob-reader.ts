/**
 * A blob download as a stream that verifies size and digest as bytes flow and
 * survives dropped connections: it reconnects with `Range: bytes=N-` (or, when
 * the registry ignores ranges, downloads again and skips what it already
 * passed on) and keeps hashing where it stopped. The stream errors instead of
 * closing when the content is wrong, so an Ingester never commits it.
 */
import { cancelled, dataLoss } from '../errors/index.js';
import { createSha256 } from '../image/digest.js';
import { repositoryScope } from './auth.js';
import { RegistryError } from './errors.js';
import { backoffDelay, retryOptions, sleep } from './retry.js';
import type { RegistryTransport } from './transport.js';

export interface BlobReadOptions {
  signal?: AbortSignal;
  /** Called with the bytes received so far, after each chunk. */
  onBytes?: (received: number) => void;
  /** A read that yields nothing for this long counts as a dropped connection. Default: the client's timeoutMs (60 s). */
  idleTimeoutMs?: number;
  /**
   * Hash the bytes here and fail the stream on a digest mismatch (default
   * true). fetchBlob turns it off: an Ingester verifies what it stores, and
   * hashing twice costs a third of the pull time. Sizes are always checked.
   */
  verifyDigest?: boolean;
}

/** Bytes received between two drops that count as progress. */
const PROGRESS_RESETS_DROPS = 4 << 20;

export function openBlobStream(t: RegistryTransport, repository: string, blob: { digest: string; size: number }, o: BlobReadOptions = {}): ReadableStream<Uint8Array> {
  const retry = retryOptions(t.options.retry);
  const what = `blob ${blob.digest} from ${t.domain}/${repository}`;
  const hasher = o.verifyDigest === false ? undefined : createSha256();
  const idleMs = o.idleTimeoutMs ?? t.options.timeoutMs ?? 60_000;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let received = 0;
  let skip = 0;
  let drops = 0;
  let receivedAtDrop = 0;

  const connect = async () => {
    const headers: Record<string, string> = {};
    if (received > 0) headers.range = `bytes=${received}-`;
    const res = await t.request({
      method: 'GET',
      url: `/v2/${repository}/blobs/${blob.digest}`,
      headers,
      scopes: [repositoryScope(repository, ['pull'])],
      ctx: { registry: t.domain, repository, kind: 'blob', ref: blob.digest },
      ...(o.signal ? { signal: o.signal } : {}),
    });
    skip = 0;
    if (received > 0 && res.status === 206) {
      const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== received) {
        await res.body?.cancel().catch(() => {});
        throw dataLoss(`${what}: the registry resumed at ${m?.[1] ?? 'an unknown offset'} instead of byte ${received}`);
      }
    } else {
      // A whole blob again (a first try, or a registry that ignores ranges).
      skip = received;
      const length = res.headers.get('content-length');
      if (length !== null && Number(length) !== blob.size && res.status === 200) {
        await res.body?.cancel().catch(() => {});
        throw dataLoss(`${what}: the registry says it has ${length} bytes, the descriptor says ${blob.size}; refusing it, nothing was stored`);
      }
    }
    if (!res.body) throw dataLoss(`${what}: the registry answered without a body`);
    reader = res.body.getReader();
  };

  /**
   * A dropped connection: wait, then reconnect from where we are. The count
   * of drops starts over after real progress, so a long download on a flaky
   * link goes on while a link that never gets anywhere gives up.
   */
  const dropped = async (err: unknown) => {
    void reader?.cancel().catch(() => {});
    reader = undefined;
    if (received - receivedAtDrop >= PROGRESS_RESETS_DROPS) drops = 0;
    receivedAtDrop = received;
    drops++;
    const delay = drops < retry.attempts ? backoffDelay(drops - 1, retry) : undefined;
    if (delay === undefined) {
      throw new RegistryError('UNAVAILABLE', `${what}: the connection dropped ${drops} times (at byte ${received} of ${blob.size}); giving up, nothing was stored`, { retryable: false, cause: err });
    }
    await sleep(delay, o.signal);
  };

  /**
   * One watchdog and one abort listener per stream, not per chunk: a stall or
   * an abort cancels the reader, which ends the pending read at once, and the
   * loop below tells the two apart. (A timer, a listener and a Promise.race
   * per 64 KiB chunk took about a third of a pull's CPU time.)
   */
  let lastData = 0;
  let stalled: Error | undefined;
  let waiting = false;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const watch = () => {
    watchdog = undefined;
    // Only a read that waits can stall; a consumer slow to ask is not the registry's fault (the next read re-arms).
    if (!waiting) return;
    const idle = Date.now() - lastData;
    if (idle < idleMs) {
      watchdog = setTimeout(watch, idleMs - idle);
      return;
    }
    stalled = new Error(`no data for ${idleMs} ms`);
    void reader?.cancel(stalled).catch(() => {});
  };
  const onAbort = () => void reader?.cancel(o.signal?.reason).catch(() => {});
  const stop = () => {
    if (watchdog !== undefined) clearTimeout(watchdog);
    watchdog = undefined;
    o.signal?.removeEventListener('abort', onAbort);
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });

  const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    lastData = Date.now();
    stalled = undefined;
    watchdog ??= setTimeout(watch, idleMs);
    waiting = true;
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader!.read();
    } finally {
      waiting = false;
    }
    if (stalled) throw stalled;
    if (o.signal?.aborted) throw cancelled(`the download of ${what} was cancelled; nothing was stored`, o.signal.reason);
    return r;
  };

  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        await fill(ctl);
      } catch (err) {
        stop();
        throw err;
      }
    },
    async cancel(reason) {
      stop();
      await reader?.cancel(reason).catch(() => {});
    },
  });

  async function fill(ctl: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      if (o.signal?.aborted) throw cancelled(`the download of ${what} was cancelled; nothing was stored`, o.signal.reason);
      // Retryable answers (5xx, 429, resets while connecting) are retried by the transport.
      if (!reader) await connect();
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await read();
      } catch (err) {
        if (o.signal?.aborted) {
          void reader?.cancel().catch(() => {});
          throw cancelled(`the download of ${what} was cancelled; nothing was stored`, o.signal.reason);
        }
        await dropped(err);
        continue;
      }
      if (r.done) {
        reader = undefined;
        if (received < blob.size) {
          await dropped(new Error(`the body ended at byte ${received} of ${blob.size}`));
          continue;
        }
        stop();
        const digest = hasher ? `sha256:${hasher.hex()}` : blob.digest;
        if (digest !== blob.digest) {
          throw dataLoss(`${what}: digest mismatch: got ${digest}; the registry or a proxy sent corrupt content, nothing was stored`);
        }
        ctl.close();
        return;
      }
      let chunk = r.value;
      if (skip > 0) {
        const n = Math.min(skip, chunk.length);
        skip -= n;
        chunk = chunk.subarray(n);
        if (chunk.length === 0) continue;
      }
      received += chunk.length;
      if (received > blob.size) {
        void reader?.cancel().catch(() => {});
        throw dataLoss(`${what}: more than the expected ${blob.size} bytes arrived; the registry sent corrupt content, nothing was stored`);
      }
      hasher?.update(chunk);
      o.onBytes?.(received);
      // Passed on as they come: no copy into bigger buffers; a writer that
      // wants large writes gathers chunks itself (FsImageLayout batches them
      // for its writer thread).
      ctl.enqueue(chunk);
      return;
    }
  }
}
