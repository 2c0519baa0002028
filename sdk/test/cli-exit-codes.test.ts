/**
 * The skiff CLI exits with the codes the docker CLI gives: the same table of
 * commands runs through `docker` against a real dockerd and through the built
 * `skiff` (Linux backend) on the same objects, and the exit codes must match.
 * docker's rules (cli/exit-code.ts): 125 for a flag its parser rejects and for
 * `run` failing (or `run`/`create` rejecting an option), 126/127 when `run`
 * cannot invoke / find the container's command, the container's own code
 * otherwise, and 1 for every other failure (wrong argument count, unknown
 * command, a daemon error of any other verb).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusybox, linuxReady } from './support/cli.js';
import { docker, dockerBinary, removeAllContainers } from './daemon/support/harness.js';
import { startDockerd, type Dockerd } from './daemon/support/dockerd.js';

const ready = linuxReady('the CLI exit code test');

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'sdk/bin/skiff.js');
let base: string;
let root: string;
let real: Dockerd;

/** The built `skiff --root ROOT ...args` as its own process: its exit code as the shell sees it. */
function skiff(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--root', root, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: base });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.stderr!.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`skiff ${args.join(' ')} did not finish: ${stderr}`)); }, 60_000);
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

const both = async (args: string[]) => {
  const [d, s] = await Promise.all([docker(real.url, args), skiff(args)]);
  return { docker: d, skiff: s };
};

/** The objects the cases work on, made the same way on both sides. */
const SETUP: string[][] = [
  ['run', '-d', '--name', 'xr1', '--network', 'none', 'bb:1', 'sleep', '1000'],
  ['volume', 'create', 'xv1'],
  ['create', '--name', 'xc2', '--network', 'none', '-v', 'xv1:/v', 'bb:1', 'true'],
  ['network', 'create', 'xn1'],
  ['run', '-d', '--name', 'xn1c', '--network', 'xn1', 'bb:1', 'sleep', '1000'],
];

/** Each case with what it shows; the expected code is whatever docker gives. */
const CASES: Array<[string, string[]]> = [
  // Flags docker's parser rejects: 125 on every command.
  ['unknown flag of run', ['run', '--bogus', 'bb:1']],
  ['unknown flag of rm', ['rm', '--bogus', 'x']],
  ['unknown flag of ps', ['ps', '--bogus']],
  ['unknown global flag', ['--bogus', 'ps']],
  ['a flag value that does not parse', ['stop', '-t', 'abc', 'xc2']],
  // Wrong argument counts and unknown commands: 1.
  ['run without an image', ['run']],
  ['rm without a container', ['rm']],
  ['logs of two containers', ['logs', 'a', 'b']],
  ['unknown command', ['bogus']],
  ['unknown network command', ['network', 'bogus']],
  // A group without its command prints its usage and succeeds.
  ['network alone', ['network']],
  ['volume alone', ['volume']],
  // run: the container's own code, 126/127 when its command cannot be invoked / is missing, 125 otherwise.
  ['run of a command that exits 3', ['run', '--rm', '--network', 'none', 'bb:1', 'sh', '-c', 'exit 3']],
  ['run of false', ['run', '--rm', '--network', 'none', 'bb:1', 'false']],
  ['run of a missing command', ['run', '--rm', '--network', 'none', 'bb:1', 'nosuchcmd']],
  ['run of a directory', ['run', '--rm', '--network', 'none', 'bb:1', '/etc']],
  ['run of an image no registry has', ['run', '--rm', 'localhost:1/nosuch:1', 'true']],
  ['run with a name in use', ['run', '--name', 'xr1', 'bb:1', 'true']],
  ['run with a bad port', ['run', '-p', 'bad', 'bb:1', 'true']],
  ['run with conflicting health options', ['run', '--no-healthcheck', '--health-cmd', 'true', 'bb:1']],
  // create: its option checks are 125, the daemon's refusals 1.
  ['create with a bad port', ['create', '-p', 'bad', 'bb:1']],
  ['create of an image no registry has', ['create', 'localhost:1/nosuch:1']],
  ['create with a name in use', ['create', '--name', 'xr1', 'bb:1']],
  // Every other verb: 1.
  ['rm of a running container', ['rm', 'xr1']],
  ['stop of a missing container', ['stop', 'nosuch']],
  ['start of a missing container', ['start', 'nosuch']],
  ['start -a of several containers', ['start', '-a', 'xc2', 'xr1']],
  ['kill of a created container', ['kill', 'xc2']],
  ['pause of a created container', ['pause', 'xc2']],
  ['inspect of a missing object', ['inspect', 'nosuch']],
  ['container inspect of a missing container', ['container', 'inspect', 'nosuch']],
  ['image inspect of a missing image', ['image', 'inspect', 'nosuch']],
  ['logs of a missing container', ['logs', 'nosuch']],
  ['wait of a missing container', ['wait', 'nosuch']],
  ['rename of a missing container', ['rename', 'nosuch', 'xy']],
  ['rename to a name in use', ['rename', 'xc2', 'xr1']],
  ['commit of a missing container', ['commit', 'nosuch']],
  ['update of a missing container', ['update', '--memory', '64m', 'nosuch']],
  ['update without a flag', ['update', 'xc2']],
  ['port that is not published', ['port', 'xr1', '80']],
  ['cp between two host paths', ['cp', 'a', 'b']],
  ['cp from a missing container', ['cp', 'nosuch:/x', '.']],
  ['rmi of a missing image', ['rmi', 'nosuch']],
  ['rmi of an image a container uses', ['rmi', 'bb:1']],
  ['tag of a missing image', ['tag', 'nosuch', 'x:1']],
  ['save of a missing image', ['save', '-o', 'x.tar', 'nosuch']],
  ['load of a file that is no image', ['load', '-i', '/etc/hostname']],
  ['exec in a missing container', ['exec', 'nosuch', 'true']],
  ['exec in a created container', ['exec', 'xc2', 'true']],
  ['exec of false', ['exec', 'xr1', 'false']],
  ['exec of a missing command', ['exec', 'xr1', 'nosuchcmd']],
  ['network connect of a connected container', ['network', 'connect', 'xn1', 'xn1c']],
  ['network disconnect of an unconnected container', ['network', 'disconnect', 'xn1', 'xr1']],
  ['network create of a name in use', ['network', 'create', 'xn1']],
  ['network rm of a missing network', ['network', 'rm', 'nosuchnet']],
  ['volume rm of a volume in use', ['volume', 'rm', 'xv1']],
  ['volume rm of a missing volume', ['volume', 'rm', 'nosuch']],
  ['volume inspect of a missing volume', ['volume', 'inspect', 'nosuch']],
];

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'skiff-cli-exit-'));
  root = join(base, 'root');
  if (!ready) return;
  dockerBinary();
  // The CLI runs from its bundle, as users run it.
  const built = spawnSync(process.execPath, [join(REPO, 'scripts/build.mjs')], { cwd: REPO, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed: ${built.stderr}`);
  // The same busybox on both sides: imported into dockerd, built into skiff's store.
  const rootfs = join(base, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const a of ['sh', 'true', 'false', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc', 'motd'), 'exit codes\n');
  const tarball = join(base, 'rootfs.tar');
  execFileSync('tar', ['-C', rootfs, '-cf', tarball, '.']);
  [real] = await Promise.all([startDockerd(), buildBusybox(root, base, 'ENV PATH=/bin\nCMD ["sh"]\n')]);
  const imported = await docker(real.url, ['import', '--change', 'CMD ["sh"]', '--change', 'ENV PATH=/bin', tarball, 'bb:1']);
  if (imported.code !== 0) throw new Error(`docker import failed: ${imported.stderr}`);
  for (const args of SETUP) {
    const r = await both(args);
    if (r.docker.code !== 0 || r.skiff.code !== 0) throw new Error(`setup ${args.join(' ')}: docker ${r.docker.code} ${r.docker.stderr}; skiff ${r.skiff.code} ${r.skiff.stderr}`);
  }
}, 180_000);

afterAll(async () => {
  if (ready) {
    const ids = (await skiff(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await skiff(['rm', '-f', ...ids]);
    await skiff(['network', 'rm', 'xn1']);
    if (real) await removeAllContainers(real.url);
    await real?.stop();
  }
  rmSync(base, { recursive: true, force: true });
}, 120_000);

it.skipIf(!ready)('every case exits with the code docker gives', async () => {
  const got: Record<string, { docker: number | null; skiff: number | null }> = {};
  const says: string[] = [];
  for (const [what, args] of CASES) {
    const r = await both(args);
    got[what] = { docker: r.docker.code, skiff: r.skiff.code };
    if (r.docker.code !== r.skiff.code) says.push(`${what} (${args.join(' ')}):\n  docker ${r.docker.code}: ${r.docker.stderr.trim().split('\n')[0]}\n  skiff  ${r.skiff.code}: ${r.skiff.stderr.trim().split('\n')[0]}`);
  }
  // The table covers every rule: each of docker's codes shows up.
  expect(new Set(Object.values(got).map((g) => g.docker))).toEqual(new Set([0, 1, 3, 125, 126, 127]));
  expect(says.join('\n')).toBe('');
}, 300_000);
