import { describe, it, expect } from 'vitest';
import { assertCan, canDo } from './state.js';

describe('container state machine', () => {
  it('allows only valid transitions', () => {
    expect(canDo('created', 'start')).toBe(true);
    expect(canDo('exited', 'start')).toBe(true);
    expect(canDo('running', 'start')).toBe(false);
    expect(canDo('running', 'remove')).toBe(false);
    expect(canDo('exited', 'exec')).toBe(false);
    expect(() => assertCan('running', 'start', 'web')).toThrowError(expect.objectContaining({ code: 'CONFLICT', message: 'container web is already running' }));
    expect(() => assertCan('exited', 'kill', 'web')).toThrowError(/not running/);
  });
});
