import { describe, it, expect } from 'vitest';
import { parseReference, formatReference, familiarName, normalizeName } from './reference.js';

describe('image references', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['user/app:v1', 'docker.io/user/app:v1', 'user/app:v1'],
    ['index.docker.io/user/app', 'docker.io/user/app:latest', 'user/app:latest'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/team/app:2', 'localhost:5000/team/app:2', 'localhost:5000/team/app:2'],
    ['127.0.0.1:5055/x', '127.0.0.1:5055/x:latest', '127.0.0.1:5055/x:latest'],
    ['ghcr.io/o/r@sha256:' + 'a'.repeat(64), 'ghcr.io/o/r@sha256:' + 'a'.repeat(64), 'ghcr.io/o/r@sha256:' + 'a'.repeat(64)],
    ['r:tag@sha256:' + 'b'.repeat(64), 'docker.io/library/r:tag@sha256:' + 'b'.repeat(64), 'r:tag@sha256:' + 'b'.repeat(64)],
  ])('%s normalizes to %s', (input, full, familiar) => {
    const ref = parseReference(input);
    expect(formatReference(ref)).toBe(full);
    expect(familiarName(ref)).toBe(familiar);
    expect(normalizeName(full)).toBe(full);
  });

  it.each(['', 'upper/CASE', 'a b', 'app:bad tag', 'app@sha256:xyz', 'app::1', '-lead', 'app:' + 'x'.repeat(129)])(
    'refuses %j with INVALID_ARGUMENT',
    (input) => {
      expect(() => parseReference(input)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    },
  );
});
