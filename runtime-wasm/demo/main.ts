/**
 * `npm run demo -w @skiff/runtime-wasm`: builds the demo into demo/dist and
 * serves it on http://127.0.0.1:PORT/ (PORT from $PORT, default 8080).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemo, describeBuild } from './build.js';
import { serveDemo } from './serve.js';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'dist');
const built = await buildDemo(dir);
console.log(`built the demo in ${dir}\n${describeBuild(built)}`);
const server = await serveDemo(dir, { port: Number(process.env['PORT'] ?? 8080) });
console.log(`serving on ${server.url} (127.0.0.1 only; Ctrl-C stops)`);
