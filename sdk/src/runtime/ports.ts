/**
 * Published ports (`docker run -p`): parsing docker's spec strings into
 * PortMappings. The forms are docker's own:
 *
 *   80                    a host port the kernel picks, on every address
 *   8080:80               host port 8080
 *   127.0.0.1:8080:80     on one address
 *   127.0.0.1::80         one address, a host port the kernel picks
 *   [::1]:8080:80         an IPv6 address
 *   8080-8081:80-81/tcp   ranges of equal length; `/udp` for UDP
 */
import { invalidArgument } from '../errors/index.js';
import type { PortMapping } from './backend.js';

function port(text: string, spec: string, what: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) throw invalidArgument(`invalid ${what} "${text}" in port spec "${spec}": it must be a number from 1 to 65535`);
  return n;
}

function range(text: string, spec: string, what: string): number[] {
  const [a, b] = text.split('-') as [string, string?];
  const lo = port(a, spec, what);
  const hi = b === undefined ? lo : port(b, spec, what);
  if (hi < lo) throw invalidArgument(`invalid ${what} range "${text}" in port spec "${spec}": the end is below the start`);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** Parses one `-p` spec into mappings (more than one for a range). */
export function parsePortSpec(spec: string): PortMapping[] {
  let rest = spec.trim();
  let protocol: PortMapping['protocol'] = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp') throw invalidArgument(`invalid protocol "${p}" in port spec "${spec}": use tcp or udp`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIp = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']:');
    if (close < 0) throw invalidArgument(`invalid port spec "${spec}": an IPv6 address goes in brackets, e.g. [::1]:8080:80`);
    hostIp = rest.slice(1, close);
    rest = rest.slice(close + 2);
  }
  const parts = rest.split(':');
  if (!hostIp && parts.length === 3) hostIp = parts.shift()!;
  if (parts.length > 2 || parts.some((p, i) => p === '' && i === parts.length - 1)) {
    throw invalidArgument(`invalid port spec "${spec}": use [IP:][HOSTPORT:]CONTAINERPORT[/PROTOCOL], e.g. 8080:80 or 127.0.0.1::80`);
  }
  if (hostIp && !/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)$/.test(hostIp)) throw invalidArgument(`invalid host address "${hostIp}" in port spec "${spec}": give an IP address`);
  const containerPorts = range(parts[parts.length - 1]!, spec, 'container port');
  if (containerPorts.includes(0)) throw invalidArgument(`invalid container port 0 in port spec "${spec}"`);
  const hostText = parts.length === 2 ? parts[0]! : '';
  const hostPorts = hostText === '' ? containerPorts.map(() => 0) : range(hostText, spec, 'host port');
  if (hostPorts.length !== containerPorts.length) throw invalidArgument(`invalid port spec "${spec}": the host and container port ranges differ in length`);
  return containerPorts.map((containerPort, i) => ({ containerPort, protocol, hostIp, hostPort: hostPorts[i]! }));
}

/** docker's key for a container port: `80/tcp`. */
export function portKey(m: Pick<PortMapping, 'containerPort' | 'protocol'>): string {
  return `${m.containerPort}/${m.protocol}`;
}

/** The mappings a create asks for, from `-p` strings or mappings, checked; `-P` adds the image's exposed ports. */
export function resolvePorts(o: { ports?: Array<string | PortMapping>; publishAll?: boolean }, exposed: Record<string, object> = {}): PortMapping[] {
  const out: PortMapping[] = [];
  for (const p of o.ports ?? []) {
    if (typeof p === 'string') out.push(...parsePortSpec(p));
    else {
      if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) throw invalidArgument(`invalid container port ${p.containerPort}: it must be a number from 1 to 65535`);
      if (!Number.isInteger(p.hostPort) || p.hostPort < 0 || p.hostPort > 65535) throw invalidArgument(`invalid host port ${p.hostPort}: it must be a number from 0 (any) to 65535`);
      if (p.protocol !== 'tcp' && p.protocol !== 'udp') throw invalidArgument(`invalid protocol "${String(p.protocol)}": use tcp or udp`);
      out.push({ containerPort: p.containerPort, protocol: p.protocol, hostIp: p.hostIp ?? '', hostPort: p.hostPort });
    }
  }
  if (o.publishAll) {
    for (const key of Object.keys(exposed)) {
      const [m] = parsePortSpec(key);
      if (m && !out.some((p) => portKey(p) === portKey(m))) out.push(m);
    }
  }
  return out;
}
