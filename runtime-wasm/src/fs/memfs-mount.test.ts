import { Volume, createFsFromVolume } from 'memfs';
import type { FsLike } from '@skiff/sdk';
import { mountSuite } from './mount-suite.js';

// In-memory volumes (browsers, tests): a memfs tree per fixture.
let current: FsLike | undefined;
mountSuite('memfs volume mounts', () => {
  if (!current) {
    current = createFsFromVolume(new Volume()) as unknown as FsLike;
    current.mkdirSync('/vol', { recursive: true });
  }
  const fs = current;
  return {
    fs,
    parent: '/vol',
    mount: (source, target, readOnly) => ({ type: 'volume', volume: { name: 'v', fs, fsRoot: source }, target, readOnly }),
    cleanup: () => {
      current = undefined;
    },
  };
});
