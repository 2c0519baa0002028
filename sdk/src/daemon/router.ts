/**
 * Method + path routing for the API. Patterns use `:name` for one segment and
 * `:name+` for one or more (image names hold `/` and `:`, unescaped by the CLI:
 * `/images/localhost:5000/x/push`). Routes are tried in the order added.
 */
import type { Exchange } from './exchange.js';

export type Handler<C> = (x: Exchange, ctx: C) => Promise<void>;

interface Route<C> {
  method: string;
  regex: RegExp;
  keys: string[];
  handler: Handler<C>;
}

export class Router<C> {
  private routes: Array<Route<C>> = [];

  add(method: string | string[], pattern: string, handler: Handler<C>): this {
    const keys: string[] = [];
    const source = pattern
      .split('/')
      .map((seg) => {
        if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const many = seg.endsWith('+');
        keys.push(many ? seg.slice(1, -1) : seg.slice(1));
        return many ? '(.+)' : '([^/]+)';
      })
      .join('/');
    for (const m of Array.isArray(method) ? method : [method]) {
      this.routes.push({ method: m, regex: new RegExp(`^${source}/?$`), keys, handler });
    }
    return this;
  }

  /** The handler for a request; HEAD falls back to GET. */
  match(method: string, path: string): { handler: Handler<C>; params: Record<string, string> } | undefined {
    const tryMethod = (m: string) => {
      for (const r of this.routes) {
        if (r.method !== m) continue;
        const hit = r.regex.exec(path);
        if (!hit) continue;
        const params: Record<string, string> = {};
        r.keys.forEach((k, i) => (params[k] = hit[i + 1]!));
        return { handler: r.handler, params };
      }
      return undefined;
    };
    return tryMethod(method) ?? (method === 'HEAD' ? tryMethod('GET') : undefined);
  }
}
