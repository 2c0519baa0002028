import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

/** Runs the CLI in-process with its own store and captured output. */
export function skiff(root: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return skiffWithInput(root, Buffer.alloc(0), ...argv);
}

/** The same with `input` on the CLI's stdin. */
export async function skiffWithInput(root: string, input: Buffer, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const stdin = new PassThrough();
  stdin.end(input);
  const code = await main(['--root', root, ...argv], { stdout: out, stderr: err, stdin }, {});
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

/**
 * Can this machine run the CLI's Linux containers (root, busybox-static,
 * Linux)? Under CI a missing piece fails the run, naming `test`.
 */
export function linuxReady(test: string): boolean {
  const ready = process.getuid?.() === 0 && existsSync('/bin/busybox') && process.platform === 'linux';
  if (!ready && process.env.CI === 'true') throw new Error(`${test} needs root and busybox-static (scripts/setup-test-deps.sh installs it)`);
  return ready;
}

/**
 * Writes the build context of the tests' busybox image under `base`/ctx:
 * static busybox with its applets linked into /bin by a RUN step (so the
 * build itself runs a container), then `dockerfileTail`. Returns the directory.
 */
export function busyboxBuildContext(base: string, dockerfileTail = ''): string {
  const ctx = join(base, 'ctx');
  mkdirSync(ctx);
  copyFileSync('/bin/busybox', join(ctx, 'busybox'));
  writeFileSync(join(ctx, 'Dockerfile'), `FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n${dockerfileTail}`);
  return ctx;
}

/** Builds that image as `bb:1` into the store at `root` with the in-process CLI. */
export async function buildBusybox(root: string, base: string, dockerfileTail = ''): Promise<void> {
  const b = await skiff(root, 'build', '-q', '-t', 'bb:1', '--platform', 'linux/amd64', busyboxBuildContext(base, dockerfileTail));
  if (b.code !== 0) throw new Error(`build failed: ${b.stderr}`);
}
