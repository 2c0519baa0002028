/**
 * A full garbage collection before a WASI contender's timed work (untimed).
 * The contenders of a case take turns in one process, and a runtime's
 * garbage (node:wasi's and the shim's thousands of instances, each with a
 * linear memory freed only when collected) is collected whenever the heap
 * next fills, usually during the next contender's timed runs: without this,
 * each runtime is charged for the one measured before it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    gc = (globalThis as { gc?: () => void }).gc ?? null;
    if (!gc) {
      try {
        setFlagsFromString('--expose-gc');
        gc = runInNewContext('gc') as () => void;
      } catch {
        gc = null;
      }
    }
  }
  gc?.();
}
