import { it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createNodeEngine } from '../../sdk/src/node/index.js';
import { LinuxBackend } from '../src/index.js';
import { busyboxLayer, makeImage, shSpec, sink } from './fixtures.js';
it('engine bench', async () => {
  const root = mkdtempSync('/tmp/skiff-eng-');
  const backend = new LinuxBackend();
  const engine = await createNodeEngine({ root, pull: false, backends: [backend] });
  const img = await makeImage([await busyboxLayer()], engine.layout, 'bb:latest');
  await engine.run({ image: 'bb:latest', cmd: ['/bin/true'], rm: true });
  const t: Record<string, number[]> = { engine: [], backend: [], crun: [], runc: [] };
  for (let i = 0; i < 30; i++) {
    let a = performance.now();
    await engine.run({ image: 'bb:latest', cmd: ['/bin/true'], rm: true });
    t.engine!.push(performance.now() - a);
    a = performance.now();
    const c = await backend.create(shSpec(img.image, '', { process: { args: ['/bin/true'] } }));
    await c.start({ stdout: sink().stream, stderr: sink().stream });
    await c.wait();
    await c.remove();
    t.backend!.push(performance.now() - a);
    a = performance.now();
    spawnSync('unshare', ['-m', 'sh', '-c', 'umount -l /sys/fs/cgroup/unified; exec crun --root /tmp/bench-crun-state run --bundle /tmp/bench-crun b2']);
    t.crun!.push(performance.now() - a);
    a = performance.now();
    spawnSync('runc', ['--root', '/tmp/bench-runc-state', 'run', '--bundle', '/tmp/bench-runc', 'b1']);
    t.runc!.push(performance.now() - a);
  }
  const med = (x: number[]) => x.sort((p, q) => p - q)[x.length >> 1]!.toFixed(2);
  console.log(Object.entries(t).map(([k, v]) => `${k}=${med(v)}`).join(' '));
  await engine.close();
  rmSync(root, { recursive: true, force: true });
}, 120000);
