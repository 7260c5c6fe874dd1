import { describe, expect, it } from 'vitest';
import { failoverMark, parseTimingLine, TIMING_ENV, timingLine } from './failover-timing.ts';

describe('failover timing marks', () => {
  it('are off unless the variable is 1', () => {
    expect(failoverMark({}, () => {})).toBeNull();
    expect(failoverMark({ [TIMING_ENV]: 'yes' }, () => {})).toBeNull();
  });

  it('write one parseable line with an epoch stamp from the monotonic clock', () => {
    const lines: string[] = [];
    const before = Date.now();
    const mark = failoverMark({ [TIMING_ENV]: '1' }, (l) => lines.push(l))!;
    mark('state', 'VI_1 BACKUP→MASTER');
    const after = Date.now();
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    const m = parseTimingLine(lines[0].trimEnd())!;
    expect(m.point).toBe('state');
    expect(m.detail).toBe('VI_1 BACKUP→MASTER');
    // Same epoch as the wall clock, give or take the two clocks' rounding.
    expect(m.at).toBeGreaterThanOrEqual(before - 5);
    expect(m.at).toBeLessThanOrEqual(after + 5);
  });

  it('are found behind a runner prefix and refused when the point is unknown or the stamp malformed', () => {
    expect(parseTimingLine(`812.4 ${timingLine(1_764_500_000_123.25, 'vip-added', 'VI_1')}`)).toEqual({
      at: 1_764_500_000_123.25,
      point: 'vip-added',
      detail: 'VI_1',
    });
    expect(parseTimingLine('timing 1764500000123.457 reboot VI_1')).toBeNull();
    expect(parseTimingLine('timing 1764500000123 state VI_1')).toBeNull();
    expect(parseTimingLine('vrrp VI_1 BACKUP→MASTER (master down)')).toBeNull();
  });
});
