import { describe, expect, it } from 'vitest';
import { API_VERSION, MIN_API_VERSION, pingHeaders, splitVersion } from './api-version.js';

describe('API versions', () => {
  it('routes versioned and unversioned paths alike', () => {
    expect(splitVersion('/v1.49/containers/json')).toEqual({ version: '1.49', path: '/containers/json' });
    expect(splitVersion('/containers/json')).toEqual({ version: API_VERSION, path: '/containers/json' });
    expect(splitVersion(`/v${MIN_API_VERSION}/info`).path).toBe('/info');
    // A name that merely starts with v is not a version.
    expect(splitVersion('/volumes/v1')).toEqual({ version: API_VERSION, path: '/volumes/v1' });
  });

  it('refuses versions out of range, as dockerd does', () => {
    expect(() => splitVersion('/v1.99/info')).toThrow(/too new. Maximum supported API version is 1.50/);
    expect(() => splitVersion('/v1.12/info')).toThrow(/too old. Minimum supported API version is 1.24/);
    expect(() => splitVersion('/v2.0/info')).toThrow(/too new/);
  });

  it('the ping headers carry the version', () => {
    expect(pingHeaders()['Api-Version']).toBe(API_VERSION);
    expect(pingHeaders().Ostype).toBe('linux');
  });
});
