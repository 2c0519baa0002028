import * as nodeFs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FsLike } from '@skiff/sdk';
import { mountSuite } from '../../src/fs/mount-suite.js';

// Bind mounts of real host directories through node:fs. The suite checks the
// temporary parent directory of the source: nothing outside the source changes.
const hostFs = nodeFs as unknown as FsLike;
let current: string | undefined;
mountSuite('node:fs bind mounts', () => {
  current ??= mkdtempSync(join(tmpdir(), 'skiff-fs-'));
  const parent = current;
  return {
    fs: hostFs,
    hostFs,
    parent,
    mount: (source, target, readOnly) => ({ type: 'bind', source, target, readOnly }),
    cleanup: () => {
      if (current) rmSync(current, { recursive: true, force: true });
      current = undefined;
    },
  };
});
