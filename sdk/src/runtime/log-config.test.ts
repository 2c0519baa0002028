import { describe, expect, it } from 'vitest';
import { checkLogConfig, logLimits, parseLogOpts, parseLogSize, resolveLogConfig } from './log-config.js';
import { MemoryLogStore, logLineSize, type LogEntry } from './logs.js';

describe('log config', () => {
  it('parses max-size as docker does (decimal units) and max-file', () => {
    expect(parseLogSize('10m')).toBe(10_000_000);
    expect(parseLogSize('100k')).toBe(100_000);
    expect(parseLogSize('1g')).toBe(1_000_000_000);
    expect(parseLogSize('2048')).toBe(2048);
    expect(parseLogSize('1.5MB')).toBe(1_500_000);
    expect(logLimits(checkLogConfig({ type: 'json-file', config: { 'max-size': '10m', 'max-file': '3' } }))).toEqual({ maxSize: 10_000_000, maxFiles: 3 });
    expect(logLimits(checkLogConfig({ type: 'json-file', config: { 'max-size': '1k' } }))).toEqual({ maxSize: 1000, maxFiles: 1 });
    expect(logLimits(checkLogConfig({ type: 'json-file', config: {} }))).toBeUndefined();
    expect(logLimits(checkLogConfig({ type: 'local', config: {} }))).toEqual({ maxSize: 20 * 1024 * 1024, maxFiles: 5 });
    expect(logLimits(checkLogConfig({ type: 'none', config: {} }))).toBeUndefined();
    // As dockerd: max-file without max-size is kept and rotates nothing.
    expect(checkLogConfig({ type: 'json-file', config: { 'max-file': '3' } })).toEqual({ type: 'json-file', config: { 'max-file': '3' } });
    expect(logLimits(checkLogConfig({ type: 'json-file', config: { 'max-file': '3' } }))).toBeUndefined();
  });

  it('refuses bad values, options and drivers with what to do', () => {
    const bad = (config: Record<string, string>, type = 'json-file') => () => checkLogConfig({ type, config });
    expect(bad({ 'max-size': 'ten' })).toThrow(/max-size "ten".*e\.g\. 10m/);
    expect(bad({ 'max-size': '0' })).toThrow(/positive/);
    expect(bad({ 'max-size': '1m', 'max-file': '0' })).toThrow(/max-file cannot be less than 1/);
    expect(bad({ 'max-size': '1m', 'max-file': 'x' })).toThrow(/max-file "x"/);
    expect(bad({ 'max-file': 'x' })).toThrow(/max-file "x"/);
    expect(bad({ 'max-size': '1m', foo: 'a' })).toThrow(/unknown log opt 'foo' for json-file log driver: use max-size or max-file/);
    expect(bad({ tag: '{{.Name}}' })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringContaining("log opt 'tag' is not supported") }));
    expect(bad({ 'max-size': '1m' }, 'none')).toThrow(/takes no options/);
    expect(bad({ compress: 'true' }, 'local')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(bad({}, 'syslog')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/"syslog" is not supported: use json-file/) }));
    expect(() => parseLogOpts(['max-size'])).toThrow(/KEY=VALUE/);
  });

  it('takes the daemon default: its driver for an empty type, its options for the keys a container of that driver leaves out', () => {
    const daemon = { type: 'json-file' as const, config: { 'max-size': '10m', 'max-file': '3' } };
    expect(resolveLogConfig(undefined, daemon)).toEqual(daemon);
    expect(resolveLogConfig({ type: '', config: { 'max-file': '5' } }, daemon)).toEqual({ type: 'json-file', config: { 'max-file': '5', 'max-size': '10m' } });
    expect(resolveLogConfig({ type: 'none' }, daemon)).toEqual({ type: 'none', config: {} });
    expect(resolveLogConfig(undefined)).toEqual({ type: 'json-file', config: {} });
  });
});

describe('MemoryLogStore rotation', () => {
  const entry = (i: number): LogEntry => ({ stream: 'stdout', time: 1_700_000_000_000 + i, data: new TextEncoder().encode(`line ${i}\n`) });

  it('measures entries as the file stores write them', () => {
    const e = entry(7);
    expect(logLineSize(e)).toBe(JSON.stringify({ log: 'line 7\n', stream: e.stream, time: new Date(e.time).toISOString() }).length + 1);
  });

  it('keeps max-file "files" of about max-size, the newest lines in order', async () => {
    const s = new MemoryLogStore();
    const size = logLineSize(entry(0));
    for (let i = 0; i < 20; i++) await s.append('c', entry(i), { maxSize: size * 3, maxFiles: 2 });
    // Files of 3 lines each: 0-2, 3-5, ... 18-19; the last two are kept.
    expect((await s.read('c')).map((e) => new TextDecoder().decode(e.data))).toEqual([15, 16, 17, 18, 19].map((i) => `line ${i}\n`));
  });
});
