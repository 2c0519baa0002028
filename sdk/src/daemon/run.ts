/**
 * Running the daemon as a process (`skiff daemon`): the Node engine on a
 * root, the registry settings and build cache of that root, until SIGTERM or
 * SIGINT; then it closes cleanly (containers keep running).
 */
import { join } from 'node:path';
import { createNodeEngine } from '../node/engine.js';
import { registryOptions } from '../node/registry-config.js';
import { FsBuildCache } from '../node/build-cache.js';
import { rootPaths } from '../node/root.js';
import { Builder } from '../build/builder.js';
import type { Engine } from '../runtime/engine.js';
import type { LogConfig } from '../runtime/log-config.js';
import { Daemon, type DaemonOptions } from './server.js';
import { API_VERSION } from './api-version.js';

export interface RunDaemonOptions {
  root: string;
  /** Default: `unix://<root>/skiff.sock`. */
  hosts?: string[];
  /** Default: createNodeEngine on the root, without pulling on create (clients pull, as with dockerd). */
  engine?: Engine;
  allowRemoteTcp?: boolean;
  log?: (line: string) => void;
  /** The log driver and options of containers created without one (`--log-driver`, `--log-opt`). */
  defaultLogConfig?: LogConfig;
  /** Stop on these signals (default SIGTERM and SIGINT); [] leaves signals alone. */
  signals?: NodeJS.Signals[];
}

export interface RunningDaemon {
  daemon: Daemon;
  /** Settles once the daemon has closed after a signal (or `stop()`). */
  done: Promise<void>;
  stop(): Promise<void>;
}

export async function runDaemon(o: RunDaemonOptions): Promise<RunningDaemon> {
  const engine = o.engine ?? (await createNodeEngine({ root: o.root, pull: false, isolateWasm: true, ...(o.defaultLogConfig ? { defaultLogConfig: o.defaultLogConfig } : {}) }));
  const cache = new FsBuildCache(join(rootPaths(o.root).root, 'build-cache.json'));
  const options: DaemonOptions = {
    engine,
    root: o.root,
    hosts: o.hosts?.length ? o.hosts : [`unix://${rootPaths(o.root).daemonSocket}`],
    registry: registryOptions(o.root),
    builder: (b) => new Builder(engine, cache).build(b),
    ...(o.allowRemoteTcp ? { allowRemoteTcp: true } : {}),
    ...(o.log ? { log: o.log } : {}),
  };
  const daemon = await Daemon.start(options);
  // As dockerd does at start: containers with restart policy always (or unless-stopped) run again.
  await engine.applyRestartPolicies().catch((err) => o.log?.(`restart policies: ${(err as Error).message}`));
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const signals = o.signals ?? ['SIGTERM', 'SIGINT'];
  const stop = async () => {
    for (const s of signals) process.off(s, onSignal);
    await daemon.close();
    resolveDone();
  };
  const onSignal = (s: NodeJS.Signals) => {
    o.log?.(`${s}: closing`);
    void stop();
  };
  for (const s of signals) process.on(s, onSignal);
  o.log?.(`API ${API_VERSION} on ${daemon.listeners.map((l) => l.url).join(', ')}; backends: ${engine.backends.map((b) => b.name).join(', ') || 'none'}`);
  return { daemon, done, stop };
}
