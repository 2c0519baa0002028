import { describe, expect, it } from 'vitest';
import { jsonLogLines, logTimestamp, parseLogLine, splitLines } from './logs.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('docker json-file log lines', () => {
  it('keep the nanoseconds of the time they were written with, and print them as docker logs -t does', () => {
    const e = parseLogLine('{"log":"hi\\n","stream":"stdout","time":"2026-11-29T13:22:16.086687650Z"}')!;
    expect(e).toMatchObject({ stream: 'stdout', time: Date.parse('2026-11-29T13:22:16.086Z'), nanos: 687650 });
    expect(logTimestamp(e)).toBe('2026-11-29T13:22:16.086687650Z');
    // Fewer digits (RFC 3339 trims trailing zeros) and none beyond the milliseconds.
    expect(logTimestamp(parseLogLine('{"log":"x","stream":"stderr","time":"2026-11-29T13:22:16.0866Z"}')!)).toBe('2026-11-29T13:22:16.086600000Z');
    expect(logTimestamp(parseLogLine('{"log":"x","stream":"stderr","time":"2026-11-29T13:22:16.086Z"}')!)).toBe('2026-11-29T13:22:16.086000000Z');
  });

  it('write one line per line of output, read back to the same bytes', () => {
    const e = { stream: 'stdout' as const, time: Date.parse('2026-11-29T10:00:00.123Z'), data: enc('a\nb') };
    const lines = jsonLogLines(e).split('\n').filter(Boolean);
    expect(lines).toEqual(['{"log":"a\\n","stream":"stdout","time":"2026-11-29T10:00:00.123Z"}', '{"log":"b","stream":"stdout","time":"2026-11-29T10:00:00.123Z"}']);
    expect(lines.map((l) => new TextDecoder().decode(parseLogLine(l)!.data))).toEqual(splitLines([e]).map((l) => new TextDecoder().decode(l.data)));
  });
});
