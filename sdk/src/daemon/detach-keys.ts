/**
 * Docker's detach keys: a key sequence in an attacher's stdin (default
 * ctrl-p,ctrl-q) that ends the attach and leaves the container running. The
 * daemon scans for it, as dockerd does, so every client gets it.
 */
import { invalidArgument } from '../errors/index.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** "ctrl-p,ctrl-q" -> [0x10, 0x11]; single characters stand for themselves ("a,ctrl-@"). */
export function parseDetachKeys(spec: string): Uint8Array {
  const out: number[] = [];
  for (const raw of spec.split(',')) {
    const k = raw.trim().toLowerCase();
    if (k.length === 1) { out.push(k.charCodeAt(0)); continue; }
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (!m) throw invalidArgument(`invalid detach keys "${spec}": use a comma-separated list of characters and ctrl-<value> (a-z, @, [, \\, ], ^, _)`);
    const c = m[1]!;
    out.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : c.toUpperCase().charCodeAt(0) - 64);
  }
  if (!out.length) throw invalidArgument('empty detach keys');
  return new Uint8Array(out);
}

/**
 * Passes `input` through until the key sequence appears; then it ends (the
 * sequence itself is not passed on) and `detached` resolves true. A partial
 * match is held back until the next byte decides. `detached` resolves false
 * when the input ends first.
 */
export function watchDetachKeys(input: ReadableStream<Uint8Array>, keys: Uint8Array): { input: ReadableStream<Uint8Array>; detached: Promise<boolean> } {
  let settle!: (d: boolean) => void;
  const detached = new Promise<boolean>((r) => (settle = r));
  const reader = input.getReader();
  let matched = 0;
  const out = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (done) {
          if (matched) ctl.enqueue(keys.slice(0, matched)); // a prefix that never completed was input
          settle(false);
          ctl.close();
          return;
        }
        const pass: number[] = [];
        for (let i = 0; i < value.length; i++) {
          const b = value[i]!;
          if (b === keys[matched]) {
            matched++;
            if (matched === keys.length) {
              if (pass.length) ctl.enqueue(new Uint8Array(pass));
              settle(true);
              ctl.close();
              reader.cancel().catch(() => {});
              return;
            }
            continue;
          }
          // A mismatch: the held-back prefix was input after all; this byte may start a new match.
          for (let j = 0; j < matched; j++) pass.push(keys[j]!);
          matched = 0;
          if (b === keys[0]) matched = 1;
          else pass.push(b);
        }
        if (pass.length) {
          ctl.enqueue(new Uint8Array(pass));
          return;
        }
      }
    },
    cancel(reason) {
      settle(false);
      return reader.cancel(reason);
    },
  });
  return { input: out, detached };
}
