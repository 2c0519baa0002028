/**
 * A minimal Linux image from Debian's busybox-static: /bin/busybox with
 * /bin/true and /bin/sh, the usual mount points, /etc/passwd and group. The
 * same tar is the skiff image's layer and, unpacked by GNU tar, the rootfs of
 * the crun/runc bundle.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { TarWriter, type TarHeader } from '@skiff/sdk';

export function staticBusybox(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (!existsSync(p)) continue;
    // Only a static busybox runs in a root file system without a C library.
    const head = readFileSync(p).subarray(0, 4096);
    const dynamic = head.includes(Buffer.from('/lib64/ld-linux')) || execFileSync('file', ['-L', p], { encoding: 'utf8' }).includes('dynamically linked');
    if (!dynamic) return p;
  }
  return undefined;
}

export async function busyboxTar(busybox: string): Promise<Uint8Array> {
  const bb = new Uint8Array(readFileSync(busybox));
  const enc = new TextEncoder();
  const passwd = enc.encode('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  const group = enc.encode('root:x:0:\nnobody:x:65534:\n');
  const base = { uid: 0, gid: 0, mtime: 1_700_000_000, size: 0 };
  const dir = (path: string, mode = 0o755): TarHeader => ({ ...base, path, type: 'directory', mode });
  const w = new TarWriter();
  const parts: Uint8Array[] = [];
  const done = (async () => { for await (const p of w.readable as unknown as AsyncIterable<Uint8Array>) parts.push(p); })();
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'root', 'usr', 'var']) await w.add(dir(d));
  await w.add(dir('tmp', 0o1777));
  await w.add({ ...base, path: 'bin/busybox', type: 'file', mode: 0o755, size: bb.length }, bb);
  for (const a of ['true', 'sh', 'false', 'echo']) await w.add({ ...base, path: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' });
  await w.add({ ...base, path: 'etc/passwd', type: 'file', mode: 0o644, size: passwd.length }, passwd);
  await w.add({ ...base, path: 'etc/group', type: 'file', mode: 0o644, size: group.length }, group);
  await w.finish();
  await done;
  return Buffer.concat(parts);
}
