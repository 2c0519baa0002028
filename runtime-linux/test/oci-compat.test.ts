/**
 * One OCI bundle, three runtimes: skiff-runtime, runc and crun run the same
 * config.json (made by buildOciConfig) on the same root file system, and
 * what the process sees (ids, capabilities, seccomp denials, /dev, mounts,
 * masked paths, network) must match.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildOciConfig, findHelper, preparePeerBundle, unpackForOverlay, type LinuxContainer, type OciConfig } from '../src/index.js';
import { Harness, startAndWait } from './harness.js';
import { busyboxLayer, buildProbe, CI, makeTar, missingPrerequisite, mountsBelow, requireTool, shSpec, tempDir, probeLayer } from './fixtures.js';

const why = missingPrerequisite() ?? (requireTool('cc', 'gcc') ? undefined : 'no C compiler for the probe');
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);
const runc = why ? undefined : requireTool('runc', 'runc');
const crun = why ? undefined : requireTool('crun', 'crun');

const SCRIPT = [
  'id', 'hostname', 'echo "pid=$$"',
  'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status',
  'ls /dev | tr "\\n" " "; echo',
  'cut -d" " -f2,3 /proc/mounts | grep -v -E "^/(proc|sys)/" | sort | tr "\\n" ";"; echo',
  'echo "keys=$(wc -c < /proc/keys)"',
  'touch /sys/x 2>/dev/null; echo "sys-write=$?"',
  'ls /sys/class/net | tr "\\n" " "; echo',
  'cat /sys/class/net/lo/flags',
  'ulimit -n >/dev/null; echo "umask=$(umask)"',
  'probe',
].join('; ');

function stateDirs(): string[] {
  return readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c, 'skiff-oci')).filter((d) => existsSync(d));
}

describe.skipIf(!!why)('OCI bundle compatibility: skiff-runtime, runc, crun', () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    dir = tempDir('skiff-oci-');
    bundle = join(dir, 'bundle');
    mkdirSync(join(bundle, 'rootfs'), { recursive: true });
    const helper = findHelper();
    for (const tar of [await busyboxLayer(), await probeLayer(buildProbe(dir)), await makeTar([])]) {
      await unpackForOverlay(new ReadableStream({ start(c) { c.enqueue(tar); c.close(); } }), join(bundle, 'rootfs'), helper);
    }
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const d of stateDirs()) {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) try { rmdirSync(join(d, e.name)); } catch { /* busy */ }
      try { rmdirSync(d); } catch { /* busy or shared */ }
    }
  });

  /** The bundle's config for one runtime: a plain root directory, its own cgroup path. */
  function writeConfig(name: string): OciConfig {
    const spec = shSpec({ id: 'x', config: {} as never, layers: [] }, SCRIPT, { hostname: 'ocibox' });
    const config = buildOciConfig({
      spec: { ...spec, id: `${name}${process.pid}` },
      user: { uid: 0, gid: 0, additionalGids: [] },
      rootfs: { layersDir: '/', lowerDirs: [], upperDir: '/', workDir: '/' },
      deviceCgroup: true,
      cgroupParent: 'skiff-oci',
    });
    delete config.annotations; // a plain rootfs directory, as runc and crun expect
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 1));
    return config;
  }

  function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  let skiffOut = '';

  it('skiff-runtime runs the bundle', () => {
    writeConfig('skiff');
    const r = run(findHelper(), ['run', '--bundle', bundle]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    skiffOut = r.stdout;
    expect(skiffOut).toContain('uid=0(root) gid=0(root)');
    expect(skiffOut).toContain('ocibox');
    expect(skiffOut).toContain('pid=1');
    expect(skiffOut).toContain('Seccomp:\t2');
    expect(skiffOut).toContain('mount 1\n');
  });

  it.skipIf(!runc)('runc sees the same', () => {
    writeConfig('runc');
    const root = join(dir, 'runc-state');
    const r = run('runc', ['--root', root, 'run', '--bundle', bundle, `skiff-runc-${process.pid}`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(skiffOut);
  });

  it.skipIf(!crun)('crun sees the same (with the hybrid unified mount hidden, which crun 1.8 refuses)', () => {
    writeConfig('crun');
    const root = join(dir, 'crun-state');
    const r = run('unshare', ['-m', 'sh', '-c', `umount -l /sys/fs/cgroup/unified 2>/dev/null; exec crun --root ${root} run --bundle ${bundle} skiff-crun-${process.pid}`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // crun always adds /dev/core -> /proc/kcore; runc and skiff-runtime only when /proc/kcore exists.
    expect(r.stdout.replace(/^core (?=fd )/m, '')).toBe(skiffOut);
  });

  it.skipIf(!runc)("a container's own bundle (its overlay mounted on the host) runs under runc as under skiff", async () => {
    const h = await Harness.open();
    try {
      const c = (await h.create('hostname; cat /etc/hostname; ls /; id')) as LinuxContainer;
      const ours = await startAndWait(c);
      const peer = preparePeerBundle(c, join(dir, 'peer'), (cfg) => { cfg.linux.cgroupsPath = `/skiff-oci/peer${process.pid}`; });
      try {
        expect(mountsBelow(peer.dir)).toHaveLength(1);
        const r = run('runc', ['--root', join(dir, 'runc-peer'), 'run', '--bundle', peer.dir, `skiff-peer-${process.pid}`]);
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe(ours.stdout);
      } finally {
        peer.cleanup();
      }
      expect(mountsBelow(join(dir, 'peer'))).toEqual([]);
      await c.remove();
    } finally {
      expect(await h.close()).toEqual({ mounts: [], cgroups: [] });
    }
  });
});
