import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { genericPlan } from '../db/plan.test-support.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { alerts, events, orgs, rollouts, sites, webhookDeliveries, webhooks } from '../db/schema.ts';
import { becameMasterCounts } from '../metrics/fleet-facts.ts';
import { failuresSince } from '../rollout/reports.ts';
import { oldestEvents, resolvedBefore, retentionLine, retentionRound } from './prune.ts';

const DAY = 86_400_000;
const now = Date.parse('2026-12-07T12:00:00Z');
const daysAgo = (d: number) => new Date(now - d * DAY);

let d: TestDatabase;
beforeAll(async () => {
  d = await openTestDatabase();
});
afterAll(async () => {
  await d?.close();
});
beforeEach(async () => {
  await d.truncate();
  await d.db.insert(orgs).values({ id: 'o', name: 'o' });
  await d.db.insert(sites).values([
    { id: 's1', orgId: 'o', name: 'one', currentRevision: 3 },
    { id: 's2', orgId: 'o', name: 'two', currentRevision: 1 },
  ]);
});

function event(siteId: string, type: string, data: Record<string, unknown>, age: number) {
  return { siteId, nodeId: `${siteId}.dr1`, type, data, at: daysAgo(age), receivedAt: daysAgo(age) };
}
const master = (siteId: string, instance: string, age: number) =>
  event(siteId, 'vrrp.transition', { instance, from: 'BACKUP', to: 'MASTER', reason: 'test' }, age);
const applied = (siteId: string, age: number) => event(siteId, 'apply.succeeded', { revision: 1 }, age);

const storedAges = async () =>
  (await d.db.select({ r: events.receivedAt }).from(events).orderBy(asc(events.receivedAt))).map((e) => Math.round((now - e.r.getTime()) / DAY));
const counts = async () =>
  Object.fromEntries((await becameMasterCounts(d.db)).map((r) => [`${r.site}/${r.instance}`, r.n] as const).sort(([a], [b]) => a.localeCompare(b)));

