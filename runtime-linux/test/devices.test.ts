/**
 * The cgroup v2 device controller: skiff-runtime's eBPF filter on a cgroup2
 * directory (the unified hierarchy of a hybrid host, or a v2 host's tree),
 * checked by the kernel's own answers to mknod and open.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DEVICE_RULES, applyDeviceRules, findHelper, v1Mounts, detectCgroupSetup } from '../src/index.js';
import type { OciDeviceRule } from '../src/spec/oci.js';
import { CI, missingPrerequisite, tempDir } from './fixtures.js';
import { Harness } from './harness.js';

const CGROUP2 = 0x63677270;
function cgroup2Mount(): string | undefined {
  for (const p of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    try { if (statfsSync(p).type === CGROUP2) return p; } catch { /* not mounted */ }
  }
  return undefined;
}

const why = missingPrerequisite() ?? (cgroup2Mount() ? undefined : 'no cgroup2 hierarchy is mounted (neither /sys/fs/cgroup nor /sys/fs/cgroup/unified)');
if (why && CI) throw new Error(`the device filter tests cannot run on CI: ${why}`);

const EPERM = 'Operation not permitted';
const ENXIO = 'No such device or address';

describe.skipIf(!!why)('cgroup v2 device filter (eBPF)', () => {
  let nodes: string;
  const cgroups: string[] = [];
  beforeAll(() => {
    nodes = tempDir('skiff-devices-');
    // An sda-like disk (no such device here) and the kernel log, neither in Docker's allow list.
    execFileSync('mknod', [join(nodes, 'sda'), 'b', '8', '0']);
    execFileSync('mknod', [join(nodes, 'kmsg'), 'c', '1', '11']);
    execFileSync('mknod', [join(nodes, 'null'), 'c', '1', '3']);
  });
  afterAll(() => {
    rmSync(nodes, { recursive: true, force: true });
    for (const c of cgroups) if (existsSync(c)) rmdirSync(c);
  });

  const cgroup = (): string => {
    const dir = join(cgroup2Mount()!, `skiff-devtest-${process.pid}-${cgroups.length}`);
    mkdirSync(dir);
    cgroups.push(dir);
    return dir;
  };

  /** What open (read, or write with "w:") and mknod ("m:") of each node say, from a shell in `cg` (or outside). */
  function probe(cg: string | undefined, checks: string[]): Record<string, string> {
    const script = [
      cg ? `echo $$ > ${cg}/cgroup.procs` : ':',
      `cd ${nodes}`,
      'for c in "$@"; do',
      '  op=${c%%:*}; n=${c#*:}',
      '  case $op in',
      '    r) ( : < "$n" ) 2>err ;;',
      '    w) ( : > "$n" ) 2>err ;;',
      '    m) rm -f made; mknod made b 8 0 2>err ;;',
      '  esac',
      '  if [ $? = 0 ]; then echo "$c ok"; else echo "$c $(sed "s/.*: //" err)"; fi',
      'done',
      'rm -f err made',
    ].join('\n');
    const out = execFileSync('sh', ['-c', script, 'probe', ...checks], { encoding: 'utf8' });
    return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
  }

  it("denies what Docker's default list does not allow, and allows what it does", async () => {
    const cg = cgroup();
    await applyDeviceRules(findHelper(), cg, DEFAULT_DEVICE_RULES);
    expect(probe(cg, ['r:sda', 'r:kmsg', 'r:null', 'w:null', 'r:/dev/zero', 'r:/dev/urandom', 'm:made'])).toEqual({
      'r:sda': EPERM, 'r:kmsg': EPERM, 'r:null': 'ok', 'w:null': 'ok', 'r:/dev/zero': 'ok', 'r:/dev/urandom': 'ok',
      'm:made': 'ok', // mknod itself is allowed (c/b *:* m), as in Docker; opening what it made is not
    });
    // The same nodes outside the filtered cgroup: the kernel's own answers.
    expect(probe(undefined, ['r:sda', 'r:kmsg'])).toEqual({ 'r:sda': ENXIO, 'r:kmsg': 'ok' });
  });

  it('applies access letters and lets a later rule override an earlier one', async () => {
    const cg = cgroup();
    const rules: OciDeviceRule[] = [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }, // later: writing /dev/null is refused again
    ];
    await applyDeviceRules(findHelper(), cg, rules);
    expect(probe(cg, ['r:null', 'w:null', 'm:made'])).toEqual({ 'r:null': 'ok', 'w:null': EPERM, 'm:made': EPERM });
  });

  it('allows everything with the privileged rule, replacing the program attached before (as a restart does)', async () => {
    const cg = cgroup();
    await applyDeviceRules(findHelper(), cg, [{ allow: false, access: 'rwm' }]);
    expect(probe(cg, ['r:null'])).toEqual({ 'r:null': EPERM });
    await applyDeviceRules(findHelper(), cg, [{ allow: true, access: 'rwm' }]);
    expect(probe(cg, ['r:sda', 'r:kmsg', 'w:null'])).toEqual({ 'r:sda': ENXIO, 'r:kmsg': 'ok', 'w:null': 'ok' });
  });

  it('refuses bad rules with a clear error', async () => {
    const cg = cgroup();
    await expect(applyDeviceRules(findHelper(), cg, [{ allow: true, type: 'x' as never, access: 'rwm' }])).rejects.toThrow(/type "x" is not a, b or c/);
    await expect(applyDeviceRules(findHelper(), cg, [{ allow: true, access: 'rwz' }])).rejects.toThrow(/letters other than r, w, m/);
  });

  it("guards a container through its cgroup2 directory alone (the v1 devices controller left out)", async () => {
    // On a hybrid host the v1 devices files would refuse too; without them only the filter stands.
    const setup = detectCgroupSetup();
    const mounts = setup === 'v2' ? undefined : Object.fromEntries(Object.entries(v1Mounts()).filter(([c]) => c !== 'devices'));
    const h = await Harness.open(mounts ? { cgroups: { mounts } } : {});
    try {
      const line = 'mknod /dev/disk b 8 0 && echo made; ( : < /dev/disk ) 2>&1 | sed "s/.*: //"; ( : > /dev/null ) && echo null-ok';
      const plain = await h.run(line);
      expect(plain.stdout).toBe(`made\n${EPERM}\nnull-ok\n`);
      const privileged = await h.run(line, { privileged: true });
      expect(privileged.stdout).toBe(`made\n${ENXIO}\nnull-ok\n`);
    } finally {
      expect(await h.close()).toEqual({ mounts: [], cgroups: [] });
    }
  });
});
