import { describe, expect, it } from 'vitest';
import { Router } from './router.js';

describe('Router', () => {
  const hit = (r: Router<null>, m: string, p: string) => r.match(m, p);
  const h = (name: string) => async () => void name;

  it('matches segments and multi-segment names (image names hold / and :)', () => {
    const r = new Router<null>().add('GET', '/images/json', h('list')).add('GET', '/images/:name+/json', h('inspect')).add('POST', '/images/:name+/push', h('push')).add('DELETE', '/images/:name+', h('rm'));
    expect(hit(r, 'GET', '/images/json')?.params).toEqual({});
    expect(hit(r, 'GET', '/images/localhost:5000/a/b:1/json')?.params).toEqual({ name: 'localhost:5000/a/b:1' });
    expect(hit(r, 'POST', '/images/localhost:5000/x/push')?.params).toEqual({ name: 'localhost:5000/x' });
    expect(hit(r, 'DELETE', '/images/busybox@sha256:abc')?.params).toEqual({ name: 'busybox@sha256:abc' });
    expect(hit(r, 'PUT', '/images/json')).toBeUndefined();
  });

  it('HEAD falls back to GET; a trailing slash is allowed', () => {
    const r = new Router<null>().add('GET', '/containers/:id/json', h('inspect'));
    expect(hit(r, 'HEAD', '/containers/abc/json')?.params).toEqual({ id: 'abc' });
    expect(hit(r, 'GET', '/containers/abc/json/')?.params).toEqual({ id: 'abc' });
    expect(hit(r, 'GET', '/containers/a/b/json')).toBeUndefined();
  });
});
