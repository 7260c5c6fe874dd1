import { describe, expect, it } from 'vitest';
import { bucketOf, uptimeBar } from './uptime.ts';

const DAY = 86_400_000;
const H = 3_600_000;
/** Noon, 30 Nov 2026 UTC. */
const NOW = Date.parse('2026-11-30T12:00:00Z');
const TODAY = Date.parse('2026-11-30T00:00:00Z');

describe('uptimeBar', () => {
  it('has one entry per UTC day ending today, oldest first', () => {
    const bar = uptimeBar([], { now: NOW, days: 90 });
    expect(bar.days).toHaveLength(90);
    expect(bar.days[89].day).toBe('2026-11-30');
    expect(bar.days[0].day).toBe('2026-09-02');
  });

  it('shows days before the first span as no data, not as up, and has no uptime without history', () => {
    const bar = uptimeBar([], { now: NOW, days: 3 });
    expect(bar.days.every((d) => d.noData && d.worst === null)).toBe(true);
    expect(bar.uptime).toBeNull();
  });

  it('counts a live span up to now and today only up to now', () => {
    const bar = uptimeBar([{ state: 'operational', from: TODAY - DAY, confirmed: NOW - 5_000 }], { now: NOW, days: 2, liveWithinMs: 60_000 });
    expect(bar.days[0]).toMatchObject({ day: '2026-11-29', noData: false, up: 1, unknown: 0, worst: 'up' });
    expect(bar.days[1]).toMatchObject({ day: '2026-11-30', up: 1, unknown: 0 });
    expect(bar.uptime).toBe(1);
  });

  it('counts a gap between spans (the cloud was down) as unknown, never up', () => {
    const spans = [
      { state: 'operational', from: TODAY, confirmed: TODAY + 2 * H },
      // nothing observed from 02:00 to 08:00
      { state: 'operational', from: TODAY + 8 * H, confirmed: NOW },
    ];
    const today = uptimeBar(spans, { now: NOW, days: 1, liveWithinMs: 60_000 }).days[0];
    expect(today.up).toBeCloseTo(6 / 12);
    expect(today.unknown).toBeCloseTo(6 / 12);
    expect(today.worst).toBe('unknown');
  });

  it('counts the time after a stale open span as unknown', () => {
    // Last confirmed at 06:00; the cloud has not evaluated since.
    const day = uptimeBar([{ state: 'operational', from: TODAY, confirmed: TODAY + 6 * H }], { now: NOW, days: 1, liveWithinMs: 60_000 }).days[0];
    expect(day.up).toBeCloseTo(0.5);
    expect(day.unknown).toBeCloseTo(0.5);
  });

  it("counts the model's unknown state as unknown and outages as down, splitting spans across midnight", () => {
    const spans = [
      { state: 'operational', from: TODAY - DAY, confirmed: TODAY - 6 * H },
      { state: 'unknown', from: TODAY - 6 * H, confirmed: TODAY - 3 * H },
      { state: 'major_outage', from: TODAY - 3 * H, confirmed: TODAY + 3 * H },
      { state: 'degraded_performance', from: TODAY + 3 * H, confirmed: NOW },
    ];
    const bar = uptimeBar(spans, { now: NOW, days: 2, liveWithinMs: 60_000 });
    expect(bar.days[0]).toMatchObject({ up: 18 / 24, unknown: 3 / 24, down: 3 / 24, degraded: 0, worst: 'down' });
    expect(bar.days[1]).toMatchObject({ down: 3 / 12, degraded: 9 / 12, up: 0, worst: 'down' });
    // Serving (up or degraded) 18 h + 9 h of 36 h observed.
    expect(bar.uptime).toBeCloseTo(27 / 36);
  });

  it('starts the first day at the first span: the part of the day before history began is not counted', () => {
    const day = uptimeBar([{ state: 'operational', from: TODAY + 6 * H, confirmed: NOW }], { now: NOW, days: 1, liveWithinMs: 60_000 }).days[0];
    expect(day).toMatchObject({ noData: false, up: 1, unknown: 0 });
  });

  it('counts an instant once when spans overlap (a clock step), for the later span', () => {
    const spans = [
      { state: 'major_outage', from: TODAY + 4 * H, confirmed: NOW },
      { state: 'operational', from: TODAY, confirmed: TODAY + 8 * H },
    ];
    const day = uptimeBar(spans, { now: NOW, days: 1, liveWithinMs: 60_000 }).days[0];
    expect(day.up + day.down + day.unknown + day.degraded).toBeCloseTo(1);
    expect(day.up).toBeCloseTo(4 / 12);
    expect(day.down).toBeCloseTo(8 / 12);
  });

  it('the fractions of every observed day add up to one', () => {
    const spans = Array.from({ length: 40 }, (_, i) => ({
      state: ['operational', 'unknown', 'partial_outage', 'no_master', 'ok'][i % 5],
      from: NOW - (40 - i) * 7 * H,
      confirmed: NOW - (40 - i) * 7 * H + 5 * H,
    }));
    for (const d of uptimeBar(spans, { now: NOW, days: 20 }).days.filter((x) => !x.noData)) {
      expect(d.up + d.degraded + d.down + d.unknown).toBeCloseTo(1, 9);
    }
  });
});

describe('bucketOf', () => {
  it('maps site, service and group states, and any state it does not know to unknown', () => {
    expect(['operational', 'ok', 'degraded_performance', 'partial_outage', 'split_brain', 'unknown', 'toString', 'bogus'].map(bucketOf)).toEqual([
      'up',
      'up',
      'degraded',
      'down',
      'down',
      'unknown',
      'unknown',
      'unknown',
    ]);
  });
});
