import { describe, it, expect } from 'vitest';
import { resolveUser } from './user.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n# comment\nbroken-line\n';
const GROUP = 'root:x:0:\nalice:x:1000:\nstaff:x:50:alice,bob\naudio:x:29:alice\nwheel:x:10:root\n';

describe('resolveUser', () => {
  it('defaults to root with root\'s supplementary groups, the primary group first (as dockerd)', () => {
    expect(resolveUser(undefined, PASSWD, GROUP)).toMatchObject({ uid: 0, gid: 0, additionalGids: [0, 10], name: 'root' });
  });
  it('finds a user by name with its primary and supplementary groups', () => {
    expect(resolveUser('alice', PASSWD, GROUP)).toMatchObject({ uid: 1000, gid: 1000, additionalGids: [1000, 50, 29], home: '/home/alice' });
  });
  it('takes numeric ids, known or not', () => {
    expect(resolveUser('1000', PASSWD, GROUP)).toMatchObject({ uid: 1000, gid: 1000 });
    expect(resolveUser('4242', PASSWD, GROUP)).toEqual({ uid: 4242, gid: 0, additionalGids: [0] });
    expect(resolveUser('4242:77', undefined, undefined)).toEqual({ uid: 4242, gid: 77, additionalGids: [77] });
  });
  it('resolves a group name and then skips the memberships: only that group', () => {
    expect(resolveUser('alice:staff', PASSWD, GROUP)).toMatchObject({ uid: 1000, gid: 50, additionalGids: [50] });
  });
  it('refuses unknown names with INVALID_ARGUMENT', () => {
    expect(() => resolveUser('mallory', PASSWD, GROUP)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('mallory') }));
    expect(() => resolveUser('alice:nogroup', PASSWD, GROUP)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveUser('root', undefined, undefined)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
