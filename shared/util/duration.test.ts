import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Duration, MAX_DURATION_MS, durationMs, formatDuration, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['20ms', 20],
    ['100ms', 100],
    ['1s', 1000],
    ['1.5s', 1500],
    ['0.01s', 10],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0s', 0],
    ['0.4ms', 0],
    ['0.5ms', 1],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '1', '1 s', 's', '-1s', '+1s', '1S', '1sec', '1d', '.5s', '1.s', '1e3ms', ' 1s', '1s '])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it('durationMs throws on what parseDuration refuses', () => {
    expect(durationMs('250ms')).toBe(250);
    expect(() => durationMs('soon')).toThrow(TypeError);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [10, '10ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1500ms'],
    [90_000, '90s'],
    [120_000, '2m'],
    [3_600_000, '1h'],
    [5_400_000, '90m'],
  ])('%d ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('round-trips every whole millisecond value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});

describe('Duration schema', () => {
  it('accepts up to 31 days and refuses more', () => {
    expect(Duration.safeParse('744h').success).toBe(true);
    expect(Duration.safeParse('44640m').success).toBe(true);
    const r = Duration.safeParse('745h');
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual(['at most 744h (31 days)']);
  });

  it('explains a value without a unit', () => {
    expect(Duration.safeParse('5').error?.issues.map((i) => i.message)).toEqual(['expected a duration with a unit, like 100ms, 1s or 2m']);
  });
});
