import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

/** Runs the CLI in-process with its own store and captured output. */
export async function skiff(root: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const stdin = new PassThrough();
  stdin.end();
  const code = await main(['--root', root, ...argv], { stdout: out, stderr: err, stdin }, {});
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}
