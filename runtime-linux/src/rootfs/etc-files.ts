/** The files bound over the container's /etc/hostname, /etc/hosts and /etc/resolv.conf. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { ContainerSpec } from '@skiff/sdk';
import { resolvConf } from '@skiff/sdk';
import type { ContainerDir } from '../state.js';

/** `networkHosts`: the peers on the container's user-defined networks (`name:ip`), rewritten in place as they change. */
export function writeEtcFiles(dir: ContainerDir, spec: ContainerSpec, networkHosts: string[] = []): void {
  // Also with --uts host: dockerd writes the container's name here and in HOSTNAME, not the host's.
  const hostname = spec.hostname ?? spec.id.slice(0, 12);
  writeFileSync(dir.file('hostname'), `${hostname}\n`);
  if (spec.network === 'host') {
    writeFileSync(dir.file('hosts'), (safeRead('/etc/hosts') ?? '127.0.0.1\tlocalhost\n') + hostLines(spec.extraHosts ?? []));
    writeFileSync(dir.file('resolv.conf'), spec.dns ? dnsResolvConf(spec) : (safeRead('/etc/resolv.conf') ?? ''));
  } else {
    // As dockerd in every mode: the host's resolv.conf (its loopback servers dropped), with --dns* over it.
    writeFileSync(dir.file('resolv.conf'), dnsResolvConf(spec));
    // docker's default lines, then the container's own name (docker gives it only an address on a
    // network; skiff names it on loopback too, so `hostname -i` and sudo resolve), then --add-host and peers.
    writeFileSync(dir.file('hosts'), `${DOCKER_HOSTS}127.0.0.1\t${hostname}\n${hostLines([...(spec.extraHosts ?? []), ...networkHosts])}`);
  }
}

/** The lines docker's /etc/hosts starts with (libnetwork's etchosts defaults). */
const DOCKER_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

/** resolv.conf with --dns, --dns-search, --dns-option over the host's, as dockerd writes it. */
function dnsResolvConf(spec: ContainerSpec): string {
  const d = spec.dns ?? {};
  return resolvConf(safeRead('/etc/resolv.conf') ?? '', { ...(d.servers ? { dns: d.servers } : {}), ...(d.search ? { dnsSearch: d.search } : {}), ...(d.options ? { dnsOptions: d.options } : {}) }, spec.network === 'host');
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
