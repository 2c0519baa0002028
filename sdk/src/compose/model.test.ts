import { describe, expect, it } from 'vitest';
import { loadCompose } from './load.js';

const load = (text: string) => loadCompose({ text, file: '/p/compose.yaml', dir: '/p', env: {}, readText: () => undefined });

describe('compose: docker\'s process settings', () => {
  it('maps ulimits, shm_size, pid, ipc, uts, cgroup, group_add, dns*, oom_score_adj and the stop settings onto CreateOptions', () => {
    const p = load(`
services:
  app:
    image: busybox
    ulimits: { nofile: { soft: 100, hard: 200 }, nproc: 50 }
    shm_size: 8m
    pid: host
    ipc: host
    uts: host
    cgroup: host
    group_add: [10, wheel]
    dns: 1.1.1.1
    dns_search: [x]
    dns_opt: [ndots:2]
    oom_score_adj: -100
    domainname: example.com
    stop_signal: SIGINT
    stop_grace_period: 1500ms
`);
    const app = p.services.app!;
    expect(app.create).toMatchObject({
      ulimits: [{ name: 'nofile', soft: 100, hard: 200 }, { name: 'nproc', soft: 50, hard: 50 }], shmSize: '8m', pidMode: 'host', ipcMode: 'host', utsMode: 'host',
      cgroupnsMode: 'host', groupAdd: ['10', 'wheel'], dns: ['1.1.1.1'], dnsSearch: ['x'], dnsOptions: ['ndots:2'], oomScoreAdj: -100, domainname: 'example.com', stopSignal: 'SIGINT', stopTimeout: 2,
    });
    expect(app.stopSignal).toBe('SIGINT');
  });

  it('refuses the keys skiff cannot honour, saying why', () => {
    expect(() => load('services:\n  a:\n    image: x\n    oom_kill_disable: true\n')).toThrow(/oom_kill_disable is not supported/);
    expect(() => load('services:\n  a:\n    image: x\n    mem_swappiness: 0\n')).toThrow(/mem_swappiness is not supported/);
    expect(() => load('services:\n  a:\n    image: x\n    sysctls: { vm.swappiness: 1 }\n')).toThrow(/sysctl 'vm.swappiness' is not allowed/);
    expect(() => load('services:\n  a:\n    image: x\n    ulimits: { nofile: { soft: 1, max: 2 } }\n')).toThrow(/unknown key "max"/);
  });
});

describe('compose: tmpfs options', () => {
  it('takes the long syntax\'s tmpfs size and mode as --tmpfs options', () => {
    const p = load('services:\n  a:\n    image: x\n    volumes: [{ type: tmpfs, target: /run, tmpfs: { size: 1m, mode: 1777 } }, { type: tmpfs, target: /t }]\n    tmpfs: /x:size=2m\n');
    expect(p.services.a!.create.tmpfs).toEqual(['/run:size=1m,mode=1777', '/t', '/x:size=2m']);
    expect(() => load('services:\n  a:\n    image: x\n    volumes: [{ type: tmpfs, target: /run, tmpfs: { sise: 1 } }]\n')).toThrow(/unknown key "sise"/);
  });
});
