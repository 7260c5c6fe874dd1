import { describe, expect, it } from 'vitest';
import { humanDuration, incidentTimeline, type AlertRecord } from './incidents.ts';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;

function alert(id: number, began: number, resolved: number | null, over: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id,
    type: 'node.offline',
    severity: 'warning',
    subject: 'node:dr2',
    summary: 'dr2 offline',
    firstSeenAt: new Date(began),
    raisedAt: new Date(began + 30_000),
    resolvedAt: resolved === null ? null : new Date(resolved),
    ...over,
  };
}

describe('incidentTimeline', () => {
  it('lists incidents newest first with durations from when the condition began', () => {
    const t = incidentTimeline(
      [alert(1, NOW - 3 * DAY, NOW - 3 * DAY + 12 * MIN), alert(2, NOW - 10 * MIN, null), alert(3, NOW - DAY, NOW - DAY + 90_000)],
      NOW,
    );
    expect(t.map((i) => i.id)).toEqual([2, 3, 1]);
    expect(t[0]).toMatchObject({ open: true, resolved: null, durationMs: 10 * MIN });
    expect(t[1]).toMatchObject({ open: false, durationMs: 90_000, began: new Date(NOW - DAY).toISOString() });
    expect(t[2].durationMs).toBe(12 * MIN);
  });

  it('keeps the last 30 days: an incident resolved before the window is left out, an open one of any age stays', () => {
    const t = incidentTimeline([alert(1, NOW - 40 * DAY, NOW - 31 * DAY), alert(2, NOW - 40 * DAY, NOW - 29 * DAY), alert(3, NOW - 60 * DAY, null)], NOW);
    expect(t.map((i) => i.id)).toEqual([2, 3]);
    expect(t[1].durationMs).toBe(60 * DAY);
  });

  it('orders incidents that began together by id, newest first, and never gives a negative duration', () => {
    const t = incidentTimeline([alert(1, NOW - MIN, NOW - 2 * MIN), alert(2, NOW - MIN, null)], NOW);
    expect(t.map((i) => i.id)).toEqual([2, 1]);
    expect(t[1].durationMs).toBe(0);
  });
});

describe('humanDuration', () => {
  it('says durations in the largest two units', () => {
    expect([0, 45_000, 12 * MIN, 180 * MIN, 185 * MIN, 2 * DAY, 2 * DAY + 4 * 60 * MIN].map(humanDuration)).toEqual([
      '0s',
      '45s',
      '12m',
      '3h',
      '3h 5m',
      '2d',
      '2d 4h',
    ]);
  });
});
