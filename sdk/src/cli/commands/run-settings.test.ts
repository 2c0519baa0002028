import { describe, expect, it } from 'vitest';
import { FlagError, helpText, parseArgs } from '../args.js';
import { createFlags, createOptions } from './run.js';

const options = (argv: string[]) => {
  const { flags, args } = parseArgs(argv, createFlags, { stopAtFirstArg: true });
  return createOptions(flags, args[0]!, args.slice(1));
};

describe('run/create: docker\'s process settings and refused flags', () => {
  it('maps the flags onto CreateOptions', () => {
    expect(options(['--stop-signal', 'SIGINT', '--stop-timeout', '2', '--ulimit', 'nofile=100:200', '--ulimit', 'core=-1', '--shm-size', '8m', '--pid', 'host', '--ipc', 'host',
      '--uts', 'host', '--cgroupns', 'host', '--group-add', '10', '--group-add', 'audio', '--dns', '1.1.1.1', '--dns-search', 'x', '--dns-option', 'ndots:2',
      '--oom-score-adj', '-5', '--domainname', 'example.com', '--tmpfs', '/run:size=1m', '--sysctl', 'net.core.somaxconn=1024', 'img', 'sh'])).toEqual({
      image: 'img', cmd: ['sh'], tmpfs: ['/run:size=1m'], stopSignal: 'SIGINT', stopTimeout: 2, ulimits: ['nofile=100:200', 'core=-1'], shmSize: '8m', pidMode: 'host', ipcMode: 'host',
      utsMode: 'host', cgroupnsMode: 'host', groupAdd: ['10', 'audio'], dns: ['1.1.1.1'], dnsSearch: ['x'], dnsOptions: ['ndots:2'], oomScoreAdj: -5, domainname: 'example.com',
      sysctls: ['net.core.somaxconn=1024'],
    });
  });

  it('says why a docker flag skiff does not offer is refused, instead of "unknown flag"', () => {
    for (const [argv, message] of [
      [['--oom-kill-disable', 'img'], /^--oom-kill-disable is not supported by skiff: the kernel may always end/],
      [['--memory-swappiness', '0', 'img'], /^--memory-swappiness is not supported by skiff: /],
      [['--blkio-weight=100', 'img'], /^--blkio-weight is not supported by skiff: skiff sets no block I\/O limits/],
      [['--storage-opt', 'size=1G', 'img'], /^--storage-opt is not supported by skiff/],
      [['--device', '/dev/fuse', 'img'], /^--device is not supported by skiff/],
      [['--ip', '10.0.0.2', 'img'], /^--ip is not supported by skiff/],
    ] as const) {
      let err: unknown;
      try { options([...argv]); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(FlagError);
      expect((err as Error).message).toMatch(message);
    }
    expect(() => options(['--no-such-flag', 'img'])).toThrow(/^unknown flag: --no-such-flag$/);
    const help = helpText('usage', 'desc', createFlags);
    expect(help).toContain('--ulimit');
    expect(help).not.toContain('--oom-kill-disable');
  });
});
