/**
 * Docker's default security settings and `--security-opt`, side by side:
 * the real docker CLI against dockerd and against `skiff daemon` on the Linux
 * backend. What a process sees (capabilities, no_new_privs, seccomp mode),
 * what works (ping, a setuid ping as a user) and what is refused must match.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO, busyboxContext } from './support/harness.js';
import { sideBySide } from './support/side-by-side.js';

const IMAGE = 'skiff-security/busybox:1';
/** The same busybox, setuid root: its ping keeps root's effective uid unless no_new_privs is set. */
const SUID = 'skiff-security/suid:1';
const STATUS = 'grep -E "^(CapEff|NoNewPrivs|Seccomp)" /proc/self/status';
const APPLETS = ['sh', 'ping', 'grep', 'cat', 'echo', 'mkdir', 'mount', 'unshare', 'true', 'ls', 'sleep'];
const daemons = sideBySide('security', (tmp) => ({
  [IMAGE]: busyboxContext(join(daemons.tmp, 'ctx'), APPLETS),
  [SUID]: busyboxContext(join(daemons.tmp, 'suid'), APPLETS, {}, 'RUN ["/bin/busybox", "chmod", "4755", "/bin/busybox"]\nENV PATH=/bin\nCMD ["sh"]\n'),
}));
const { on } = daemons;
const both = (args: string[]) => daemons.both(args);
/** Runs `sh -c script` in a new container on both, with the flags given. */
const run = (flags: string[], script: string, image = IMAGE) => both(['run', '--rm', ...flags, image, 'sh', '-c', script]);

it('a container\'s process holds only its stdio: no descriptor of the daemon (here an inherited stray one) or of the helper, in run and exec', async () => {
  const listed = await both(['run', '--rm', IMAGE, 'ls', '/proc/self/fd']);
  expect(listed.skiff).toEqual(listed.dockerd);
  expect(listed.skiff.stdout).toBe('0\n1\n2\n3\n'); // 3: ls's own handle on the directory
  await both(['run', '-d', '--name', 'sec-fds', IMAGE, 'sleep', '60']);
  const exec = await both(['exec', 'sec-fds', 'ls', '/proc/self/fd']);
  expect(exec.skiff).toEqual(exec.dockerd);
  await both(['rm', '-f', 'sec-fds']);
}, 60_000);

it('ping works by default (CAP_NET_RAW, raw sockets allowed), and every group may open ICMP echo sockets', async () => {
  const r = await run([], 'ping -c1 -W2 127.0.0.1 >/dev/null; echo "ping=$?"; cat /proc/sys/net/ipv4/ping_group_range');
  expect(r.skiff).toEqual(r.dockerd);
  expect(r.skiff.stdout).toBe('ping=0\n0\t2147483647\n');
}, 60_000);

it('the same capabilities, no_new_privs and seccomp mode by default and with each option', async () => {
  const cases: Array<[string[], string]> = [
    [[], 'CapEff:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t1\n'],
    [['--security-opt', 'no-new-privileges'], 'CapEff:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n'],
    [['--security-opt', 'no-new-privileges=false'], 'CapEff:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t1\n'],
    [['--cap-drop', 'NET_RAW'], 'CapEff:\t00000000a80405fb\nNoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t1\n'],
    [['--security-opt', 'seccomp=unconfined'], 'CapEff:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n'],
    // Neither host has AppArmor or SELinux: dockerd accepts these and does nothing, and so does skiff.
    [['--security-opt', 'apparmor=unconfined', '--security-opt', 'label=disable'], 'CapEff:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t1\n'],
  ];
  for (const [flags, want] of cases) {
    const r = await run(flags, STATUS);
    expect({ flags, ...r.skiff }).toEqual({ flags, ...r.dockerd });
    expect({ flags, out: r.skiff.stdout }).toEqual({ flags, out: want });
  }
}, 120_000);

it('an added capability opens the calls that need it, as in Docker\'s profile: --cap-add SYS_ADMIN mounts and unshares', async () => {
  const script = 'mkdir -p /mnt; mount -t tmpfs tmpfs /mnt && echo mounted; unshare -n true && echo unshared';
  const without = await run([], script);
  expect(without.skiff.stdout).toBe(without.dockerd.stdout);
  expect(without.skiff.stdout).toBe('');
  const added = await run(['--cap-add', 'SYS_ADMIN'], script);
  expect(added.skiff).toEqual(added.dockerd);
  expect(added.skiff.stdout).toBe('mounted\nunshared\n');
}, 60_000);

