import { describe, it, expect } from 'vitest';
import { Engine } from '../runtime/engine.js';
import { MemoryImageLayout } from '../content/memory.js';
import { Builder } from './builder.js';
import { MemoryBuildCache } from './cache.js';
import { MemoryContext } from './context.js';
import { stageFiles } from './layer-io.js';

function setup() {
  const engine = new Engine({ layout: new MemoryImageLayout(), backends: [] });
  const cache = new MemoryBuildCache();
  return { engine, builder: new Builder(engine, cache), cache };
}

const dockerfile = `
ARG VERSION=1
FROM scratch AS base
ARG VERSION
ENV APP=/app GREETING="hello world"
WORKDIR $APP
COPY --chmod=755 bin/ ./bin/
COPY README.md ./
LABEL version=$VERSION
FROM base AS final
COPY --from=base /app/README.md /docs/
ENTRYPOINT ["/app/bin/tool.wasm"]
CMD ["--help"]
USER 1000:1000
EXPOSE 8080
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --retries=2 CMD ["/app/bin/tool.wasm", "check"]
`;

function context(readme = 'read me\n') {
  return new MemoryContext().add('Dockerfile', dockerfile).add('bin/tool.wasm', 'wasm bytes').add('bin/sub/x', 'x').add('README.md', readme).add('.dockerignore', 'secret.txt\n').add('secret.txt', 'no');
}

describe('Builder (metadata and file steps)', () => {
  it('builds an image with the config and files the Dockerfile describes', async () => {
    const { engine, builder } = setup();
    const r = await builder.build({ context: context(), tags: ['demo:1', 'demo:latest'], platform: 'wasip1/wasm', buildArgs: { VERSION: '2' } });
    expect(r.names).toEqual(['demo:1', 'demo:latest']);
    const img = await engine.images.resolve('demo:1', [{ os: 'wasip1', architecture: 'wasm' }]);
    expect(img.id).toBe(r.id);
    const c = img.config.config!;
    expect(c.Env).toEqual(['APP=/app', 'GREETING=hello world']);
    expect(c.WorkingDir).toBe('/app');
    expect(c.Entrypoint).toEqual(['/app/bin/tool.wasm']);
    expect(c.Cmd).toEqual(['--help']);
    expect(c.User).toBe('1000:1000');
    expect(c.Labels).toEqual({ version: '2' });
    expect(c.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(c.Volumes).toEqual({ '/data': {} });
    expect(c.Healthcheck).toEqual({ Test: ['CMD', '/app/bin/tool.wasm', 'check'], Interval: 30e9, Retries: 2 });
    expect(img.config.os).toBe('wasip1');
    const files = await stageFiles(engine.layout, img.manifest.layers);
    expect(new TextDecoder().decode(files.get('app/bin/tool.wasm')!.data)).toBe('wasm bytes');
    expect(files.get('app/bin/tool.wasm')!.mode).toBe(0o755);
    expect(files.has('app/bin/sub/x')).toBe(true);
    expect(new TextDecoder().decode(files.get('docs/README.md')!.data)).toBe('read me\n');
    expect(files.has('app/secret.txt')).toBe(false);
    expect(img.config.history?.length).toBeGreaterThan(5);
  });

  it('COPY keeps the source\'s modification time, as docker does; SOURCE_DATE_EPOCH caps it', async () => {
    const ctx = () => new MemoryContext().add('Dockerfile', 'FROM scratch\nCOPY a.txt dir /x/\n')
      .addEntry({ path: 'a.txt', type: 'file', mode: 0o644, size: 2, mtime: 1_700_000_000 }, new TextEncoder().encode('a\n'))
      .addEntry({ path: 'dir', type: 'directory', mode: 0o755, size: 0, mtime: 1_600_000_000 })
      .addEntry({ path: 'dir/b', type: 'file', mode: 0o644, size: 0, mtime: 1_650_000_000 });
    const { engine, builder } = setup();
    const plain = await builder.build({ context: ctx(), tags: ['mt:1'], platform: 'wasip1/wasm' });
    const files = await stageFiles(engine.layout, (await engine.images.resolve(plain.names[0]!, [{ os: 'wasip1', architecture: 'wasm' }])).manifest.layers);
    expect([files.get('x/a.txt')!.mtime, files.get('x/b')!.mtime]).toEqual([1_700_000_000, 1_650_000_000]);
    const capped = await setup().builder.build({ context: ctx(), tags: ['mt:2'], platform: 'wasip1/wasm', sourceDateEpoch: 1_660_000_000 });
    expect(capped.id).not.toBe(plain.id);
  });

  it('reuses the cache: an unchanged rebuild gives the same digest, a changed source rebuilds from its step', async () => {
    const { builder } = setup();
    const a = await builder.build({ context: context(), tags: ['demo:1'], platform: 'wasip1/wasm' });
    const b = await builder.build({ context: context(), tags: ['demo:1'], platform: 'wasip1/wasm' });
    expect(b.id).toBe(a.id);
    expect(b.manifest.digest).toBe(a.manifest.digest);
    expect(b.cached).toBeGreaterThan(8);
    const c = await builder.build({ context: context('changed\n'), tags: ['demo:1'], platform: 'wasip1/wasm' });
    expect(c.id).not.toBe(a.id);
    expect(c.cached).toBeLessThan(b.cached);
    const d = await builder.build({ context: context(), tags: ['demo:1'], platform: 'wasip1/wasm', noCache: true, sourceDateEpoch: 1000 });
    expect(d.cached).toBe(0);
    const e = await setup().builder.build({ context: context(), tags: ['demo:1'], platform: 'wasip1/wasm', noCache: true, sourceDateEpoch: 1000 });
    expect(e.id).toBe(d.id);
  });

  it('builds only up to --target', async () => {
    const { engine, builder } = setup();
    await builder.build({ context: context(), tags: ['base:1'], platform: 'wasip1/wasm', target: 'base' });
    const img = await engine.images.resolve('base:1', [{ os: 'wasip1', architecture: 'wasm' }]);
    expect(img.config.config?.Entrypoint).toBeUndefined();
    await expect(builder.build({ context: context(), platform: 'wasip1/wasm', target: 'nope' })).rejects.toThrowError(/target stage "nope"/);
  });

  it('fails with file:line errors and leaves no image behind', async () => {
    const { engine, builder } = setup();
    const bad = new MemoryContext().add('Dockerfile', 'FROM scratch\nCOPY missing.txt /x\n');
    await expect(builder.build({ context: bad, tags: ['bad:1'], platform: 'wasip1/wasm' })).rejects.toThrowError(/^Dockerfile:2:1: COPY: no source files/);
    const syntax = new MemoryContext().add('Dockerfile', 'FROM scratch\nNOPE\n');
    await expect(builder.build({ context: syntax, tags: ['bad:1'], platform: 'wasip1/wasm' })).rejects.toThrowError(/Dockerfile:2:1: unknown instruction/);
    expect((await engine.images.list()).length).toBe(0);
    const run = new MemoryContext().add('Dockerfile', 'FROM scratch\nRUN echo hi\n');
    await expect(builder.build({ context: run, tags: ['bad:1'], platform: 'wasip1/wasm' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect((await engine.images.list()).map((i) => i.names)).toEqual([]);
  });
});
