/**
 * Linux container start to exit of /bin/true from a warm Engine (image
 * already unpacked): skiff's Engine.run({ rm: true }) with the Linux backend
 * vs `crun run` and `runc run` on a bundle with the same config.json skiff
 * builds for its helper (namespaces, capabilities, masked paths, seccomp,
 * cgroup) over a plain copy of the image's root file system. crun and runc
 * are started from one long-lived shell (see peers/launcher.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, ImageStore, MemoryImageLayout, digestOf, gzip, MediaType, collect, bytesStream, type ContainerSpec, type ImageConfig } from '@skiff/sdk';
import { buildOciConfig, createLinuxBackend, whyUnavailable } from '@skiff/runtime-linux';
import type { BenchCase, Contender } from '../harness.js';
import { busyboxTar, staticBusybox } from '../peers/busybox.js';
import { Launcher } from '../peers/launcher.js';
import { exec, missingTool, which } from '../peers/tools.js';

const IMAGE = 'bench/busybox:1';
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const linuxStartCase: BenchCase = {
  name: 'linux-start',
  description: 'Linux container start to exit of /bin/true from a warm engine (image unpacked): create, start, wait, remove',
  goal: 'skiff faster than crun',
  rounds: { quick: 5, full: 25 },
  async setup() {
    const why = whyUnavailable();
    if (why) throw new Error(`the linux-start benchmark needs the Linux backend: ${why}`);
    const busybox = staticBusybox();
    if (!busybox) throw new Error(`the linux-start benchmark needs a static busybox: ${missingTool('busybox') ?? 'the busybox here is dynamically linked (install busybox-static)'}`);
    const work = mkdtempSync(join(tmpdir(), 'skiff-bench-linux-'));
    const cleanups: Array<() => Promise<void>> = [async () => rmSync(work, { recursive: true, force: true })];
    const teardown = async () => { for (const c of cleanups.reverse()) await c().catch(() => {}); };
    try {
      // The image: one gzip layer of busybox.
      const tar = await busyboxTar(busybox);
      const layout = new MemoryImageLayout();
      const gz = await collect(bytesStream(tar).pipeThrough(gzip()));
      await layout.writeBytes(gz);
      const config: ImageConfig = { architecture: 'amd64', os: 'linux', config: { Env: [PATH_ENV], Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: [digestOf(tar)] } };
      const resolved = await new ImageStore(layout).putImage(IMAGE, config, [{ mediaType: MediaType.OciLayerGzip, digest: digestOf(gz), size: gz.length }]);

      const engine = new Engine({ layout, backends: [createLinuxBackend()], stateDirFor: (b) => join(work, 'state', b) });
      cleanups.push(() => engine.close());
      const contenders: Contender[] = [{
        name: 'skiff',
        async run() {
          const r = await engine.run({ image: IMAGE, cmd: ['/bin/true'], rm: true });
          if (r.exitCode !== 0) throw new Error(`skiff: /bin/true exited ${r.exitCode}: ${r.error ?? r.stderr}`);
        },
      }];

      // The bundle for crun and runc: skiff's config.json over an unpacked copy of the layer.
      const bundle = join(work, 'bundle');
      mkdirSync(join(bundle, 'rootfs'), { recursive: true });
      writeFileSync(join(work, 'layer.tar'), tar);
      await exec(which('tar') ?? 'tar', ['-xf', join(work, 'layer.tar'), '-C', join(bundle, 'rootfs')]);
      writeFileSync(join(bundle, 'hostname'), 'bench\n');
      writeFileSync(join(bundle, 'hosts'), '127.0.0.1\tlocalhost\n127.0.0.1\tbench\n');
      const spec: ContainerSpec = {
        id: 'skiffbenchpeer',
        image: { id: resolved.id, config, layers: [] },
        process: { args: ['/bin/true'], env: [PATH_ENV], cwd: '/' },
        mounts: [],
        hostname: 'bench',
      };
      const oci = buildOciConfig({
        spec,
        user: { uid: 0, gid: 0, additionalGids: [] },
        rootfs: { layersDir: '/nonexistent', lowerDirs: [], upperDir: '/nonexistent', workDir: '/nonexistent' },
        etcFiles: { hostname: join(bundle, 'hostname'), hosts: join(bundle, 'hosts') },
        deviceCgroup: true,
      });
      delete oci.annotations; // skiff's overlay instructions for its own helper
      oci.root = { path: 'rootfs', readonly: false };
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(oci, null, 2));

      const unavailable: Record<string, string> = {};
      const launcher = await Launcher.start();
      cleanups.push(() => launcher.stop());
      let n = 0;
      for (const runtime of ['crun', 'runc']) {
        const bin = which(runtime);
        if (!bin) { unavailable[`${runtime} run`] = missingTool(runtime)!; continue; }
        const errFile = join(work, `${runtime}.err`);
        const run = async () => {
          const id = `skiff-bench-${runtime}-${process.pid}-${n++}`;
          const code = await launcher.run([bin, 'run', '--bundle', bundle, id], errFile);
          if (code !== 0) throw new Error(`${runtime} run exited ${code}: ${readFileSync(errFile, 'utf8').trim().slice(-1000)}`);
        };
        await run(); // fails here, in setup, when the runtime cannot run the bundle at all
        contenders.push({ name: `${runtime} run`, run });
      }
      const docker = which('docker');
      const dockerUp = docker ? (await exec(docker, ['info', '--format', '{{.ServerVersion}}'], { allowFail: true, timeout: 5000 })).code === 0 : false;
      if (dockerUp) {
        contenders.push({ name: 'docker run --rm', run: async () => { await exec(docker!, ['run', '--rm', 'busybox', 'true']); } });
      } else unavailable['docker run --rm'] = 'no Docker engine answers here (docker info fails)';
      return { contenders, unavailable, teardown };
    } catch (err) {
      await teardown();
      throw err;
    }
  },
};