it('systempaths=unconfined: no masked or read-only /proc paths, as dockerd', async () => {
  const script = 'grep -E " /(proc/[a-z_]+|sys/firmware) " /proc/mounts | cut -d" " -f2 | sort | tr "\\n" " "';
  const masked = await run([], script);
  expect(masked.skiff).toEqual(masked.dockerd);
  expect(masked.skiff.stdout).toContain('/proc/keys');
  expect(masked.skiff.stdout).toContain('/proc/sys');
  const open = await run(['--security-opt', 'systempaths=unconfined'], script);
  expect(open.skiff).toEqual(open.dockerd);
  expect(open.skiff.stdout).toBe('');
  const made = await both(['create', '--name', 'sec-paths', '--security-opt', 'systempaths=unconfined', IMAGE]);
  expect([made.dockerd.code, made.skiff.code]).toEqual([0, 0]);
  const shown = await both(['inspect', '--format', '{{json .HostConfig.SecurityOpt}} {{json .HostConfig.MaskedPaths}} {{json .HostConfig.ReadonlyPaths}}', 'sec-paths']);
  expect(shown.skiff).toEqual(shown.dockerd);
  expect(shown.skiff.stdout).toBe('[] [] []\n');
  await both(['rm', 'sec-paths']);
}, 60_000);

it('docker exec runs with the container\'s settings', async () => {
  for (const [name, flags, nnp] of [['sec-exec-default', [], '0'], ['sec-exec-nnp', ['--security-opt', 'no-new-privileges'], '1']] as const) {
    const started = await both(['run', '-d', '--name', name, ...flags, IMAGE, 'sh', '-c', 'sleep 60']);
    expect([started.dockerd.code, started.skiff.code]).toEqual([0, 0]);
    const r = await both(['exec', name, 'sh', '-c', STATUS]);
    expect(r.skiff).toEqual(r.dockerd);
    expect(r.skiff.stdout).toBe(`CapEff:\t00000000a80425fb\nNoNewPrivs:\t${nnp}\nSeccomp:\t2\nSeccomp_filters:\t1\n`);
    await both(['rm', '-f', name]);
  }
}, 60_000);

it('all five capability sets match, for root and for another user', async () => {
  for (const flags of [[], ['--user', '1000'], ['--cap-add', 'SYS_ADMIN', '--cap-drop', 'CHOWN']]) {
    const r = await run(flags, 'grep -E "^Cap" /proc/self/status');
    expect({ flags, ...r.skiff }).toEqual({ flags, ...r.dockerd });
    expect(r.skiff.stdout).toMatch(/^CapInh:\t0{16}\nCapPrm:/);
  }
}, 60_000);

it('--cap-drop NET_RAW: ping fails on both, with the kernel\'s EPERM', async () => {
  const r = await run(['--cap-drop', 'NET_RAW'], 'ping -c1 -W2 127.0.0.1; echo "ping=$?"');
  expect(r.skiff).toEqual(r.dockerd);
  expect(r.skiff.stdout).toMatch(/\nping=1\n$/);
  expect(r.skiff.stderr).toContain('ping: permission denied (are you root?)');
}, 60_000);

it('a setuid ping works for a user without no_new_privs and fails with it', async () => {
  const script = 'ping -c1 -W2 127.0.0.1 >/dev/null; echo "ping=$?"';
  const plain = await run(['--user', '1000'], script, SUID);
  expect(plain.skiff).toEqual(plain.dockerd);
  expect(plain.skiff.stdout).toBe('ping=0\n');
  const nnp = await run(['--user', '1000', '--security-opt', 'no-new-privileges:true'], script, SUID);
  expect(nnp.skiff).toEqual(nnp.dockerd);
  expect(nnp.skiff.stdout).toBe('ping=1\n');
}, 60_000);

