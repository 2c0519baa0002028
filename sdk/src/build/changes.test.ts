import { describe, expect, it } from 'vitest';
import { applyChanges } from './changes.js';

describe('applyChanges (docker commit --change)', () => {
  const base = { Env: ['PATH=/bin', 'A=1'], Cmd: ['sh'], WorkingDir: '/app', Labels: { keep: 'yes' } };

  it('applies each allowed instruction, expanding words with the config Env', () => {
    const c = applyChanges(base, ['ENV B=$A-x A=2', 'LABEL v=1 "with space"=ok', 'EXPOSE 80 53/UDP', 'USER app', 'WORKDIR sub/../data', 'VOLUME ["/v1", "/v2"]', 'HEALTHCHECK --interval=5s CMD true', 'ONBUILD RUN echo hi', 'CMD echo $HOME']);
    expect(c.Env).toEqual(['PATH=/bin', 'B=1-x', 'A=2']);
    expect(c.Labels).toEqual({ keep: 'yes', v: '1', 'with space': 'ok' });
    expect(c.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {} });
    expect(c.User).toBe('app');
    expect(c.WorkingDir).toBe('/app/data');
    expect(c.Volumes).toEqual({ '/v1': {}, '/v2': {} });
    expect(c.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'true'], Interval: 5e9 });
    expect(c.OnBuild).toEqual(['RUN echo hi']);
    expect(c.Cmd).toEqual(['/bin/sh', '-c', 'echo $HOME']);
    expect(base.Env).toEqual(['PATH=/bin', 'A=1']);
  });

  it('ENTRYPOINT drops the CMD unless the same changes set one; one change may hold several lines', () => {
    expect(applyChanges(base, ['ENTRYPOINT ["/run"]'])).toMatchObject({ Entrypoint: ['/run'], Cmd: null });
    expect(applyChanges(base, ['CMD ["x"]\nENTRYPOINT ["/run"]'])).toMatchObject({ Entrypoint: ['/run'], Cmd: ['x'] });
  });

  it('refuses instructions docker commit does not take, and bad arguments, as INVALID_ARGUMENT', () => {
    expect(() => applyChanges(base, ['RUN rm -rf /'])).toThrow(/run is not a valid change command; --change \(docker commit, docker import\) takes CMD, ENTRYPOINT/);
    expect(() => applyChanges(base, ['FROBNICATE x'])).toThrow(/frobnicate is not a valid change command/);
    expect(() => applyChanges(base, ['EXPOSE http'])).toThrow('Invalid containerPort: http; use PORT[/PROTOCOL], e.g. 8080/tcp (in --change "EXPOSE http")');
    expect(() => applyChanges(base, ['STOPSIGNAL SIGINT'])).toThrow(/stopsignal is not a valid change command/);
    expect(() => applyChanges(base, ['ONBUILD FROM x'])).toThrow(/FROM isn't allowed as an ONBUILD trigger/);
    try {
      applyChanges(base, ['USER']);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('requires at least one argument') });
    }
  });
});
