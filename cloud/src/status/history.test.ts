import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SiteStatus } from '#shared/status/model.ts';
import { uptimeBar } from '#shared/status/uptime.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { sql } from 'drizzle-orm';
import { LOCK_NAMESPACE } from '../db/advisory-lock.ts';
import { leaseKey } from '../publisher/lease-plan.ts';
import { orgs, sites, statusHistory } from '../db/schema.ts';
import { readHistory, StatusHistory } from './history.ts';

const T = Date.parse('2026-11-30T02:00:00Z');
const OPTS = { gapAfterMs: 150_000, flushEveryMs: 60_000, retentionDays: 90 };

function status(site: SiteStatus['state'], web: SiteStatus['state'] = site): SiteStatus {
  const since = new Date(T).toISOString();
  return {
    site: 'bj-dc1',
    state: site,
    since,
    reasons: [],
    evaluatedAt: since,
    nodes: [],
    vrrp: [{ instance: 'VI_1', vrid: 50, state: 'ok', since, reasons: [], masters: ['dr1'], members: [] }],
    services: [{ name: 'web', endpoint: 'tcp 10.0.0.1:80', group: 'VI_1', reportedBy: 'dr1', state: web, since, reasons: [], realServers: [] }],
  };
}

describe('StatusHistory on a real database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await db.truncate();
    await db.db.insert(orgs).values({ id: 'o', name: 'o' });
    await db.db.insert(sites).values({ id: 's1', orgId: 'o', name: 'bj-dc1', currentRevision: 1 });
  });

  it('writes one row per transition, confirms unchanged spans, and reads them back for the uptime bar', async () => {
    const h = new StatusHistory(db.db, OPTS);
    await h.record('s1', status('operational'), T);
    await h.record('s1', status('operational'), T + 2_000);
    await h.record('s1', status('major_outage', 'major_outage'), T + 60_000);
    await h.record('s1', status('operational'), T + 120_000);
    const rows = await db.db.select().from(statusHistory).orderBy(statusHistory.id);
    expect(rows.map((r) => [r.subject, r.state])).toEqual([
      ['site', 'operational'],
      ['service:web', 'operational'],
      ['vrrp:VI_1', 'ok'],
      ['site', 'major_outage'],
      ['service:web', 'major_outage'],
      ['site', 'operational'],
      ['service:web', 'operational'],
    ]);
    const spans = await readHistory(db.db, 's1', ['site', 'vrrp:VI_1'], T - 1);
    expect(spans.get('site')).toEqual([
      { state: 'operational', from: T, confirmed: T + 60_000 },
      { state: 'major_outage', from: T + 60_000, confirmed: T + 120_000 },
      { state: 'operational', from: T + 120_000, confirmed: T + 120_000 },
    ]);
    // The group never changed: one span, its confirmation written once a minute.
    expect(spans.get('vrrp:VI_1')).toEqual([{ state: 'ok', from: T, confirmed: T + 120_000 }]);
    const day = uptimeBar(spans.get('site')!, { now: T + 120_000, days: 1, liveWithinMs: 150_000 }).days[0];
    expect(day.down).toBeCloseTo(0.5);
  });

  it('a new writer (a restart) continues a fresh span and leaves a gap after a stale one', async () => {
    await new StatusHistory(db.db, OPTS).record('s1', status('operational'), T);
    const again = new StatusHistory(db.db, OPTS);
    await again.record('s1', status('operational'), T + 30_000);
    expect(await db.db.$count(statusHistory)).toBe(3);
    const later = new StatusHistory(db.db, OPTS);
    await later.record('s1', status('operational'), T + 3_600_000);
    const spans = (await readHistory(db.db, 's1', ['site'], T - 1)).get('site')!;
    expect(spans).toEqual([
      { state: 'operational', from: T, confirmed: T },
      { state: 'operational', from: T + 3_600_000, confirmed: T + 3_600_000 },
    ]);
    const day = uptimeBar(spans, { now: T + 3_600_000, days: 1, liveWithinMs: 150_000 }).days[0];
    expect(day.unknown).toBeCloseTo(1);
  });

  it('replicas evaluating the same site write each span once', async () => {
    // Three writers as three replicas: each evaluates every 2 s, a little after the one before it.
    const replicas = [0, 1, 2].map(() => new StatusHistory(db.db, OPTS));
    const at = (t: number, i: number) => T + t + i * 300;
    const all = async (state: SiteStatus['state'], t: number) => {
      for (const [i, h] of replicas.entries()) await h.record('s1', status(state), at(t, i));
    };
    for (let t = 0; t < 60_000; t += 2_000) await all('operational', t);
    await all('major_outage', 60_000);
    await all('major_outage', 62_000);
    await all('operational', 64_000);
    const rows = await db.db.select().from(statusHistory).orderBy(statusHistory.id);
    expect(rows.map((r) => [r.subject, r.state])).toEqual([
      ['site', 'operational'],
      ['service:web', 'operational'],
      ['vrrp:VI_1', 'ok'],
      ['site', 'major_outage'],
      ['service:web', 'major_outage'],
      ['site', 'operational'],
      ['service:web', 'operational'],
    ]);
    const spans = (await readHistory(db.db, 's1', ['site'], T - 1)).get('site')!;
    expect(spans.map((s) => [s.state, s.from - T])).toEqual([
      ['operational', 0],
      ['major_outage', 60_000],
      ['operational', 64_000],
    ]);
    // The span's confirmation kept moving while any replica saw it hold.
    expect(spans[0].confirmed).toBe(T + 60_000);
    // A replica that comes in later (a restart) continues the stored spans.
    await new StatusHistory(db.db, OPTS).record('s1', status('operational'), T + 66_000);
    expect(await db.db.$count(statusHistory)).toBe(7);
    // All at once (on PostgreSQL, three transactions racing): the change still starts one span per subject.
    await Promise.all(replicas.map((h) => h.record('s1', status('major_outage'), T + 68_000)));
    expect(await db.db.$count(statusHistory)).toBe(9);
  });

  it('an evaluation with nothing to write takes no lock; the confirmation is still written when due', async () => {
    const h = new StatusHistory(db.db, OPTS);
    await h.record('s1', status('operational'), T);
    // Another replica's write in progress: its transaction holds the site's lock (on PGlite, the one connection).
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = db.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE.statusHistory}::int, ${leaseKey('s1')}::int)`);
      locked();
      await released;
    });
    await isLocked;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the evaluation waited for the lock')), 10_000)));
    try {
      for (let t = 2_000; t < 60_000; t += 2_000) await Promise.race([h.record('s1', status('operational'), T + t), waited]);
    } finally {
      clearTimeout(timer);
      release();
      await holder;
    }
    // Nothing was written while nothing was due; at 60 s the confirmation is, through the lock.
    expect((await readHistory(db.db, 's1', ['site'], T - 1)).get('site')).toEqual([{ state: 'operational', from: T, confirmed: T }]);
    await h.record('s1', status('operational'), T + 60_000);
    expect((await readHistory(db.db, 's1', ['site'], T - 1)).get('site')).toEqual([{ state: 'operational', from: T, confirmed: T + 60_000 }]);
    // A change after quiet rounds is written at once.
    await h.record('s1', status('major_outage'), T + 62_000);
    expect((await readHistory(db.db, 's1', ['site'], T - 1)).get('site')!.map((s) => [s.state, s.from - T, s.confirmed - T])).toEqual([
      ['operational', 0, 62_000],
      ['major_outage', 62_000, 62_000],
    ]);
  });

  it('deletes spans older than the retention', async () => {
    await db.db
      .insert(statusHistory)
      .values({ siteId: 's1', subject: 'site', state: 'operational', fromAt: new Date(T - 100 * 86_400_000), confirmedAt: new Date(T - 91 * 86_400_000) });
    await new StatusHistory(db.db, OPTS).record('s1', status('operational'), T);
    const left = await db.db.select().from(statusHistory);
    expect(left.every((r) => r.fromAt.getTime() === T)).toBe(true);
  });
});
