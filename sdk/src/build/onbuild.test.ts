import { describe, it, expect } from 'vitest';
import { Engine } from '../runtime/engine.js';
import { MemoryImageLayout } from '../content/memory.js';
import { Builder } from './builder.js';
import { MemoryBuildCache } from './cache.js';
import { MemoryContext } from './context.js';
import { stageFiles } from './layer-io.js';
import { parseDockerfile } from './dockerfile/parser.js';

const PLATFORM = [{ os: 'wasip1', architecture: 'wasm' }];

function setup() {
  const engine = new Engine({ layout: new MemoryImageLayout(), backends: [] });
  return { engine, builder: new Builder(engine, new MemoryBuildCache()) };
}

describe('ONBUILD', () => {
  it('is recorded in the config and runs when a later build uses the image in FROM', async () => {
    const { engine, builder } = setup();
    const base = new MemoryContext().add('Dockerfile', 'FROM scratch\nENV WHO=base\nONBUILD COPY app.txt /app/\nONBUILD ENV WHO=child-of-$WHO\n');
    await builder.build({ context: base, tags: ['base:1'], platform: 'wasip1/wasm' });
    const b = await engine.images.resolve('base:1', PLATFORM);
    expect(b.config.config?.OnBuild).toEqual(['COPY app.txt /app/', 'ENV WHO=child-of-$WHO']);
    expect(b.manifest.layers).toHaveLength(0);

    const out: string[] = [];
    const child = new MemoryContext().add('Dockerfile', 'FROM base:1\nLABEL x=1\n').add('app.txt', 'from the child context');
    const r = await builder.build({ context: child, tags: ['child:1'], platform: 'wasip1/wasm', onProgress: (e) => { if (e.type === 'output') out.push(new TextDecoder().decode(e.data)); } });
    expect(out.join('')).toContain('# Executing 2 build triggers');
    const c = await engine.images.resolve('child:1', PLATFORM);
    // Triggers run in the child's context, with the child's variables, and are not passed on.
    expect(c.config.config?.Env).toEqual(['WHO=child-of-base']);
    expect(c.config.config?.OnBuild).toBeUndefined();
    expect(c.config.config?.Labels).toEqual({ x: '1' });
    const files = await stageFiles(engine.layout, c.manifest.layers);
    expect(new TextDecoder().decode(files.get('app/app.txt')!.data)).toBe('from the child context');
    // A rebuild reuses the triggers' steps too.
    const again = await builder.build({ context: child, tags: ['child:1'], platform: 'wasip1/wasm' });
    expect(again.id).toBe(r.id);
    expect(again.cached).toBe(3); // the two triggers and LABEL
    // A grandchild does not run the triggers again.
    const grand = await builder.build({ context: new MemoryContext().add('Dockerfile', 'FROM child:1\nENV G=1\n'), platform: 'wasip1/wasm' });
    expect(grand.steps).toBe(2);
  });

  it('names the FROM line and the trigger when a trigger fails', async () => {
    const { builder } = setup();
    await builder.build({ context: new MemoryContext().add('Dockerfile', 'FROM scratch\nONBUILD COPY needed.txt /\n'), tags: ['needs:1'], platform: 'wasip1/wasm' });
    const child = new MemoryContext().add('Dockerfile', 'ARG X=1\nFROM needs:1\n');
    await expect(builder.build({ context: child, platform: 'wasip1/wasm' })).rejects.toThrowError(/^Dockerfile:2:1: COPY: no source files were specified: "needed.txt".*\(in the ONBUILD trigger "COPY needed.txt \/" of needs:1\)$/);
  });

  it('runs the triggers of an earlier stage used in FROM', async () => {
    const { engine, builder } = setup();
    const ctx = new MemoryContext().add('Dockerfile', 'FROM scratch AS base\nONBUILD LABEL triggered=yes\nFROM base\nENV A=1\n');
    await builder.build({ context: ctx, tags: ['staged:1'], platform: 'wasip1/wasm' });
    const img = await engine.images.resolve('staged:1', PLATFORM);
    expect(img.config.config?.Labels).toEqual({ triggered: 'yes' });
    expect(img.config.config?.OnBuild).toBeUndefined();
  });

  it('refuses ONBUILD ONBUILD, FROM and MAINTAINER with the line', () => {
    expect(() => parseDockerfile('FROM scratch\nONBUILD ONBUILD RUN x\n')).toThrowError(/^Dockerfile:2:1: ONBUILD: chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/);
    expect(() => parseDockerfile('FROM scratch\n\nONBUILD FROM busybox\n')).toThrowError(/^Dockerfile:3:1: ONBUILD: FROM isn't allowed as an ONBUILD trigger/);
    expect(() => parseDockerfile('FROM scratch\nONBUILD maintainer me\n')).toThrowError(/Dockerfile:2:1: ONBUILD: MAINTAINER isn't allowed/);
    expect(() => parseDockerfile('FROM scratch\nONBUILD BOGUS x\n')).toThrowError(/Dockerfile:2:1: ONBUILD: invalid trigger: unknown instruction: BOGUS/);
    expect(() => parseDockerfile('FROM scratch\nONBUILD\n')).toThrowError(/Dockerfile:2:1: ONBUILD: requires at least one argument/);
  });
});
