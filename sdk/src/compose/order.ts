/** The order services start in: dependencies first (depends_on, network_mode service:X), a cycle is an error. */
import { invalidArgument } from '../errors/index.js';
import type { ServiceConfig } from './model.js';

export function dependenciesOf(s: ServiceConfig): string[] {
  const deps = Object.keys(s.dependsOn);
  const m = /^service:(.+)$/.exec(s.networkMode ?? '');
  if (m && !deps.includes(m[1]!)) deps.push(m[1]!);
  return deps;
}

/** Services in start order; among independent ones, the file's order. */
export function startOrder(services: Record<string, ServiceConfig>): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw invalidArgument(`dependency cycle between services: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const d of dependenciesOf(services[name]!)) visit(d, [...path, name]);
    state.set(name, 'done');
    out.push(name);
  };
  for (const name of Object.keys(services)) visit(name, []);
  return out;
}

/** `names` plus everything they depend on, transitively. */
export function withDependencies(services: Record<string, ServiceConfig>, names: string[]): Set<string> {
  const out = new Set<string>();
  const add = (n: string) => {
    if (out.has(n)) return;
    if (!services[n]) throw invalidArgument(`no such service: ${n}`);
    out.add(n);
    for (const d of dependenciesOf(services[n]!)) add(d);
  };
  names.forEach(add);
  return out;
}