describe('retentionRound', () => {
  it('deletes events received before the window and keeps the rest', async () => {
    await d.db.insert(events).values([applied('s1', 40), applied('s1', 31), applied('s2', 29), applied('s1', 1), event('s2', 'node.offline', {}, 100)]);
    const r = await retentionRound(d.db, { days: 30, now, maxBatches: 10 });
    expect(r).toEqual({ events: 3, deliveries: 0, alerts: 0, more: false });
    expect(await storedAges()).toEqual([29, 1]);
  });

  it('keeps every event when retention is off', async () => {
    await d.db.insert(events).values([applied('s1', 400), applied('s1', 40)]);
    expect(await retentionRound(d.db, { days: 0, now, maxBatches: 10 })).toEqual({ events: 0, deliveries: 0, alerts: 0, more: false });
    expect(await storedAges()).toEqual([400, 40]);
  });

  it("never lowers the metrics' count of MASTER transitions, however many rounds delete them", async () => {
    await d.db
      .insert(events)
      .values([
        master('s1', 'VI_1', 50),
        master('s1', 'VI_1', 40),
        master('s1', 'VI_1', 2),
        master('s1', 'VI_2', 45),
        master('s2', 'VI_1', 35),
        event('s1', 'vrrp.transition', { instance: 'VI_1', from: 'MASTER', to: 'BACKUP', reason: 'test' }, 60),
        applied('s1', 70),
      ]);
    const before = await counts();
    expect(before).toEqual({ 'one/VI_1': 3, 'one/VI_2': 1, 'two/VI_1': 1 });
    // Two rows a batch, one batch a round: the tally grows over several rounds, and adds up.
    let r = await retentionRound(d.db, { days: 30, now, maxBatches: 1, batch: 2 });
    expect(r).toMatchObject({ events: 2, more: true });
    expect(await counts()).toEqual(before);
    do r = await retentionRound(d.db, { days: 30, now, maxBatches: 1, batch: 2 });
    while (r.more);
    expect(await storedAges()).toEqual([2]);
    expect(await counts()).toEqual(before);
    // A later transition adds to the tallied ones.
    await d.db.insert(events).values(master('s2', 'VI_1', 0));
    expect(await counts()).toEqual({ ...before, 'two/VI_1': 2 });
  });

  it("keeps the events an enabled webhook's cursor has not passed, and not for a disabled one", async () => {
    const rows = await d.db
      .insert(events)
      .values([applied('s1', 50), applied('s1', 45), applied('s1', 40)])
      .returning({ id: events.id });
    const hook = { orgId: 'o', url: 'https://hooks.example.test/x', secret: 'whsec_x', eventTypes: [] };
    await d.db.insert(webhooks).values([
      { ...hook, id: 'behind', lastEventId: rows[0].id },
      { ...hook, id: 'gone', lastEventId: 0, disabledAt: daysAgo(60) },
    ]);
    expect((await retentionRound(d.db, { days: 30, now, maxBatches: 10 })).events).toBe(1);
    expect(await storedAges()).toEqual([45, 40]);
  });

  it('keeps the apply failures an active rollout counts since it started', async () => {
    await d.db
      .insert(events)
      .values([event('s1', 'apply.failed', { revision: 3, error: 'x' }, 50), event('s1', 'apply.failed', { revision: 3, error: 'y' }, 40), applied('s1', 60)]);
    await d.db.insert(rollouts).values([
      { siteId: 's1', revision: 3, state: 'paused', plan: {}, summary: {}, author: 'a', createdAt: daysAgo(45) },
      { siteId: 's1', revision: 2, state: 'completed', plan: {}, summary: {}, author: 'a', createdAt: daysAgo(90) },
    ]);
    await retentionRound(d.db, { days: 30, now, maxBatches: 10 });
    expect(await storedAges()).toEqual([40]);
    expect(await failuresSince(d.db, 's1', daysAgo(45))).toHaveLength(1);
  });

  it('deletes finished webhook deliveries last tried before the window, never a pending one', async () => {
    await d.db.insert(webhooks).values({ id: 'w', orgId: 'o', url: 'https://hooks.example.test/x', secret: 'whsec_x', eventTypes: [] });
    const delivery = (id: string, status: 'pending' | 'delivered' | 'failed', age: number) => ({
      id,
      webhookId: 'w',
      eventId: 1,
      payload: {},
      status,
      nextAttemptAt: daysAgo(age),
    });
    await d.db
      .insert(webhookDeliveries)
      .values([
        delivery('old-ok', 'delivered', 40),
        delivery('old-failed', 'failed', 31),
        delivery('old-pending', 'pending', 40),
        delivery('new-ok', 'delivered', 3),
      ]);
    expect((await retentionRound(d.db, { days: 30, now, maxBatches: 10 })).deliveries).toBe(2);
    const left = await d.db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).orderBy(asc(webhookDeliveries.id));
    expect(left.map((l) => l.id)).toEqual(['new-ok', 'old-pending']);
  });

  it('deletes alerts resolved before the incident timeline or the retention, whichever is longer, and never an open one', async () => {
    const alert = (key: string, raisedAge: number, resolvedAge: number | null) => ({
      siteId: 's1',
      key,
      type: 'node.offline',
      severity: 'warning' as const,
      subject: key,
      summary: key,
      firstSeenAt: daysAgo(raisedAge),
      raisedAt: daysAgo(raisedAge),
      resolvedAt: resolvedAge === null ? null : daysAgo(resolvedAge),
    });
    await d.db
      .insert(alerts)
      .values([
        alert('resolved-40', 41, 40),
        alert('resolved-20', 21, 20),
        alert('open-100', 100, null),
        alert('resolved-3', 4, 3),
        alert('resolved-31', 60, 31),
      ]);
    const left = async () => (await d.db.select({ key: alerts.key }).from(alerts).orderBy(asc(alerts.key))).map((a) => a.key);
    // A week of events still keeps the month the status pages' incident timeline shows.
    const week = await retentionRound(d.db, { days: 7, now, maxBatches: 10 });
    expect(week).toEqual({ events: 0, deliveries: 0, alerts: 2, more: false });
    expect(retentionLine(week, 7)).toBe(
      'retention: deleted 0 events and 0 finished webhook deliveries older than 7 days, and 2 alerts resolved more than 30 days ago',
    );
    expect(await left()).toEqual(['open-100', 'resolved-20', 'resolved-3']);
    // A longer retention keeps them longer; the open one stays whatever its age.
    await d.db.insert(alerts).values([alert('resolved-40', 41, 40), alert('resolved-31', 60, 31)]);
    expect((await retentionRound(d.db, { days: 35, now, maxBatches: 10 })).alerts).toBe(1);
    expect(await left()).toEqual(['open-100', 'resolved-20', 'resolved-3', 'resolved-31']);
    expect((await retentionRound(d.db, { days: 0, now, maxBatches: 10 })).alerts).toBe(0);
    expect((await retentionRound(d.db, { days: 10, now, maxBatches: 10 })).alerts).toBe(1);
    expect(await left()).toEqual(['open-100', 'resolved-20', 'resolved-3']);
  });

  it('reports more to go when a round stops at its bound', async () => {
    await d.db.insert(events).values([applied('s1', 50), applied('s1', 49), applied('s1', 48), applied('s1', 47), applied('s1', 46)]);
    expect(await retentionRound(d.db, { days: 30, now, maxBatches: 2, batch: 2 })).toEqual({ events: 4, deliveries: 0, alerts: 0, more: true });
    expect(await retentionRound(d.db, { days: 30, now, maxBatches: 2, batch: 2 })).toEqual({ events: 1, deliveries: 0, alerts: 0, more: false });
  });

  it('finds the oldest events through their index (no walk of every event at each round)', async () => {
    const plan = await genericPlan(d.db, oldestEvents(d.db, { before: daysAgo(30), throughId: 10 }, 5000));
    expect(plan).toMatch(/events_received_at/);
  });

  it('finds the resolved alerts through their index', async () => {
    expect(await genericPlan(d.db, resolvedBefore(d.db, daysAgo(30), 5000))).toMatch(/alerts_resolved/);
  });
});
