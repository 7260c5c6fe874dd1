import { describe, expect, it } from 'vitest';
import { clock, inWords } from './words.ts';

const NOW = Date.parse('2026-11-30T12:00:00Z');

describe('inWords', () => {
  it('says times of today as a clock, other days with the date, other years with the year', () => {
    expect(inWords('dr2 offline since 2026-11-30T02:14:00Z', NOW)).toBe('dr2 offline since 02:14 UTC');
    expect(inWords('VI_1: no director is MASTER since 2026-11-29T23:05:10.500Z (dr1 BACKUP)', NOW)).toBe(
      'VI_1: no director is MASTER since 29 Nov 23:05 UTC (dr1 BACKUP)',
    );
    expect(clock('2025-01-02T03:04:05Z', NOW)).toBe('2 Jan 2025 03:04 UTC');
    expect(clock('not a time', NOW)).toBe('not a time');
  });
});
