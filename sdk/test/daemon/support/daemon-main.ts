/**
 * A daemon process for the tests: `node daemon-main.mjs '{"root":..,"hosts":[..],"backends":["host"]}'`.
 * It runs the same runDaemon as `skiff daemon`, over the backends asked for
 * (`host`: the host-process test backend), puts the test images in the store,
 * prints `{"ready":[urls]}` and runs until SIGTERM.
 */
import { createNodeEngine, loadBackends } from '../../../src/node/engine.js';
import { installNodeHasher } from '../../../src/node/hasher.js';
import { runDaemon } from '../../../src/daemon/run.js';
import type { Backend } from '../../../src/runtime/backend.js';
import { HostProcessBackend } from './host-backend.js';
import { putHostImage, HOST_IMAGE } from './images.js';

installNodeHasher();
const o = JSON.parse(process.argv[2] ?? '{}') as { root: string; hosts?: string[]; backends?: string[]; debug?: boolean };
const backends: Backend[] = [];
const sources = [];
for (const name of o.backends ?? ['host']) {
  if (name === 'host') backends.push(new HostProcessBackend());
  else {
    const found = await loadBackends(o.root, [name as 'linux' | 'wasm']);
    if (!found.backends.length) throw new Error(`backend ${name} is unavailable: ${JSON.stringify(found.unavailable)}`);
    backends.push(...found.backends);
    sources.push(...found.sources);
  }
}
const engine = await createNodeEngine({ root: o.root, backends, imageSources: sources, pull: false });
if (backends.some((b) => b.name === 'host') && !(await engine.layout.getRef(`docker.io/${HOST_IMAGE}`))) await putHostImage(engine.layout);
const running = await runDaemon({ root: o.root, hosts: o.hosts ?? [], engine, ...(o.debug ? { log: (l: string) => process.stderr.write(`daemon: ${l}\n`) } : {}) });
process.stdout.write(JSON.stringify({ ready: running.daemon.listeners.map((l) => l.url), pid: process.pid }) + '\n');
await running.done;
process.exit(0);
