import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../args.js';
import { createFlags, createOptions } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-run-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (argv: string[]) => {
  const { flags, args } = parseArgs(argv, createFlags, { stopAtFirstArg: true });
  return createOptions(flags, args[0]!, args.slice(1));
};

describe('run/create --security-opt', () => {
  it('passes the values on, with a seccomp profile file read and compacted as the docker CLI sends it', () => {
    const profile = join(dir, 'p.json');
    writeFileSync(profile, '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [ { "names": ["mkdir"], "action": "SCMP_ACT_ERRNO" } ]\n}\n');
    const o = options(['--security-opt', 'no-new-privileges', '--security-opt', `seccomp=${profile}`, 'img', 'sh']);
    expect(o.securityOpt).toEqual(['no-new-privileges', 'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}']);
    expect(options(['img']).securityOpt).toBeUndefined();
  });

  it('says which profile file it cannot read or parse', () => {
    expect(() => options(['--security-opt', `seccomp=${join(dir, 'missing.json')}`, 'img'])).toThrow(/missing.json: cannot read the profile: ENOENT/);
    writeFileSync(join(dir, 'bad.json'), '{"syscalls": []}');
    expect(() => options(['--security-opt', `seccomp=${join(dir, 'bad.json')}`, 'img'])).toThrow(/bad.json: a seccomp profile is a JSON object with a "defaultAction"/);
  });
});