it('seccomp=PROFILE.json: the CLI sends the file, both load it, and inspect shows the same SecurityOpt', async () => {
  const profile = join(daemons.tmp, 'no-mkdir.json');
  writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }, null, 2));
  const r = await run(['--security-opt', `seccomp=${profile}`], `mkdir /tmp/x; echo "mkdir=$?"; ${STATUS}`);
  expect(r.skiff).toEqual(r.dockerd);
  expect(r.skiff.stdout).toBe('mkdir=1\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t1\n');
  expect(r.skiff.stderr).toContain('Operation not permitted');

  const made = await both(['create', '--name', 'sec-opts', '--security-opt', 'no-new-privileges', '--security-opt', `seccomp=${profile}`, '--security-opt', 'label=disable', IMAGE]);
  expect([made.dockerd.code, made.skiff.code]).toEqual([0, 0]);
  const shown = await both(['inspect', '--format', '{{json .HostConfig.SecurityOpt}}', 'sec-opts']);
  expect(shown.skiff).toEqual(shown.dockerd);
  expect(JSON.parse(shown.skiff.stdout)).toEqual(['no-new-privileges', 'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}', 'label=disable']);
  const none = await both(['create', '--name', 'sec-none', IMAGE]);
  expect([none.dockerd.code, none.skiff.code]).toEqual([0, 0]);
  const unset = await both(['inspect', '--format', '{{json .HostConfig.SecurityOpt}}', 'sec-none']);
  expect(unset.skiff).toEqual(unset.dockerd);
  // dockerd records label=disable for a privileged container.
  const priv = await both(['create', '--name', 'sec-priv', '--privileged', '--security-opt', 'no-new-privileges', IMAGE]);
  expect([priv.dockerd.code, priv.skiff.code]).toEqual([0, 0]);
  const privShown = await both(['inspect', '--format', '{{json .HostConfig.SecurityOpt}}', 'sec-priv']);
  expect(privShown.skiff).toEqual(privShown.dockerd);
  expect(privShown.skiff.stdout).toBe('["no-new-privileges","label=disable"]\n');
  await both(['rm', 'sec-opts', 'sec-none', 'sec-priv']);
}, 60_000);

it('a default-deny profile in Docker\'s format (an allow list, archMap, includes by capability and kernel) acts the same, in run and exec', async () => {
  // Every call this machine's headers know (the list the helper is built with) but mkdir and the privileged ones.
  const known = [...readFileSync(join(REPO, 'runtime-linux/native/build/syscalls.inc'), 'utf8').matchAll(/\{"([a-z0-9_]+)"/g)].map((m) => m[1]!);
  const withheld = new Set(['mkdir', 'mkdirat', 'mount', 'umount2', 'unshare', 'setns', 'clone3', 'ptrace', 'reboot', 'kexec_load', 'init_module', 'finit_module', 'bpf', 'keyctl', 'add_key', 'pivot_root']);
  expect(known.length).toBeGreaterThan(300);
  const profile = join(daemons.tmp, 'default-deny.json');
  writeFileSync(profile, JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
    syscalls: [
      { names: known.filter((n) => !withheld.has(n)), action: 'SCMP_ACT_ALLOW' },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
      { names: ['mount', 'umount2', 'unshare', 'setns'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    ],
  }));
  const script = `mkdir /tmp/x 2>/dev/null; echo "mkdir=$?"; ${STATUS}; ping -c1 -W2 127.0.0.1 >/dev/null; echo "ping=$?"; unshare -n true 2>/dev/null; echo "unshare=$?"`;
  // -w: a missing working directory is made before the filter refuses mkdir (dockerd makes it outside the container).
  for (const flags of [[], ['--user', '1000'], ['--security-opt', 'no-new-privileges'], ['--cap-add', 'SYS_ADMIN'], ['-w', '/made/here']]) {
    const r = await run(['--security-opt', `seccomp=${profile}`, ...flags], script);
    expect({ flags, ...r.skiff }).toEqual({ flags, ...r.dockerd });
    expect(r.skiff.stdout).toMatch(/^mkdir=1\n/);
  }
  const started = await both(['run', '-d', '--name', 'sec-deny', '--security-opt', `seccomp=${profile}`, IMAGE, 'sh', '-c', 'sleep 60']);
  expect([started.dockerd.code, started.skiff.code]).toEqual([0, 0]);
  const exec = await both(['exec', 'sec-deny', 'sh', '-c', 'mkdir /tmp/y 2>/dev/null; echo "mkdir=$?"; echo ok']);
  expect(exec.skiff).toEqual(exec.dockerd);
  expect(exec.skiff.stdout).toBe('mkdir=1\nok\n');
  await both(['rm', '-f', 'sec-deny']);
}, 120_000);

it('refuses what it does not know, as dockerd does', async () => {
  const bad = await both(['create', '--security-opt', 'no-new-privileges=maybe', IMAGE]);
  expect(bad.dockerd.code).not.toBe(0);
  expect(bad.skiff.code).toBe(bad.dockerd.code);
  expect(bad.skiff.stderr).toContain('no-new-privileges takes true or false, not "maybe"');
  const unknown = await on(daemons.skiff.url, ['create', '--security-opt', 'selinux=off', IMAGE]);
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toContain('unknown --security-opt "selinux=off"');
}, 60_000);
