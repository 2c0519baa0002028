/**
 * docker's process settings against dockerd and `skiff daemon` (Linux
 * backend), the same docker CLI commands on both: stop signals (the image's
 * STOPSIGNAL and --stop-signal, seen by a trap in sh) and --stop-timeout,
 * --ulimit, --shm-size, --pid/--ipc/--uts/--cgroupns host, --group-add,
 * --dns*, and what inspect shows. The documented difference: options skiff
 * cannot honour (--oom-kill-disable, --memory-swappiness, --blkio-weight...)
 * are refused with a 400 where dockerd takes them.
 */
import { readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { busyboxContext } from './support/harness.js';
import { sideBySide } from './support/side-by-side.js';

const IMAGE = 'skiff-settings/busybox:1';
const STOPPY = 'skiff-settings/stopsignal:1';
const FILES = { '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n', '/etc/group': 'root:x:0:\nwheel:x:10:\naudio:x:29:\nnogroup:x:65534:\n' };
const APPLETS = ['sh', 'sleep', 'echo', 'cat', 'id', 'df', 'ls', 'readlink', 'hostname', 'test', 'grep', 'cut'];
const daemons = sideBySide('settings', (tmp) => ({
  [IMAGE]: busyboxContext(join(tmp, 'ctx'), APPLETS, FILES),
  [STOPPY]: busyboxContext(join(tmp, 'stoppy'), APPLETS, FILES, 'ENV PATH=/bin\nSTOPSIGNAL SIGUSR1\nCMD ["sh"]\n'),
}));
const { on } = daemons;
const both = (args: string[]) => daemons.both(args);
async function same(args: string[]): Promise<string> {
  const r = await both(args);
  expect(r.skiff).toEqual(r.dockerd);
  expect(r.skiff.code).toBe(0);
  return r.skiff.stdout;
}

/** A shell that reports the signal it gets and exits with a code of its own for each. */
const TRAPS = 'trap "echo got USR1; exit 3" USR1; trap "echo got INT; exit 5" INT; trap "echo got TERM; exit 4" TERM; echo ready; while :; do sleep 1 & wait $!; done';

async function waitReady(name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await both(['logs', name]);
    if (r.dockerd.stdout.includes('ready') && r.skiff.stdout.includes('ready')) return;
    if (Date.now() > deadline) throw new Error(`${name} did not start: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

it('docker stop sends the image\'s STOPSIGNAL, or --stop-signal over it; the trap and the exit code show which', async () => {
  for (const [name, args, seen, code] of [
    ['stop-image', [STOPPY], 'got USR1', 3],
    ['stop-flag', ['--stop-signal', 'SIGINT', STOPPY], 'got INT', 5],
    ['stop-default', [IMAGE], 'got TERM', 4],
  ] as const) {
    const started = await both(['run', '-d', '--name', name, ...args, 'sh', '-c', TRAPS]);
    expect([started.dockerd.code, started.skiff.code], started.skiff.stderr).toEqual([0, 0]);
    await waitReady(name);
    const stopped = await both(['stop', name]);
    expect([stopped.dockerd.code, stopped.skiff.code]).toEqual([0, 0]);
    expect(await same(['logs', name])).toBe(`ready\n${seen}\n`);
    expect(await same(['inspect', '--format', '{{.State.ExitCode}} {{.Config.StopSignal}}', name])).toBe(`${code} ${name === 'stop-default' ? '' : name === 'stop-flag' ? 'SIGINT' : 'SIGUSR1'}\n`);
    await both(['rm', name]);
  }
}, 90_000);

it('--stop-timeout: stop without -t waits that long, then kills (137)', async () => {
  const started = await both(['run', '-d', '--name', 'stop-timeout', '--stop-timeout', '2', IMAGE, 'sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 1 & wait $!; done']);
  expect([started.dockerd.code, started.skiff.code]).toEqual([0, 0]);
  await waitReady('stop-timeout');
  const timed = await Promise.all([daemons.real.url, daemons.skiff.url].map(async (url) => {
    const t0 = Date.now();
    const r = await on(url, ['stop', 'stop-timeout']);
    return { code: r.code, ms: Date.now() - t0 };
  }));
  for (const t of timed) {
    expect(t.code).toBe(0);
    expect(t.ms).toBeGreaterThanOrEqual(1800);
    expect(t.ms).toBeLessThan(8000); // not the default 10 s
  }
  expect(await same(['inspect', '--format', '{{.State.ExitCode}} {{.Config.StopTimeout}}', 'stop-timeout'])).toBe('137 2\n');
  await both(['rm', 'stop-timeout']);
}, 60_000);

it('--ulimit sets the soft and hard limits; --shm-size sizes /dev/shm (64m by default)', async () => {
  expect(await same(['run', '--rm', '--ulimit', 'nofile=100:200', IMAGE, 'sh', '-c', 'ulimit -n; ulimit -Hn'])).toBe('100\n200\n');
  // exec'd processes get them too, and the added groups.
  const started = await both(['run', '-d', '--name', 'exec-settings', '--ulimit', 'nofile=100:200', '--group-add', '10', IMAGE, 'sleep', '60']);
  expect([started.dockerd.code, started.skiff.code]).toEqual([0, 0]);
  expect(await same(['exec', 'exec-settings', 'sh', '-c', 'ulimit -Hn; id'])).toBe('200\nuid=0(root) gid=0(root) groups=0(root),10(wheel)\n');
  // The soft limit differs: runc is a Go program, whose runtime raises its own soft nofile to the hard one, and
  // dockerd's exec'd process inherits that (200); skiff's helper gives the container's 100.
  expect((await on(daemons.skiff.url, ['exec', 'exec-settings', 'sh', '-c', 'ulimit -n'])).stdout).toBe('100\n');
  await both(['rm', '-f', 'exec-settings']);
  const sized = await same(['run', '--rm', '--shm-size', '8m', IMAGE, 'df', '-k', '/dev/shm']);
  expect(sized).toMatch(/\b8192\b/);
  expect(await same(['run', '--rm', IMAGE, 'df', '-k', '/dev/shm'])).toMatch(/\b65536\b/);
}, 60_000);

it('--tmpfs PATH:OPTIONS and --mount tmpfs-size/tmpfs-mode: the mount has them; inspect shows them', async () => {
  const line = 'grep " /x " /proc/mounts; ls -ld /x | cut -c1-10';
  expect(await same(['run', '--rm', '--tmpfs', '/x:size=1m,mode=700,noexec', IMAGE, 'sh', '-c', line])).toBe('tmpfs /x tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700 0 0\ndrwx------\n');
  const mounted = await same(['run', '--rm', '--mount', 'type=tmpfs,dst=/x,tmpfs-size=2097152,tmpfs-mode=0750', IMAGE, 'sh', '-c', 'df -k /x; ls -ld /x | cut -c1-10']);
  expect(mounted).toMatch(/\b2048\b[\s\S]*drwxr-x---/);
  const made = await both(['create', '--name', 'tmpfs-opts', '--tmpfs', '/x:size=1m,noexec', '--tmpfs', '/y', IMAGE]);
  expect([made.dockerd.code, made.skiff.code]).toEqual([0, 0]);
  expect(await same(['inspect', '--format', '{{json .HostConfig.Tmpfs}}', 'tmpfs-opts'])).toBe('{"/x":"size=1m,noexec","/y":""}\n');
  await both(['rm', 'tmpfs-opts']);
  const bad = await both(['run', '--rm', '--tmpfs', '/x:size=lots', IMAGE, 'true']);
  expect(bad.dockerd.code).not.toBe(0);
  expect(bad.skiff.code).toBe(125);
  expect(bad.skiff.stderr).toContain('invalid tmpfs option "size=lots"');
}, 60_000);

it('--pid, --ipc, --uts and --cgroupns host share the host\'s namespaces; --ipc host its /dev/shm', async () => {
  const ns = (n: string) => readlinkSync(`/proc/self/ns/${n}`);
  expect(await same(['run', '--rm', '--pid', 'host', IMAGE, 'sh', '-c', `readlink /proc/self/ns/pid; test -d /proc/${process.pid} && echo sees-host-processes`])).toBe(`${ns('pid')}\nsees-host-processes\n`);
  // Without a PID namespace nothing ends a leftover process: both end what is left in the cgroup when the main one exits.
  const leftover = `sleep ${1000 + (process.pid % 1000)}`;
  expect(await same(['run', '--rm', '--pid', 'host', IMAGE, 'sh', '-c', `${leftover} & echo started`])).toBe('started\n');
  await new Promise((r) => setTimeout(r, 300));
  expect(spawnSync('pgrep', ['-f', `^${leftover}$`], { encoding: 'utf8' }).stdout).toBe('');
  const probe = `skiff-settings-${process.pid}`;
  writeFileSync(`/dev/shm/${probe}`, 'x');
  try {
    expect(await same(['run', '--rm', '--ipc', 'host', IMAGE, 'sh', '-c', `readlink /proc/self/ns/ipc; ls /dev/shm/${probe}`])).toBe(`${ns('ipc')}\n/dev/shm/${probe}\n`);
  } finally {
    rmSync(`/dev/shm/${probe}`, { force: true });
  }
  // The host's name; /etc/hostname and HOSTNAME keep the container's, as dockerd writes them.
  expect(await same(['run', '--rm', '--uts', 'host', IMAGE, 'sh', '-c', 'readlink /proc/self/ns/uts; hostname; test "$(cat /etc/hostname)" = "$HOSTNAME" && echo same'])).toBe(`${ns('uts')}\n${hostname()}\nsame\n`);
  expect(await same(['run', '--rm', '--cgroupns', 'host', IMAGE, 'readlink', '/proc/self/ns/cgroup'])).toBe(`${ns('cgroup')}\n`);
  // --domainname in the container's own UTS namespace.
  expect(await same(['run', '--rm', '--domainname', 'example.com', IMAGE, 'cat', '/proc/sys/kernel/domainname'])).toBe('example.com\n');
  expect((await both(['create', '--name', 'dn', '--domainname', 'example.com', IMAGE])).skiff.code).toBe(0);
  expect(await same(['inspect', '--format', '{{.Config.Domainname}}', 'dn'])).toBe('example.com\n');
  await both(['rm', 'dn']);
  // It cannot be set in the host's UTS namespace: skiff refuses where dockerd drops it.
  const onHost = await both(['create', '--uts', 'host', '--domainname', 'example.com', IMAGE]);
  expect([onHost.dockerd.code, onHost.skiff.code]).toEqual([0, 1]);
  expect(onHost.skiff.stderr).toContain('conflicting options: domainname and the UTS mode');
  if (onHost.dockerd.code === 0) await on(daemons.real.url, ['rm', onHost.dockerd.stdout.trim()]);
  // Without them, the container's own.
  const own = await both(['run', '--rm', IMAGE, 'sh', '-c', 'readlink /proc/self/ns/pid /proc/self/ns/ipc /proc/self/ns/uts']);
  for (const r of [own.dockerd, own.skiff]) for (const n of ['pid', 'ipc', 'uts']) expect(r.stdout).not.toContain(ns(n));
}, 60_000);

it('the user\'s groups (the primary one among them) and HOME, in run and exec, by name, by number and unknown to passwd', async () => {
  for (const user of [[], ['-u', 'nobody'], ['-u', '1234'], ['-u', '0:65534'], ['-u', 'nobody:root']]) {
    await same(['run', '--rm', ...user, IMAGE, 'sh', '-c', 'id; echo "HOME=$HOME"']);
  }
  expect(await same(['run', '--rm', '-u', 'nobody', IMAGE, 'sh', '-c', 'id; echo "HOME=$HOME"'])).toBe('uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\nHOME=/nonexistent\n');
  expect(await same(['run', '--rm', '-e', 'HOME=/given', IMAGE, 'sh', '-c', 'echo "HOME=$HOME"'])).toBe('HOME=/given\n');
  await both(['run', '-d', '--name', 'user-exec', '-u', 'nobody', IMAGE, 'sleep', '60']);
  await same(['exec', 'user-exec', 'sh', '-c', 'id; echo "HOME=$HOME"']);
  await same(['exec', '-u', '0', 'user-exec', 'sh', '-c', 'id; echo "HOME=$HOME"']);
  await both(['rm', '-f', 'user-exec']);
}, 60_000);

it('--group-add adds groups by number and by the image\'s names', async () => {
  expect(await same(['run', '--rm', '--group-add', '10', '--group-add', 'audio', IMAGE, 'id'])).toBe('uid=0(root) gid=0(root) groups=0(root),10(wheel),29(audio)\n');
  const missing = await both(['run', '--rm', '--group-add', 'nosuch', IMAGE, 'id']);
  expect(missing.dockerd.code).not.toBe(0);
  expect(missing.skiff.code).not.toBe(0);
  expect(missing.skiff.stderr).toMatch(/unable to find group nosuch/i);
}, 60_000);

it('/etc/hosts has docker\'s lines and --add-host\'s (skiff also names the container on loopback)', async () => {
  await same(['run', '--rm', '--add-host', 'foo:1.2.3.4', '--add-host', 'bar:10.0.0.9', IMAGE, 'sh', '-c', 'grep -v "^127.0.0.1" /etc/hosts']);
  expect(await same(['run', '--rm', IMAGE, 'sh', '-c', 'grep -c ip6- /etc/hosts'])).toBe('5\n');
}, 60_000);

it('--dns, --dns-search, --dns-option: resolv.conf as dockerd writes it, on the host network and off it', async () => {
  for (const net of ['none', 'host']) {
    // Without the flags too: the host's file (its loopback name servers dropped off the host network).
    await same(['run', '--rm', '--network', net, IMAGE, 'cat', '/etc/resolv.conf']);
    expect(await same(['run', '--rm', '--network', net, '--dns', '1.1.1.1', '--dns-search', 'x', '--dns-option', 'ndots:2', IMAGE, 'cat', '/etc/resolv.conf'])).toBe('search x\nnameserver 1.1.1.1\noptions ndots:2\n');
    await same(['run', '--rm', '--network', net, '--dns-search', 'x', IMAGE, 'cat', '/etc/resolv.conf']);
    await same(['run', '--rm', '--network', net, '--dns', '8.8.8.8', '--dns', '1.1.1.1', IMAGE, 'cat', '/etc/resolv.conf']);
  }
  await same(['run', '--rm', IMAGE, 'cat', '/etc/resolv.conf']);
  const peer = await both(['run', '-d', '--name', 'dns-peer', IMAGE, 'sleep', '60']);
  expect([peer.dockerd.code, peer.skiff.code]).toEqual([0, 0]);
  const shared = await both(['run', '--rm', '--network', 'container:dns-peer', '--dns', '1.1.1.1', IMAGE, 'true']);
  expect([shared.dockerd.code, shared.skiff.code]).toEqual([125, 125]);
  expect(shared.skiff.stderr).toContain('conflicting options: dns and the network mode');
  await both(['rm', '-f', 'dns-peer']);
}, 60_000);

it('--sysctl sets namespaced kernel parameters in the container\'s own namespaces; inspect shows them', async () => {
  const args = ['--sysctl', 'net.core.somaxconn=1234', '--sysctl', 'kernel.shmmax=123456789', '--sysctl', 'fs.mqueue.msg_max=20', '--sysctl', 'net.ipv4.ping_group_range=5 6'];
  const got = await same(['run', '--rm', ...args, IMAGE, 'cat', '/proc/sys/net/core/somaxconn', '/proc/sys/kernel/shmmax', '/proc/sys/fs/mqueue/msg_max', '/proc/sys/net/ipv4/ping_group_range']);
  expect(got.split(/\s+/).filter(Boolean)).toEqual(['1234', '123456789', '20', '5', '6']);
  expect((await both(['create', '--name', 'sysctl-shown', '--sysctl', 'net.core.somaxconn=1234', IMAGE])).skiff.code).toBe(0);
  await same(['inspect', '--format', '{{json .HostConfig.Sysctls}}', 'sysctl-shown']);
  await both(['rm', 'sysctl-shown']);
  // The host's own network namespace is not the container's to change: both refuse.
  const hostNet = await both(['run', '--rm', '--network', 'host', '--sysctl', 'net.core.somaxconn=1', IMAGE, 'true']);
  expect(hostNet.dockerd.code).not.toBe(0);
  expect(hostNet.skiff.code).not.toBe(0);
  expect(hostNet.skiff.stderr).toContain("sysctl 'net.core.somaxconn' is not allowed with --network host");
  // A non-namespaced one: the docker CLI refuses it before asking either daemon.
  const vm = await both(['run', '--rm', '--sysctl', 'vm.swappiness=1', IMAGE, 'true']);
  expect(vm.skiff).toEqual(vm.dockerd);
  expect(vm.skiff.code).toBe(125);
  const raw = await create({ Image: IMAGE, HostConfig: { Sysctls: { 'vm.swappiness': '1' } } });
  expect(raw.status).toBe(400);
  expect(raw.message).toContain("sysctl 'vm.swappiness' is not allowed");
}, 60_000);

it('inspect shows the settings as dockerd does, and dockerd\'s defaults without them', async () => {
  const format = '{{json .Config.StopSignal}} {{json .Config.StopTimeout}} {{json .HostConfig.Ulimits}} {{.HostConfig.ShmSize}} {{json .HostConfig.PidMode}} {{json .HostConfig.IpcMode}} {{json .HostConfig.UTSMode}} {{json .HostConfig.GroupAdd}} {{json .HostConfig.Dns}} {{json .HostConfig.DnsSearch}} {{json .HostConfig.DnsOptions}} {{.HostConfig.OomScoreAdj}} {{.HostConfig.OomKillDisable}} {{json .HostConfig.MemorySwappiness}}';
  const made = await both(['create', '--name', 'inspect-all', '--stop-signal', 'SIGINT', '--stop-timeout', '2', '--ulimit', 'nofile=100:200', '--shm-size', '8m', '--pid', 'host', '--ipc', 'host', '--uts', 'host', '--cgroupns', 'host',
    '--group-add', '10', '--dns', '1.1.1.1', '--dns-search', 'x', '--dns-option', 'ndots:2', '--oom-score-adj', '100', IMAGE]);
  // --shm-size with --ipc host: dockerd drops the size, skiff refuses; without --ipc host both keep it.
  expect(made.dockerd.code).toBe(0);
  expect(made.skiff.code).toBe(1); // docker create's exit code for a daemon's refusal
  expect(made.skiff.stderr).toMatch(/--shm-size/);
  await both(['rm', '-f', 'inspect-all']);
  const all = await both(['create', '--name', 'inspect-all', '--stop-signal', 'SIGINT', '--stop-timeout', '2', '--ulimit', 'nofile=100:200', '--shm-size', '8m', '--pid', 'host', '--uts', 'host', '--cgroupns', 'host',
    '--group-add', '10', '--dns', '1.1.1.1', '--dns-search', 'x', '--dns-option', 'ndots:2', '--oom-score-adj', '100', IMAGE]);
  expect([all.dockerd.code, all.skiff.code], all.skiff.stderr).toEqual([0, 0]);
  expect(await same(['inspect', '--format', `${format} {{.HostConfig.CgroupnsMode}}`, 'inspect-all'])).toBe('"SIGINT" 2 [{"Hard":200,"Name":"nofile","Soft":100}] 8388608 "host" "private" "host" ["10"] ["1.1.1.1"] ["x"] ["ndots:2"] 100 false null host\n');
  const plain = await both(['create', '--name', 'inspect-none', STOPPY]);
  expect([plain.dockerd.code, plain.skiff.code]).toEqual([0, 0]);
  expect(await same(['inspect', '--format', format.replace('{{json .Config.StopTimeout}} ', ''), 'inspect-none'])).toBe('"SIGUSR1" [] 67108864 "" "private" "" null [] [] [] 0 false null\n');
  await both(['rm', 'inspect-all', 'inspect-none']);
}, 60_000);

/** POST /containers/create on the skiff daemon's socket: the status and message. */
function create(body: object): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: daemons.skiff.socket, method: 'POST', path: '/v1.43/containers/create', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, message: (JSON.parse(text) as { message?: string }).message ?? '' }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

it('refuses what skiff cannot honour with a 400 that says so, where dockerd takes it', async () => {
  for (const [flags, field] of [
    [['--oom-kill-disable'], { OomKillDisable: true }],
    [['--memory-swappiness', '0'], { MemorySwappiness: 0 }],
    [['--blkio-weight', '100'], { BlkioWeight: 100 }],
  ] as const) {
    const r = await both(['create', ...flags, IMAGE]);
    expect(r.dockerd.code, r.dockerd.stderr).toBe(0);
    expect(r.skiff.code).toBe(1); // docker create's exit code for a daemon's refusal
    expect(r.skiff.stderr).toContain(`${flags[0]} (HostConfig.${Object.keys(field)[0]}) is not supported by skiff: `);
    const raw = await create({ Image: IMAGE, HostConfig: field });
    expect(raw.status).toBe(400);
    expect(raw.message).toContain('is not supported by skiff');
  }
  const leftover = await on(daemons.skiff.url, ['ps', '-aq']);
  expect(leftover.stdout).toBe('');
}, 60_000);
