import { describe, it, expect } from 'vitest';
import { inlineSeccompFiles, parseSeccompProfile, parseSecurityOpts } from './security-opt.js';

describe('parseSecurityOpts', () => {
  it("reads no-new-privileges in each of dockerd's spellings", () => {
    for (const v of ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true']) expect(parseSecurityOpts([v])).toEqual({ noNewPrivileges: true });
    for (const v of ['no-new-privileges:false', 'no-new-privileges=false']) expect(parseSecurityOpts([v])).toEqual({ noNewPrivileges: false });
    expect(() => parseSecurityOpts(['no-new-privileges=maybe'])).toThrow('no-new-privileges takes true or false, not "maybe"');
  });

  it('seccomp=unconfined or a profile JSON; a path is the caller\'s to read', () => {
    expect(parseSecurityOpts(['seccomp=unconfined'])).toEqual({ seccomp: 'unconfined' });
    expect(parseSecurityOpts(['seccomp:unconfined'])).toEqual({ seccomp: 'unconfined' });
    expect(parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}'])).toEqual({
      seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] },
    });
    expect(() => parseSecurityOpts(['seccomp=/etc/p.json'])).toThrow(/expected "unconfined" or a profile's JSON/);
    expect(() => parseSecurityOpts(['seccomp={"syscalls":[]}'])).toThrow(/"defaultAction"/);
  });

  it('takes systempaths=unconfined, ignores apparmor and label (no LSM here, as dockerd), refuses the rest', () => {
    expect(parseSecurityOpts(['systempaths=unconfined', 'apparmor=unconfined', 'label=disable', 'label:user:x'])).toEqual({ unmaskSystemPaths: true });
    expect(() => parseSecurityOpts(['bogus'])).toThrow(/invalid --security-opt "bogus"/);
    expect(() => parseSecurityOpts(['selinux=off'])).toThrow(/unknown --security-opt "selinux=off": skiff supports no-new-privileges/);
    expect(() => parseSecurityOpts(['systempaths=default'])).toThrow(/systempaths takes only "unconfined"/);
  });
});

describe('parseSeccompProfile', () => {
  it('says what is wrong with a profile', () => {
    expect(() => parseSeccompProfile('{nope')).toThrow(/seccomp profile: not valid JSON/);
    expect(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"action":"SCMP_ACT_ERRNO"}]}')).toThrow('syscalls[0] needs "names"');
    expect(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_NOTIFY"}]}')).toThrow(/SCMP_ACT_NOTIFY .* not supported/);
    expect(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}')).toThrow(/not both/);
    expect(parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO"}]}').syscalls).toEqual([{ name: 'mkdir', action: 'SCMP_ACT_ERRNO' }]);
  });
});

describe('inlineSeccompFiles', () => {
  it('replaces seccomp=FILE by the compacted JSON, as the docker CLI sends it, and leaves the rest', () => {
    const files: Record<string, string> = { '/p.json': '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": []\n}\n' };
    const read = (p: string) => {
      const t = files[p];
      if (t === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return t;
    };
    expect(inlineSeccompFiles(['no-new-privileges', 'seccomp=/p.json', 'seccomp=unconfined'], read)).toEqual(['no-new-privileges', 'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}', 'seccomp=unconfined']);
    expect(() => inlineSeccompFiles(['seccomp=/missing.json'], read)).toThrow(/seccomp=\/missing.json: cannot read the profile: ENOENT/);
  });
});
