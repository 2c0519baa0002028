/**
 * `POST /build`: the classic builder's API (the docker CLI here has no
 * buildx, so it always uses this). The body is the context as a tar; the
 * answer streams the steps as JSON lines. The daemon is given a builder;
 * without one, builds are refused with a clear error.
 */
import { invalidArgument, unsupported } from '../../errors/index.js';
import { familiarName, parseReference } from '../../image/reference.js';
import { autoDecompress } from '../../layers/compression.js';
import { contextFromTar } from '../../build/tar-context.js';
import { resultText, stepText } from '../../build/progress-text.js';
import type { BuildOptions } from '../../build/builder.js';
import type { Router } from '../router.js';
import type { DaemonContext } from '../context.js';
import { JsonLines } from '../progress-stream.js';

export function buildRoutes(r: Router<DaemonContext>): void {
  r.add('POST', '/build', async (x, ctx) => {
    if (!ctx.builder) throw unsupported('this daemon has no image builder: image builds (docker build) are not available');
    if (x.str('remote')) throw unsupported('building from a remote context (a URL) is not supported; send the context as a tar');
    if (x.str('version') === '2') throw unsupported('BuildKit builds are not supported; use the classic builder (DOCKER_BUILDKIT=0)');
    const record = (name: string) => {
      const v = x.queryJson<Record<string, string | null>>(name) ?? {};
      if (typeof v !== 'object' || Array.isArray(v)) throw invalidArgument(`invalid ${name}: expected a JSON object`);
      return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
    };
    const quiet = x.bool('q');
    const options: BuildOptions = {
      context: await contextFromTar(await autoDecompress(x.bodyStream())),
      dockerfile: x.str('dockerfile') ?? 'Dockerfile',
      tags: x.query.getAll('t').filter(Boolean),
      buildArgs: record('buildargs'),
      labels: record('labels'),
      ...(x.str('target') ? { target: x.str('target')! } : {}),
      ...(x.bool('nocache') ? { noCache: true } : {}),
      ...(x.str('platform') ? { platform: x.str('platform')! } : {}),
    };
    const lines = new JsonLines(x, false);
    // RUN output may split a character between chunks.
    const dec = new TextDecoder();
    const say = (text: string) => (quiet ? undefined : void lines.send({ stream: text }));
    try {
      const result = await ctx.builder({
        ...options,
        onProgress: (e) => {
          const text = stepText(e, dec);
          if (text) say(text);
        },
      });
      await lines.send({ aux: { ID: result.id } });
      if (quiet) await lines.send({ stream: `${result.id}\n` });
      else for (const line of resultText(result.id, result.names)) await lines.send({ stream: line });
      for (const n of result.names) ctx.events.emit('image', 'tag', familiarName(parseReference(n)), { name: familiarName(parseReference(n)) });
      await lines.end();
    } catch (err) {
      await lines.fail(err);
    }
  });

  r.add('POST', '/build/prune', async (x) => x.sendJson(200, { CachesDeleted: [], SpaceReclaimed: 0 }));
  r.add('POST', '/session', async () => {
    throw unsupported('BuildKit sessions are not supported; use the classic builder (DOCKER_BUILDKIT=0)');
  });
}
