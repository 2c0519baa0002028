/**
 * A container's files: `docker cp` archives (GET reads, HEAD stats, PUT
 * extracts into a directory: Engine.importFiles), `docker export` and
 * `docker diff`.
 */
import { invalidArgument } from '../../errors/index.js';
import { autoDecompress } from '../../layers/compression.js';
import type { Router } from '../router.js';
import type { DaemonContext } from '../context.js';
import type { Exchange } from '../exchange.js';
import { containerChanges, containerPath } from '../container-files.js';

const archivePath = (x: Exchange) => {
  const p = x.str('path');
  if (!p) throw invalidArgument('the archive request needs a path');
  return p;
};

export function archiveRoutes(r: Router<DaemonContext>): void {
  r.add(['GET', 'HEAD'], '/containers/:id/archive', async (x, ctx) => {
    const rec = await ctx.engine.record(x.params.id!);
    const found = await containerPath(ctx.engine, rec, archivePath(x));
    const statHeader = Buffer.from(JSON.stringify(found.stat)).toString('base64');
    if (x.method === 'HEAD') return x.send(200, '', { 'X-Docker-Container-Path-Stat': statHeader, 'Content-Type': 'application/x-tar' });
    await x.pipe(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': statHeader }, found.archive());
  });
  r.add('GET', '/containers/:id/export', async (x, ctx) => {
    const rec = await ctx.engine.record(x.params.id!);
    const root = await containerPath(ctx.engine, rec, '/');
    await x.pipe(200, { 'Content-Type': 'application/x-tar' }, root.archive());
  });
  r.add('GET', '/containers/:id/changes', async (x, ctx) => {
    const rec = await ctx.engine.record(x.params.id!);
    const changes = await containerChanges(ctx.engine, rec);
    x.sendJson(200, changes.length ? changes : null);
  });
  // The docker CLI sends a tar of what to copy, rebased to the right names, and
  // the directory to extract it in (it has worked out file-to-dir and renames).
  r.add('PUT', '/containers/:id/archive', async (x, ctx) => {
    const rec = await ctx.engine.record(x.params.id!);
    const path = archivePath(x);
    const tar = await autoDecompress(x.bodyStream());
    await ctx.engine.importFiles(rec.id, path, tar, { noOverwriteDirNonDir: x.bool('noOverwriteDirNonDir'), copyUIDGID: x.bool('copyUIDGID') });
    ctx.events.emit('container', 'extract-to-dir', rec.id, ctx.containerAttributes(rec));
    x.send(200);
  });
}
