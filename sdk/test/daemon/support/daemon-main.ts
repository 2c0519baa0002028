/**
 * A daemon process for the tests: `node daemon-main.mjs '{"root":..,"hosts":[..],"backends":["host"],"repo":..}'`.
 * It runs the same runDaemon as `skiff daemon`, over the backends asked for
 * (`host`: the host-process test backend; `wasm`: runtime-wasm with its
 * sample images, in-process; `wasm-worker`: the same with each container in a
 * worker thread, as `skiff daemon` runs it, the worker script built by the
 * test and named by SKIFF_TEST_WASM_WORKER; `linux`: runtime-linux), puts the test images in the store,
 * prints `{"ready":[urls]}` and runs until SIGTERM. The backend packages are
 * bundled from their sources (see harness.ts), so one copy of the sdk serves all.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createNodeEngine } from '../../../src/node/engine.js';
import { installNodeHasher } from '../../../src/node/hasher.js';
import { runDaemon } from '../../../src/daemon/run.js';
import type { Backend } from '../../../src/runtime/backend.js';
import type { ImageSource } from '../../../src/runtime/engine.js';
import type { LogConfig } from '../../../src/runtime/log-config.js';
import { HostProcessBackend } from './host-backend.js';
import { putHostImage, HOST_IMAGE } from './images.js';

installNodeHasher();
const o = JSON.parse(process.argv[2] ?? '{}') as { root: string; hosts?: string[]; backends?: string[]; debug?: boolean; repo: string; logConfig?: LogConfig };
const backends: Backend[] = [];
const sources: ImageSource[] = [];
for (const name of o.backends ?? ['host']) {
  if (name === 'host') backends.push(new HostProcessBackend());
  else if (name === 'wasm' || name === 'wasm-worker') {
    const wasm = await import('@skiff/runtime-wasm/node');
    const workerUrl = process.env.SKIFF_TEST_WASM_WORKER;
    if (name === 'wasm-worker' && !workerUrl) throw new Error('wasm-worker needs SKIFF_TEST_WASM_WORKER: the URL of a built worker-node script');
    backends.push(name === 'wasm' ? wasm.createNodeWasmBackend() : wasm.createNodeWorkerBackend({ url: new URL(workerUrl!) }));
    // The samples are read from the checkout (the bundle does not sit where the package's own reader looks).
    sources.push(new wasm.SampleImageSource(async (n) => new Uint8Array(await readFile(join(o.repo, 'runtime-wasm', 'samples', 'bin', `${n}.wasm`)))));
  } else if (name === 'linux') {
    // The helper is found from the package folder, which a bundle does not sit in.
    process.env.SKIFF_RUNTIME_HELPER ??= join(o.repo, 'runtime-linux', 'native', 'build', 'skiff-runtime');
    const linux = await import('@skiff/runtime-linux');
    backends.push(linux.createBackend({ root: o.root }));
  } else throw new Error(`unknown backend ${name}`);
}
const engine = await createNodeEngine({ root: o.root, backends, imageSources: sources, pull: false, ...(o.logConfig ? { defaultLogConfig: o.logConfig } : {}) });
if (backends.some((b) => b.name === 'host') && !(await engine.layout.getRef(`docker.io/${HOST_IMAGE}`))) await putHostImage(engine.layout);
const running = await runDaemon({ root: o.root, hosts: o.hosts ?? [], engine, ...(o.debug ? { log: (l: string) => process.stderr.write(`daemon: ${l}\n`) } : {}) });
process.stdout.write(JSON.stringify({ ready: running.daemon.listeners.map((l) => l.url), pid: process.pid }) + '\n');
await running.done;
process.exit(0);
