/**
 * The same docker CLI session against a real dockerd (Debian's docker.io)
 * and against `skiff daemon`: exit codes and output must match, after the
 * random parts (IDs, times) are normalized. The image is a busybox root made
 * here, imported into dockerd, saved by it and loaded into skiff (so the
 * transfer code also reads a real `docker save`). Known differences are
 * listed with their reason instead of being hidden.
 *
 * skiff runs it on the host-process test backend by default (its commands are
 * the host's, which here are the same busybox applets or coreutils with the
 * same output); SKIFF_DIFF_BACKENDS=linux runs it on the Linux backend.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerBinary, startDaemon, type DaemonProcess, type DockerResult, removeAllContainers } from './support/harness.js';
import { startDockerd, type Dockerd } from './support/dockerd.js';

const IMAGE = 'skiff-diff/bb:1';
const BACKENDS = (process.env.SKIFF_DIFF_BACKENDS ?? 'host').split(',');
/** The host test backend has no PID namespace: the main process is not PID 1, so SIGTERM's default action ends it. */
const NO_PID_NAMESPACE = BACKENDS.includes('host');
/** Files dockerd makes in every container for its networking (mount points); skiff containers have no such network setup. */
const DOCKERD_NETWORK_FILES = ['./etc/hostname', './etc/hosts', './etc/resolv.conf'];
let real: Dockerd;
let skiff: DaemonProcess;
let tmp: string;

