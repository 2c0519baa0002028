import { describe, expect, it } from 'vitest';
import { parsePortSpec, resolvePorts } from './ports.js';

describe('parsePortSpec: docker -p forms', () => {
  it.each([
    ['80', [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 0 }]],
    ['8080:80', [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 8080 }]],
    ['127.0.0.1:8080:80', [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080 }]],
    ['127.0.0.1::80/tcp', [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0 }]],
    ['[::1]:8080:80', [{ containerPort: 80, protocol: 'tcp', hostIp: '::1', hostPort: 8080 }]],
    ['53/udp', [{ containerPort: 53, protocol: 'udp', hostIp: '', hostPort: 0 }]],
    ['127.0.0.1:5353:53/udp', [{ containerPort: 53, protocol: 'udp', hostIp: '127.0.0.1', hostPort: 5353 }]],
    ['[::1]::53/UDP', [{ containerPort: 53, protocol: 'udp', hostIp: '::1', hostPort: 0 }]],
    ['9000-9001:80-81', [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 9000 }, { containerPort: 81, protocol: 'tcp', hostIp: '', hostPort: 9001 }]],
  ])('%s', (spec, want) => {
    expect(parsePortSpec(spec)).toEqual(want);
  });

  it.each([
    ['', 'invalid'],
    ['80/sctp', 'use tcp or udp'],
    ['70000', 'from 1 to 65535'],
    ['8080:', 'CONTAINERPORT'],
    ['a:b:c:d', 'CONTAINERPORT'],
    ['host.example:80:80', 'give an IP address'],
    ['9000-9002:80-81', 'differ in length'],
    ['0', 'container port 0'],
  ])('refuses %j with a clear message', (spec, message) => {
    expect(() => parsePortSpec(spec)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(message) }));
  });
});

describe('resolvePorts', () => {
  it('adds the image\'s exposed ports for -P, without repeating ones given with -p', () => {
    const got = resolvePorts({ ports: ['8080:80'], publishAll: true }, { '80/tcp': {}, '443/tcp': {}, '53/udp': {} });
    expect(got).toEqual([
      { containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 8080 },
      { containerPort: 443, protocol: 'tcp', hostIp: '', hostPort: 0 },
      { containerPort: 53, protocol: 'udp', hostIp: '', hostPort: 0 },
    ]);
  });
  it('checks mappings given as objects', () => {
    expect(() => resolvePorts({ ports: [{ containerPort: 0, protocol: 'tcp', hostIp: '', hostPort: 0 }] })).toThrow(/container port 0/);
  });
});
