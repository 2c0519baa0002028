/**
 * Which base URL a registry domain is reached at. Plain http only for loopback
 * registries and ones the user lists as insecure; https otherwise.
 */
import { invalidArgument } from '../errors/index.js';

/** The host part of `host`, `host:port`, `[v6]:port`, lowercased. */
export function hostOf(domain: string): string {
  const d = domain.toLowerCase();
  if (d.startsWith('[')) return d.slice(0, d.indexOf(']') + 1);
  const colon = d.lastIndexOf(':');
  return colon >= 0 ? d.slice(0, colon) : d;
}

export function isLoopback(domain: string): boolean {
  const h = hostOf(domain);
  return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Whether plain http may be used for `domain`: loopback, or listed (with or without the port). */
export function mayUseHttp(domain: string, insecure: string[] = []): boolean {
  if (isLoopback(domain)) return true;
  const d = domain.toLowerCase();
  return insecure.some((i) => {
    const x = i.toLowerCase().replace(/^https?:\/\//, '').replace(/\/+$/, '');
    return x === d || x === hostOf(d);
  });
}

/** `https://DOMAIN`, `http://DOMAIN` for loopback/insecure, or the configured endpoint. */
export function baseUrlOf(domain: string, options: { insecure?: string[]; endpoints?: Record<string, string> } = {}): string {
  const configured = options.endpoints?.[domain];
  if (configured) {
    let u: URL;
    try {
      u = new URL(configured);
    } catch {
      throw invalidArgument(`the endpoint "${configured}" for registry ${domain} is not a URL`);
    }
    if (u.protocol === 'http:' && !mayUseHttp(u.host, options.insecure) && !mayUseHttp(domain, options.insecure)) {
      throw invalidArgument(`the endpoint ${configured} for registry ${domain} is plain http; list ${domain} as insecure to allow that`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalidArgument(`the endpoint ${configured} for registry ${domain} must be http(s)`);
    return configured.replace(/\/+$/, '');
  }
  return `${mayUseHttp(domain, options.insecure) ? 'http' : 'https'}://${domain}`;
}
