/**
 * The exit of a container started by another Engine process: only that
 * process could wait() for its shim, so this one learns of the exit from the
 * exit.json the shim writes (tmp + rename) into the run directory, through an
 * inotify watch on that directory: no polling interval on the exit path. A
 * slow check (once a second) covers a shim that died without writing one.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { ContainerDir } from '../state.js';

export type ExitRecord = { code: number; signal: number; error?: string };

const LIVENESS_MS = 1000;

/** Lets the watch stop holding the Node process open (set by watchExit). */
export interface ExitWatchHold {
  release?: () => void;
}

/**
 * Resolves with the exit record, or undefined once `alive()` says the shim and
 * the process are gone without one. The watch keeps the process alive (a
 * `skiff wait` waits) until `hold.release()`, after which it does not (an
 * Engine that closed: a `skiff ps` must not wait for the container).
 */
export function watchExit(dir: ContainerDir, alive: () => boolean, hold: ExitWatchHold = {}): Promise<ExitRecord | undefined> {
  return new Promise((resolve) => {
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    let released = false;
    hold.release = () => { released = true; watcher?.unref(); timer?.unref(); };
    const settle = (e: ExitRecord | undefined) => {
      if (done) return;
      done = true;
      watcher?.close();
      if (timer) clearTimeout(timer);
      resolve(e);
    };
    const check = (liveness: boolean) => {
      const exit = dir.readExit();
      if (exit) return settle(exit);
      // Read again after the liveness check: the shim may have written it and ended in between.
      if (liveness && !alive()) settle(dir.readExit());
    };
    try {
      watcher = watch(dir.run, () => check(false));
      watcher.on('error', () => { watcher = undefined; });
    } catch { /* no run directory to watch: the slow check alone */ }
    const tick = () => {
      check(true);
      if (!done) timer = setTimeout(tick, watcher ? LIVENESS_MS : 25);
      if (released) timer?.unref();
    };
    tick();
  });
}
