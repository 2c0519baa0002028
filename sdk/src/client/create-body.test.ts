import { describe, expect, it } from 'vitest';
import { toCreateBody } from './create-body.js';
import { createOptionsFrom, type DockerCreateBody } from '../daemon/create-body.js';
import type { CreateOptions } from '../runtime/options.js';

describe('CreateOptions <-> the Docker create body', () => {
  it('the client writes what the daemon reads back', () => {
    const o: CreateOptions = {
      image: 'busybox', cmd: ['sh', '-c', 'echo'], entrypoint: ['/init'], env: ['A=1'], workingDir: '/w', user: '0', name: 'n1',
      volumes: ['data:/data', '/host:/h:ro', '/anon'], mounts: [{ type: 'tmpfs', target: '/t' }], tmpfs: ['/run:size=1m'], hostname: 'box',
      readOnly: true, memory: '64m', cpus: 0.5, pidsLimit: 10, network: 'host', privileged: true, capAdd: ['NET_ADMIN'], capDrop: ['MKNOD'],
      autoRemove: true, tty: true, openStdin: true, labels: { k: 'v' }, backend: 'wasm', platform: 'wasip1/wasm',
    };
    const { query, body } = toCreateBody(o);
    expect(query).toEqual({ name: 'n1', platform: 'wasip1/wasm' });
    const back = createOptionsFrom(body as DockerCreateBody, query).options;
    expect(back).toEqual({
      image: 'busybox', cmd: ['sh', '-c', 'echo'], entrypoint: ['/init'], env: ['A=1'], workingDir: '/w', user: '0', name: 'n1', platform: 'wasip1/wasm',
      labels: { k: 'v' }, tty: true, openStdin: true, stdinOnce: true, hostname: 'box', volumes: ['data:/data', '/host:/h:ro'],
      mounts: [{ type: 'tmpfs', target: '/t' }, { type: 'volume', target: '/anon' }], tmpfs: ['/run:size=1m'], readOnly: true, memory: 64 * 1024 * 1024,
      cpus: 0.5, pidsLimit: 10, privileged: true, capAdd: ['NET_ADMIN'], capDrop: ['MKNOD'], autoRemove: true, backend: 'wasm', network: 'host',
    });
  });

  it('published ports travel as PortBindings and ExposedPorts, and come back as -p specs', () => {
    const { body } = toCreateBody({ image: 'x', ports: ['127.0.0.1:8080:80', '443', '[::1]::53/udp'], publishAll: true });
    expect(body.HostConfig).toMatchObject({
      PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '443/tcp': [{ HostIp: '', HostPort: '' }], '53/udp': [{ HostIp: '::1', HostPort: '' }] },
      PublishAllPorts: true,
    });
    expect(body.ExposedPorts).toEqual({ '80/tcp': {}, '443/tcp': {}, '53/udp': {} });
    const back = createOptionsFrom(body as DockerCreateBody, {}).options;
    expect(back.ports).toEqual(['127.0.0.1:8080:80/tcp', '::443/tcp', '[::1]::53/udp']);
    expect(back.publishAll).toBe(true);
    // On the host network, ports are the host's own: nothing to publish.
    expect(createOptionsFrom({ Image: 'x', HostConfig: { NetworkMode: 'host', PortBindings: { '80/tcp': [{ HostPort: '80' }] } } }, {}).options.ports).toBeUndefined();
  });

  it('the log config travels as HostConfig.LogConfig; the docker CLI\'s empty one means the daemon\'s default', () => {
    const { body } = toCreateBody({ image: 'x', logConfig: { type: 'local', config: { 'max-size': '10m' } } });
    expect(body.HostConfig).toMatchObject({ LogConfig: { Type: 'local', Config: { 'max-size': '10m' } } });
    expect(createOptionsFrom(body as DockerCreateBody, {}).options.logConfig).toEqual({ type: 'local', config: { 'max-size': '10m' } });
    expect(createOptionsFrom({ Image: 'x', HostConfig: { LogConfig: { Type: '', Config: {} } } }, {}).options.logConfig).toBeUndefined();
    expect(createOptionsFrom({ Image: 'x', HostConfig: { LogConfig: { Type: '', Config: { 'max-file': '2' } } } }, {}).options.logConfig).toEqual({ type: '', config: { 'max-file': '2' } });
  });

  it('--security-opt travels as HostConfig.SecurityOpt, as given', () => {
    const securityOpt = ['no-new-privileges', 'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', 'label=disable'];
    const { body } = toCreateBody({ image: 'x', securityOpt });
    expect((body as DockerCreateBody).HostConfig?.SecurityOpt).toEqual(securityOpt);
    expect(createOptionsFrom(body as DockerCreateBody, {}).options.securityOpt).toEqual(securityOpt);
    expect(createOptionsFrom({ Image: 'x', HostConfig: { SecurityOpt: null } }, {}).options.securityOpt).toBeUndefined();
    // systempaths=unconfined as docker's CLI sends it: empty MaskedPaths and ReadonlyPaths.
    const unmasked = toCreateBody({ image: 'x', securityOpt: ['systempaths=unconfined', 'no-new-privileges'] }).body as DockerCreateBody;
    expect(unmasked.HostConfig).toMatchObject({ SecurityOpt: ['no-new-privileges'], MaskedPaths: [], ReadonlyPaths: [] });
    expect(createOptionsFrom(unmasked, {}).options.securityOpt).toEqual(['no-new-privileges', 'systempaths=unconfined']);
    expect(createOptionsFrom({ Image: 'x', HostConfig: { MaskedPaths: null, ReadonlyPaths: null } }, {}).options.securityOpt).toBeUndefined();
  });

  it('`--entrypoint ""` clears the entrypoint', () => {
    expect(createOptionsFrom({ Image: 'x', Entrypoint: [''] }, {}).options.entrypoint).toEqual([]);
    expect(toCreateBody({ image: 'x', entrypoint: '' }).body.Entrypoint).toEqual([]);
  });

  it('the daemon refuses what it cannot honour rather than ignoring it', () => {
    expect(createOptionsFrom({ Image: 'x', HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } } }, {}).options.restartPolicy).toEqual({ name: 'on-failure', maximumRetryCount: 3 });
    expect(toCreateBody({ image: 'x', restartPolicy: 'unless-stopped' }).body.HostConfig).toMatchObject({ RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 } });
    expect(() => createOptionsFrom({ Image: 'x', HostConfig: { NetworkMode: 'my net!' } }, {})).toThrow(/network mode "my net!"/);
    expect(createOptionsFrom({ Image: 'x', HostConfig: { NetworkMode: 'mynet' }, NetworkingConfig: { EndpointsConfig: { mynet: { Aliases: ['db'] } } } }, {}).options).toMatchObject({ network: 'mynet', networkAliases: ['db'] });
    // On the host network, ports are the host's: accepted.
    expect(createOptionsFrom({ Image: 'x', HostConfig: { NetworkMode: 'host', PortBindings: { '80/tcp': [{ HostPort: '80' }] } } }, {}).extras.portBindings).toEqual({ '80/tcp': [{ HostIp: '', HostPort: '80' }] });
    // docker's defaults are fine.
    expect(createOptionsFrom({ Image: 'x', HostConfig: { NetworkMode: 'default', RestartPolicy: { Name: 'no' }, Runtime: 'runc' } }, {}).options).toEqual({ image: 'x', network: 'none' });
  });

  it('the client refuses options the API has no field for', () => {
    expect(() => toCreateBody({ image: 'x', timeoutMs: 5 })).toThrow(/timeoutMs/);
  });
});
