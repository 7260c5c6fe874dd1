import { describe, expect, it } from 'vitest';
import { alertHorizon, deliveryHorizon, eventHorizon, parseRetentionDays } from './horizon.ts';

const DAY = 86_400_000;
const now = Date.parse('2026-12-07T12:00:00Z');
const facts = { now, days: 30, oldestActiveRollout: null, webhookCursor: null };

describe('eventHorizon', () => {
  it('is the retention before now, with no id bound when no webhook holds events back', () => {
    expect(eventHorizon(facts)).toEqual({ before: new Date(now - 30 * DAY), throughId: null });
  });

  it('keeps nothing back for a rollout that started inside the window, and everything since one that started before it', () => {
    expect(eventHorizon({ ...facts, oldestActiveRollout: now - DAY })!.before).toEqual(new Date(now - 30 * DAY));
    expect(eventHorizon({ ...facts, oldestActiveRollout: now - 45 * DAY })!.before).toEqual(new Date(now - 45 * DAY));
  });

  it("stops at the lowest enabled webhook's cursor", () => {
    expect(eventHorizon({ ...facts, webhookCursor: 1234 })!.throughId).toBe(1234);
    expect(eventHorizon({ ...facts, webhookCursor: 0 })!.throughId).toBe(0);
  });

  it('is null (delete nothing) when retention is off', () => {
    expect(eventHorizon({ ...facts, days: 0 })).toBeNull();
    expect(deliveryHorizon({ now, days: 0 })).toBeNull();
    expect(alertHorizon({ now, days: 0 })).toBeNull();
  });

  it('dates resolved alerts by the retention, and never closer than the 30-day incident timeline', () => {
    expect(alertHorizon({ now, days: 7 })).toEqual(new Date(now - 30 * DAY));
    expect(alertHorizon({ now, days: 30 })).toEqual(new Date(now - 30 * DAY));
    expect(alertHorizon({ now, days: 90 })).toEqual(new Date(now - 90 * DAY));
  });

  it('dates finished deliveries by the retention alone', () => {
    expect(deliveryHorizon({ now, days: 7 })).toEqual(new Date(now - 7 * DAY));
  });
});

describe('parseRetentionDays', () => {
  it('takes whole days and 0, and unset is the default', () => {
    expect(parseRetentionDays('30', '--event-retention-days')).toBe(30);
    expect(parseRetentionDays('0', '--event-retention-days')).toBe(0);
    expect(parseRetentionDays('36500', '--event-retention-days')).toBe(36_500);
    expect(parseRetentionDays(undefined, '--event-retention-days')).toBe(30);
  });

  it.each(['', '-1', '1.5', '30d', ' 30', '36501', '1e3', '9999999'])('refuses %j, naming the setting', (text) => {
    expect(() => parseRetentionDays(text, 'EVENT_RETENTION_DAYS')).toThrow(/^EVENT_RETENTION_DAYS must be a whole number of days/);
  });
});
