import { describe, expect, it } from 'vitest';
import { filterTime, labelsMatch, parseFilters } from './filters.js';

describe('parseFilters', () => {
  it('takes both JSON forms and refuses names the endpoint does not take, never ignoring one', () => {
    expect(parseFilters('{"label":["a=b"],"name":{"x":true,"y":false}}', ['label', 'name'])).toEqual({ label: ['a=b'], name: ['x'] });
    expect(() => parseFilters('{"colour":["red"]}', ['label'])).toThrow("Invalid filter 'colour'");
    expect(() => parseFilters('{"expose":["80"]}', ['label'], ['expose'])).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', message: "the 'expose' filter is not supported by skiff" }));
    expect(() => parseFilters('[1]', [])).toThrow('expected a JSON object');
  });
});

describe('filterTime', () => {
  const now = Date.parse('2026-11-29T12:00:00Z');
  it('reads unix seconds, RFC 3339 and durations before now, as dockerd', () => {
    expect(filterTime('until', '1700000000', now)).toBe(1_700_000_000_000);
    expect(filterTime('until', '1700000000.5', now)).toBe(1_700_000_000_500);
    expect(filterTime('until', '2026-11-29T11:00:00Z', now)).toBe(now - 3_600_000);
    expect(filterTime('until', '1h30m', now)).toBe(now - 5_400_000);
    expect(filterTime('until', '10m', now)).toBe(now - 600_000);
    expect(filterTime('until', '45s', now)).toBe(now - 45_000);
    expect(() => filterTime('until', 'yesterday', now)).toThrow('invalid until filter "yesterday"');
  });
});

describe('labelsMatch', () => {
  it('needs every label and none of label!', () => {
    expect(labelsMatch({ a: '1', b: '2' }, { label: ['a', 'b=2'] })).toBe(true);
    expect(labelsMatch({ a: '1' }, { label: ['a=2'] })).toBe(false);
    expect(labelsMatch({ a: '1' }, { 'label!': ['a'] })).toBe(false);
    expect(labelsMatch({ a: '1' }, { 'label!': ['a=2'] })).toBe(true);
  });
});
