import { describe, it, expect } from 'vitest';
import { Engine } from '../runtime/engine.js';
import { MemoryImageLayout } from '../content/memory.js';
import { Builder } from './builder.js';
import { MemoryBuildCache } from './cache.js';
import { MemoryContext } from './context.js';
import { stageFiles } from './layer-io.js';
import { parseOwner, resolveOwner } from './owner.js';

const PLATFORM = [{ os: 'wasip1', architecture: 'wasm' }];
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nsvc:x:1001:50::/:/bin/false\n';
const GROUP = 'root:x:0:\napp:x:1000:\nstaff:x:50:svc\n';

describe('--chown by name', () => {
  it('looks names up in the stage\'s own /etc/passwd and /etc/group at that step', async () => {
    const engine = new Engine({ layout: new MemoryImageLayout(), backends: [] });
    const builder = new Builder(engine, new MemoryBuildCache());
    const ctx = new MemoryContext()
      .add('Dockerfile', [
        'FROM scratch',
        'COPY passwd group /etc/',
        'COPY --chown=app:staff f /a',
        'COPY --chown=app f /b',
        'COPY --chown=svc f /c',
        'COPY --chown=1001 f /d',
        'ARG WHO=app',
        'COPY --chown=${WHO}:0 f /e',
      ].join('\n') + '\n')
      .add('passwd', PASSWD).add('group', GROUP).add('f', 'x');
    const r = await builder.build({ context: ctx, tags: ['own:1'], platform: 'wasip1/wasm' });
    const img = await engine.images.resolve('own:1', PLATFORM);
    const files = await stageFiles(engine.layout, img.manifest.layers);
    expect(files.get('a')).toMatchObject({ uid: 1000, gid: 50 });
    expect(files.get('b')).toMatchObject({ uid: 1000, gid: 1000 });
    // No group named svc: the user's primary group.
    expect(files.get('c')).toMatchObject({ uid: 1001, gid: 50 });
    expect(files.get('d')).toMatchObject({ uid: 1001, gid: 1001 });
    expect(files.get('e')).toMatchObject({ uid: 1000, gid: 0 });
    const again = await builder.build({ context: ctx, tags: ['own:1'], platform: 'wasip1/wasm' });
    expect(again.id).toBe(r.id);
  });

  it('names the unknown user or group, and a missing /etc/passwd', async () => {
    const builder = new Builder(new Engine({ layout: new MemoryImageLayout(), backends: [] }), new MemoryBuildCache());
    const withEtc = (line: string) => new MemoryContext().add('Dockerfile', `FROM scratch\nCOPY passwd group /etc/\n${line}\n`).add('passwd', PASSWD).add('group', GROUP).add('f', 'x');
    await expect(builder.build({ context: withEtc('COPY --chown=bob f /f'), platform: 'wasip1/wasm' })).rejects.toThrowError(/^Dockerfile:3:1: COPY: --chown=bob: no user "bob" in the image's \/etc\/passwd/);
    await expect(builder.build({ context: withEtc('COPY --chown=app:wheel f /f'), platform: 'wasip1/wasm' })).rejects.toThrowError(/--chown=app:wheel: no group "wheel" in the image's \/etc\/group/);
    const bare = new MemoryContext().add('Dockerfile', 'FROM scratch\nCOPY --chown=app f /f\n').add('f', 'x');
    await expect(builder.build({ context: bare, platform: 'wasip1/wasm' })).rejects.toThrowError(/the image has no \/etc\/passwd to look up the user "app"/);
    const bad = new MemoryContext().add('Dockerfile', 'FROM scratch\nCOPY --chown=a:b:c f /f\n').add('f', 'x');
    await expect(builder.build({ context: bad, platform: 'wasip1/wasm' })).rejects.toThrowError(/invalid --chown "a:b:c"/);
  });

  it('parses and resolves numeric IDs without any files', () => {
    expect(parseOwner('10:11')).toEqual({ user: '10', group: '11' });
    expect(parseOwner('a:')).toBeUndefined();
    expect(resolveOwner({ user: '10' }, undefined, (m) => { throw new Error(m); })).toEqual({ uid: 10, gid: 10 });
  });
});
