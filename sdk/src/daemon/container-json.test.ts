import { describe, expect, it } from 'vitest';
import { humanDuration } from './container-json.js';

describe('humanDuration (docker ps STATUS)', () => {
  it.each([
    [500, 'Less than a second'], [1000, '1 second'], [42_000, '42 seconds'], [61_000, 'About a minute'], [5 * 60_000, '5 minutes'],
    [60 * 60_000, 'About an hour'], [3 * 3_600_000, '3 hours'], [3 * 86_400_000, '3 days'], [20 * 86_400_000, '2 weeks'], [90 * 86_400_000, '3 months'], [800 * 86_400_000, '2 years'],
  ])('%d ms -> %s', (ms, text) => expect(humanDuration(ms)).toBe(text));
});
