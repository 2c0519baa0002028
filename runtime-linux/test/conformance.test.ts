/** The shared backend conformance suite, through the Engine, on the Linux backend. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { createNodeEngine } from '../../sdk/src/node/index.js';
import { describeBackendConformance } from '../../sdk/src/testing/conformance.js';
import { LinuxBackend } from '../src/index.js';
import { busyboxLayer, CI, makeImage, missingPrerequisite, mountsBelow } from './fixtures.js';

const why = missingPrerequisite();
if (why && CI) throw new Error(`the Linux backend tests cannot run on CI: ${why}`);

if (why) {
  describe.skip(`backend conformance: linux (${why})`, () => { it('needs root and busybox-static', () => {}); });
} else {
  const dirs: string[] = [];
  describeBackendConformance('linux', async () => {
    const root = mkdtempSync(join(tmpdir(), 'skiff-conf-'));
    dirs.push(root);
    const engine = await createNodeEngine({ root, backends: [new LinuxBackend()], pull: false });
    await makeImage([await busyboxLayer()], engine.layout, 'skiff-test/busybox:latest');
    return {
      engine,
      backend: 'linux',
      shellImage: 'skiff-test/busybox:latest',
      shell: ['sh', '-c'],
      hostDir: async () => { const d = mkdtempSync(join(tmpdir(), 'skiff-conf-bind-')); dirs.push(d); return d; },
      hostFs: {
        readFile: async (p) => readFileSync(p, 'utf8'),
        writeFile: async (p, s) => writeFileSync(p, s),
        exists: async (p) => existsSync(p),
      },
      cleanup: async () => {
        await engine.close();
        for (const d of dirs) {
          expect(mountsBelow(d)).toEqual([]);
          rmSync(d, { recursive: true, force: true });
        }
      },
    };
  });
}