/** Everything that legitimately differs run to run: IDs, names docker made up, times. */
function normalize(r: DockerResult): { code: number | null; stdout: string; stderr: string } {
  const n = (s: string) =>
    s
      .replace(/\b[0-9a-f]{64}\b/g, '<id>')
      .replace(/\b[0-9a-f]{12}\b/g, '<short-id>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
      .replace(/Up (Less than a second|\d+ seconds?|About a minute)/g, 'Up <duration>')
      .replace(/Exited \((\d+)\) (Less than a second|\d+ seconds?|About a minute) ago/g, 'Exited ($1) <duration> ago');
  return { code: r.code, stdout: n(r.stdout), stderr: n(r.stderr) };
}

/** Runs one CLI command on both daemons. */
async function both(args: string[], o: { input?: string } = {}) {
  const [a, b] = await Promise.all([docker(real.url, args, o), docker(skiff.url, args, o)]);
  return { dockerd: normalize(a), skiff: normalize(b) };
}

beforeAll(async () => {
  dockerBinary();
  tmp = mkdtempSync(join(tmpdir(), 'skiff-diff-'));
  // A busybox root file system.
  const root = join(tmp, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox is missing: install busybox-static (scripts/setup-test-deps.sh does)');
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  for (const a of ['sh', 'echo', 'cat', 'sleep', 'tr', 'wc', 'true', 'false', 'ls', 'env']) symlinkSync('busybox', join(root, 'bin', a));
  execFileSync('sh', ['-c', `printf 'motd of the diff image\\n' > ${join(root, 'etc', 'motd')}`]);
  [real, skiff] = await Promise.all([startDockerd(), startDaemon({ backends: BACKENDS })]);
  const tarball = join(tmp, 'rootfs.tar');
  execFileSync('tar', ['-C', root, '-cf', tarball, '.']);
  const imported = await docker(real.url, ['import', '--change', 'CMD ["sh"]', '--change', 'ENV PATH=/bin', tarball, IMAGE]);
  if (imported.code !== 0) throw new Error(`docker import failed: ${imported.stderr}`);
  const saved = join(tmp, 'saved.tar');
  expect((await docker(real.url, ['save', '-o', saved, IMAGE])).code).toBe(0);
  const loaded = await docker(skiff.url, ['load', '-i', saved]);
  if (loaded.code !== 0) throw new Error(`docker load into skiff failed: ${loaded.stderr}`);
}, 180_000);

afterAll(async () => {
  await Promise.all([real?.url, skiff?.url].filter((u): u is string => !!u).map(removeAllContainers));
  await Promise.allSettled([real?.stop(), skiff?.stop()]);
  if (skiff) rmSync(skiff.root, { recursive: true, force: true });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the docker CLI gives the same results from dockerd and from skiff', () => {
  it('the loaded image lists the same', async () => {
    const r = await both(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', IMAGE]);
    expect(r.skiff).toEqual(r.dockerd);
    const c = await both(['image', 'inspect', '--format', '{{.Config.Cmd}} {{.Config.Env}} {{.Os}} {{len .RootFS.Layers}}', IMAGE]);
    expect(c.skiff).toEqual(c.dockerd);
  });

  it.each([
    ['output on both streams and the exit code', ['run', '--rm', IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 3']],
    ['the environment', ['run', '--rm', '-e', 'A=one', '-e', 'B=two', IMAGE, 'sh', '-c', 'echo "$A $B $PATH"']],
    ['arguments with spaces and quotes', ['run', '--rm', IMAGE, 'echo', 'a b', "it's", '"q"']],
    ['an empty output', ['run', '--rm', IMAGE, 'true']],
    ['a failing command', ['run', '--rm', IMAGE, 'false']],
    ['a large output', ['run', '--rm', IMAGE, 'sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "line $i of the large output"; i=$((i+1)); done']],
  ])('run --rm: %s', async (_what, args) => {
    const r = await both(args as string[]);
    expect(r.skiff).toEqual(r.dockerd);
  });

  it('run -i with stdin', async () => {
    const r = await both(['run', '--rm', '-i', IMAGE, 'sh', '-c', 'tr a-z A-Z; echo done'], { input: 'one\ntwo\n' });
    expect(r.skiff).toEqual(r.dockerd);
  });

  it('run of a missing program: the same exit code (the error wording is the runtime\'s own)', async () => {
    const r = await both(['run', '--rm', IMAGE, 'no-such-program']);
    expect(r.skiff.code).toBe(r.dockerd.code);
    expect(r.dockerd.stderr).toContain('no-such-program');
    expect(r.skiff.stderr).toContain('no-such-program');
  });

  it('a detached container: ps, exec, logs, stop, inspect, rm', async () => {
    const start = await both(['run', '-d', '--name', 'diff-web', '-l', 'role=web', IMAGE, 'sh', '-c', 'echo started; echo warn >&2; exec sleep 60']);
    expect(start.skiff).toEqual(start.dockerd);
    await new Promise((r) => setTimeout(r, 300));
    for (const args of [
      ['ps', '--filter', 'label=role=web', '--format', '{{.Names}} {{.Image}} {{.Status}} {{.Labels}}'],
      ['exec', 'diff-web', 'sh', '-c', 'echo in-exec; echo exec-err >&2; exit 4'],
      ['exec', '-e', 'X=1', 'diff-web', 'env'],
      ['logs', 'diff-web'],
      ['inspect', '--format', '{{.Name}} {{.State.Status}} {{.State.Running}} {{.Config.Cmd}} {{.Config.Labels}} {{.HostConfig.AutoRemove}}', 'diff-web'],
      ['rm', 'diff-web'],
      ['stop', '-t', '1', 'diff-web'],
      ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}', 'diff-web'],
      ['ps', '-a', '--filter', 'name=diff-web', '--format', '{{.Names}} {{.Status}}'],
      ['rm', 'diff-web'],
      ['inspect', 'diff-web'],
    ]) {
      const r = await both(args);
      if (args[0] === 'rm' && r.dockerd.code !== 0) {
        // Removing a running container: both refuse; the wording differs (dockerd names its container runtime).
        expect(r.skiff.code).toBe(r.dockerd.code);
        expect(r.skiff.stderr).toMatch(/running/);
        continue;
      }
      if (args[0] === 'exec' && args.includes('env')) {
        // env lists HOSTNAME (the container ID under dockerd; skiff's host test backend has none).
        const drop = (s: string) => s.split('\n').filter((l) => !l.startsWith('HOSTNAME=') && !l.startsWith('HOME=')).sort().join('\n');
        expect(drop(r.skiff.stdout)).toBe(drop(r.dockerd.stdout));
        continue;
      }
      if (NO_PID_NAMESPACE && /exited 143|Exited \(143\)/.test(r.skiff.stdout)) {
        // dockerd: PID 1 ignores SIGTERM, so stop -t 1 ends in SIGKILL (137); without a PID namespace SIGTERM ends it (143).
        expect(r.dockerd.stdout).toMatch(/exited 137|Exited \(137\)/);
        r.skiff.stdout = r.skiff.stdout.replace('exited 143', 'exited 137').replace('Exited (143)', 'Exited (137)');
      }
      expect({ args, ...r.skiff }).toEqual({ args, ...r.dockerd });
    }
  });

  it('wait: a created container is already "not running"; a started one gives its exit code', async () => {
    for (const args of [
      ['create', '--name', 'diff-wait', IMAGE, 'sh', '-c', 'sleep 0.3; exit 6'],
      ['wait', 'diff-wait'],
      ['start', 'diff-wait'],
      ['wait', 'diff-wait'],
      ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'diff-wait'],
      ['rm', 'diff-wait'],
    ]) {
      const r = await both(args);
      if (args[0] === 'create') {
        expect(r.skiff.code).toBe(r.dockerd.code);
        continue;
      }
      expect({ args, ...r.skiff }).toEqual({ args, ...r.dockerd });
    }
  });

  it('cp out of a container', async () => {
    await both(['create', '--name', 'diff-cp', IMAGE]);
    for (const target of ['/etc/motd', '/etc']) {
      const dirs = [join(tmp, 'cp-dockerd'), join(tmp, 'cp-skiff')];
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      for (const d of dirs) mkdirSync(d);
      const [a, b] = await Promise.all([docker(real.url, ['cp', `diff-cp:${target}`, dirs[0]!]), docker(skiff.url, ['cp', `diff-cp:${target}`, dirs[1]!])]);
      expect([b.code, b.stdout]).toEqual([a.code, a.stdout]);
      const list = (d: string) => execFileSync('sh', ['-c', `cd ${d} && find . -type f -exec sh -c 'echo "$1 $(cat "$1")"' _ {} \\; | sort`], { encoding: 'utf8' })
        .split('\n').filter((l) => !DOCKERD_NETWORK_FILES.includes(l.split(' ')[0]!)).join('\n');
      expect(list(dirs[1]!)).toBe(list(dirs[0]!));
    }
    await both(['rm', 'diff-cp']);
  });

  it('volumes', async () => {
    for (const args of [
      ['volume', 'create', '--label', 'k=v', 'diff-vol'],
      ['volume', 'ls', '--filter', 'label=k=v', '--format', '{{.Name}} {{.Driver}}'],
      ['volume', 'inspect', '--format', '{{.Name}} {{.Labels}} {{.Scope}}', 'diff-vol'],
      ['volume', 'rm', 'diff-vol'],
      ['volume', 'inspect', 'diff-vol'],
    ]) {
      const r = await both(args);
      expect({ args, ...r.skiff }).toEqual({ args, ...r.dockerd });
    }
  });

  it('docker update: the same refusals and messages; a restart policy changes', async () => {
    await both(['create', '--name', 'diff-upd', IMAGE, 'sleep', '1']);
    await both(['create', '--rm', '--name', 'diff-upd-rm', IMAGE, 'true']);
    for (const args of [
      ['update', '--memory', '4m', 'diff-upd'],
      ['update', '--memory', '64m', '--memory-swap', '32m', 'diff-upd'],
      ['update', '--memory', '16m', '--memory-reservation', '32m', 'diff-upd'],
      ['update', '--memory-reservation', '1m', 'diff-upd'],
      ['update', '--cpus', '0.5', '--cpu-period', '50000', 'diff-upd'],
      ['update', '--cpus', '0.5', '--cpu-quota', '50000', 'diff-upd'],
      ['update', '--cpu-period', '500', 'diff-upd'],
      ['update', '--cpu-quota', '500', 'diff-upd'],
      ['update', '--blkio-weight', '5', 'diff-upd'],
      ['update', '--memory', '32m', 'no-such-container'],
      ['update', '--restart', 'always', 'diff-upd-rm'],
      ['update', '--restart', 'on-failure:3', 'diff-upd'],
      ['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'diff-upd'],
      ['update', '--restart', 'no', 'diff-upd'],
      ['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}', 'diff-upd'],
    ]) {
      const r = await both(args);
      if (args[1] === '--blkio-weight') {
        // Both warn and discard it (dockerd because this kernel lacks it, skiff because it manages no blkio cgroup); the wording differs.
        expect(r.dockerd.stdout).toMatch(/^diff-upd\n.*Block I\/O weight.*Weight discarded\.\n$/);
        expect(r.skiff.stdout).toBe('diff-upd\nskiff does not support Block I/O weight. Weight discarded.\n');
        expect(r.skiff.code).toBe(r.dockerd.code);
        continue;
      }
      expect({ args, ...r.skiff }).toEqual({ args, ...r.dockerd });
    }
    await both(['rm', 'diff-upd', 'diff-upd-rm']);
  });

  it('docker commit: the same image config, history, layers and refusals', async () => {
    // Relative paths: on the host test backend they land in the container's own directory.
    await both(['run', '--name', 'diff-commit', IMAGE, 'sh', '-c', 'echo hello > hello']);
    await both(['create', '--name', 'diff-commit-idle', '--expose', '8080', '-e', 'AT_CREATE=1', '-l', 'at=create', IMAGE]);
    const fmt = '{{json .Config.Cmd}} {{json .Config.Entrypoint}} {{.Config.Env}} {{.Config.ExposedPorts}} {{.Config.Labels}} {{.Config.WorkingDir}} {{.Config.User}} {{.Config.StopSignal}} {{.Config.Volumes}} {{.Author}} {{.Comment}} {{len .RootFS.Layers}}';
    for (const args of [
      ['commit', '-c', 'CMD ["cat", "hello"]', '-c', 'ENV X=1 Y=$PATH', '-c', 'EXPOSE 80 53/udp', '-c', 'LABEL a=b', '-c', 'VOLUME /data', '-c', 'USER nobody', '-m', 'the message', '-a', 'Ann <ann@example.test>', 'diff-commit', 'skiff-diff/committed:1'],
      ['image', 'inspect', '--format', fmt, 'skiff-diff/committed:1'],
      ['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'skiff-diff/committed:1'],
      ['commit', '-c', 'ENTRYPOINT ["echo"]', '-c', 'WORKDIR /tmp', 'diff-commit', 'skiff-diff/committed:2'],
      ['image', 'inspect', '--format', fmt, 'skiff-diff/committed:2'],
      ['commit', 'diff-commit-idle', 'skiff-diff/committed:3'],
      ['image', 'inspect', '--format', fmt, 'skiff-diff/committed:3'],
      ['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'skiff-diff/committed:3'],
      ['commit', '-c', 'LABEL dangling=yes', 'diff-commit'],
      ['images', '--filter', 'dangling=true', '--filter', 'label=dangling=yes', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'],
      ['image', 'prune', '-f', '--filter', 'label=dangling=yes'],
      ['images', '--filter', 'dangling=true', '--filter', 'label=dangling=yes', '--format', '{{.Repository}}:{{.Tag}}'],
      ['commit', '-c', 'RUN true', 'diff-commit'],
      ['commit', '-c', 'STOPSIGNAL SIGINT', 'diff-commit'],
      ['commit', '-c', 'EXPOSE x', 'diff-commit'],
      ['commit', 'no-such-container'],
    ]) {
      const r = await both(args);
      if (r.dockerd.code !== 0) {
        // Refusals: dockerd's message, which skiff follows with what --change takes.
        expect({ args, code: r.skiff.code, stdout: r.skiff.stdout }).toEqual({ args, code: r.dockerd.code, stdout: r.dockerd.stdout });
        expect(r.skiff.stderr.startsWith(r.dockerd.stderr.trimEnd()), `${r.skiff.stderr} | ${r.dockerd.stderr}`).toBe(true);
        continue;
      }
      expect({ args, ...r.skiff }).toEqual({ args, ...r.dockerd });
    }
    // Beside the config, as dockerd keeps it: the image committed from is the Parent, and its row in history carries its ID.
    const seen: Record<string, { keys: string[]; containerConfig: Record<string, unknown> }> = {};
    for (const [side, url] of [['dockerd', real.url], ['skiff', skiff.url]] as const) {
      const get = async (format: string, name: string) => (await docker(url, ['inspect', '--format', format, name])).stdout.trim();
      const base = await get('{{.Id}}', IMAGE);
      for (const name of ['skiff-diff/committed:1', 'skiff-diff/committed:3']) {
        expect({ side, name, parent: await get('{{.Parent}}', name) }).toEqual({ side, name, parent: base });
        const rows = (await docker(url, ['history', '--no-trunc', '--format', '{{.ID}}', name])).stdout.trim().split('\n');
        expect({ side, name, rows }).toEqual({ side, name, rows: [await get('{{.Id}}', name), base] });
      }
      // In the config (docker save): the container committed and its config, as dockerd writes them.
      const file = join(tmp, `commit-${side}.tar`);
      expect((await docker(url, ['save', '-o', file, 'skiff-diff/committed:1'])).code).toBe(0);
      const manifest = (JSON.parse(execFileSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' })) as Array<{ Config: string }>)[0]!;
      const config = JSON.parse(execFileSync('tar', ['-xOf', file, manifest.Config], { encoding: 'utf8' })) as { container: string; container_config: Record<string, unknown> };
      const container = await get('{{.Id}}', 'diff-commit');
      expect({ side, container: config.container }).toEqual({ side, container });
      expect(config.container_config.Hostname).toBe(container.slice(0, 12));
      // NetworkDisabled: this dockerd runs with --bridge=none, so it disables the default network of every container.
      const { NetworkDisabled: _bridgeless, ...containerConfig } = config.container_config;
      seen[side] = { keys: Object.keys(config).sort(), containerConfig: { ...containerConfig, Hostname: '<short-id>' } };
    }
    // docker_version: dockerd writes its own version; skiff is not a docker version, and the field is optional.
    expect(seen.skiff!.keys).toEqual(seen.dockerd!.keys.filter((k) => k !== 'docker_version'));
    expect(seen.skiff!.containerConfig).toEqual(seen.dockerd!.containerConfig);
    await both(['rm', 'diff-commit', 'diff-commit-idle']);
  });

  it('errors a user meets', async () => {
    for (const args of [
      ['logs', 'no-such-container'],
      ['inspect', 'no-such-object'],
      ['rm', 'no-such-container'],
      ['stop', 'no-such-container'],
      ['volume', 'rm', 'no-such-volume'],
    ]) {
      const r = await both(args);
      expect({ args, code: r.skiff.code }).toEqual({ args, code: r.dockerd.code });
      expect(r.skiff.stderr.split(':')[0]).toBe(r.dockerd.stderr.split(':')[0]);
    }
  });
});
