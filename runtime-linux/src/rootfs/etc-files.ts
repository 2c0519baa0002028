/** The files bound over the container's /etc/hostname, /etc/hosts and (host network) /etc/resolv.conf. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { ContainerSpec } from '@skiff/sdk';
import type { ContainerDir } from '../state.js';

export function writeEtcFiles(dir: ContainerDir, spec: ContainerSpec): void {
  const hostname = spec.hostname ?? spec.id.slice(0, 12);
  writeFileSync(dir.file('hostname'), `${hostname}\n`);
  if (spec.network === 'host') {
    writeFileSync(dir.file('hosts'), (safeRead('/etc/hosts') ?? '127.0.0.1\tlocalhost\n') + extraHosts(spec));
    writeFileSync(dir.file('resolv.conf'), safeRead('/etc/resolv.conf') ?? '');
  } else {
    writeFileSync(dir.file('hosts'), `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t${hostname}\n${extraHosts(spec)}`);
  }
}

/** `--add-host name:ip` lines, as docker writes them (address, tab, name). */
function extraHosts(spec: ContainerSpec): string {
  return (spec.extraHosts ?? []).map((h) => {
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
