/** The files bound over the container's /etc/hostname, /etc/hosts and (host network) /etc/resolv.conf. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { ContainerSpec } from '@skiff/sdk';
import type { ContainerDir } from '../state.js';

/** `networkHosts`: the peers on the container's user-defined networks (`name:ip`), rewritten in place as they change. */
export function writeEtcFiles(dir: ContainerDir, spec: ContainerSpec, networkHosts: string[] = []): void {
  const hostname = spec.hostname ?? spec.id.slice(0, 12);
  writeFileSync(dir.file('hostname'), `${hostname}\n`);
  if (spec.network === 'host') {
    writeFileSync(dir.file('hosts'), (safeRead('/etc/hosts') ?? '127.0.0.1\tlocalhost\n') + hostLines(spec.extraHosts ?? []));
    writeFileSync(dir.file('resolv.conf'), safeRead('/etc/resolv.conf') ?? '');
  } else {
    writeFileSync(dir.file('hosts'), `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t${hostname}\n${hostLines([...(spec.extraHosts ?? []), ...networkHosts])}`);
  }
}

/** `--add-host name:ip` lines, as docker writes them (address, tab, name). */
function hostLines(hosts: string[]): string {
  return hosts.map((h) => {
    const i = h.indexOf(':');
    return `${h.slice(i + 1)}\t${h.slice(0, i)}\n`;
  }).join('');
}

function safeRead(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}
