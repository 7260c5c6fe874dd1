import { and, eq, gt, isNull, lte, sql } from 'drizzle-orm';
import { describeOverride, Override } from '#shared/overrides/override.ts';
import type { Site } from '#shared/site/site.ts';
import type { Db } from '../db/client.ts';
import { events, overrides, sites, siteRevisions } from '../db/schema.ts';
import { audit } from '../sites/audit.ts';
import { DomainError, notFound } from '../sites/errors.ts';
import { evaluateSite } from '#shared/status/evaluate.ts';
import { loadStatusInput } from '../status/load.ts';
import { STALE_AFTER_MS } from '../status/book.ts';
import { activeOverrides } from './active.ts';
import { decideCreate, type CreateRequest } from './decide.ts';
import { republishOverrides } from './republish.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** An override as the API answers it: the override, and how it ended when it did. */
export interface OverrideRecord {
  override: Override;
  summary: string;
  active: boolean;
  endedAt: string | null;
  endReason: 'expired' | 'cancelled' | null;
  endedBy: string | null;
}

const randomId = () => `ovr_${[...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;

/** The site row (locked FOR UPDATE: one override change per site at a time) and its current spec. */
async function lockSite(tx: Tx, orgId: string, name: string): Promise<{ id: string; version: number; spec: Site }> {
  const [row] = await tx
    .select({ id: sites.id, rev: sites.currentRevision, version: sites.overridesVersion })
    .from(sites)
    .where(and(eq(sites.orgId, orgId), eq(sites.name, name)))
    .for('update');
  if (!row || row.rev === 0) throw notFound(`site "${name}"`);
  const [rev] = await tx
    .select({ spec: siteRevisions.spec })
    .from(siteRevisions)
    .where(and(eq(siteRevisions.siteId, row.id), eq(siteRevisions.revision, row.rev)));
  return { id: row.id, version: row.version, spec: rev.spec as Site };
}

/** Moves the site's override generation on and republishes the documents it changes; answers the nodes. */
async function changed(tx: Tx, siteId: string, now: Date): Promise<{ version: number; nodes: string[] }> {
  const [row] = await tx
    .update(sites)
    .set({ overridesVersion: sql`${sites.overridesVersion} + 1` })
    .where(eq(sites.id, siteId))
    .returning({ version: sites.overridesVersion });
  return { version: row.version, nodes: await republishOverrides(tx, siteId, row.version, await activeOverrides(tx, siteId, now), now) };
}

function record(r: typeof overrides.$inferSelect, now: Date): OverrideRecord {
  const o = Override.parse(r.override);
  return {
    override: o,
    summary: describeOverride(o),
    active: r.endedAt === null && r.until.getTime() > now.getTime(),
    endedAt: r.endedAt?.toISOString() ?? null,
    endReason: r.endReason ?? null,
    endedBy: r.endedBy ?? null,
  };
}

/**
 * Creates an override (decideCreate says whether), in one transaction with the new generation,
 * the documents it changes, its audit row and the `override.created` event. The caller kicks
 * the publisher.
 */
export async function createOverride(
  db: Db,
  input: { orgId: string; site: string; author: string; request: CreateRequest; now?: Date },
): Promise<OverrideRecord & { publishedNodes: string[] }> {
  const now = input.now ?? new Date();
  const down = await downNow(db, input.orgId, input.site, now);
  return db.transaction(async (tx) => {
    const site = await lockSite(tx, input.orgId, input.site);
    const d = decideCreate(input.request, site.spec, await activeOverrides(tx, site.id, now), {
      id: randomId(),
      author: input.author,
      now: now.getTime(),
      down,
    });
    if (!d.ok) throw d.error;
    const o = d.override;
    const [row] = await tx
      .insert(overrides)
      .values({
        id: o.id,
        siteId: site.id,
        kind: o.kind,
        override: o,
        until: new Date(o.until),
        author: o.author,
        reason: o.reason,
        forceReason: o.force?.reason ?? null,
        createdAt: now,
      })
      .returning();
    const c = await changed(tx, site.id, now);
    const summary = describeOverride(o);
    await audit(tx, {
      orgId: input.orgId,
      actor: input.author,
      action: 'override.create',
      target: input.site,
      site: input.site,
      detail: { override: o, overridesVersion: c.version },
    });
    await tx
      .insert(events)
      .values({ siteId: site.id, nodeId: null, type: 'override.created', data: { id: o.id, kind: o.kind, summary, override: o }, at: now });
    return { ...record(row, now), publishedNodes: c.nodes };
  });
}

/** Real servers the status model sees down now (`service|address:port`), from the nodes' fresh reports. */
async function downNow(db: Db, orgId: string, name: string, now: Date): Promise<Set<string>> {
  const [row] = await db
    .select({ id: sites.id, name: sites.name, currentRevision: sites.currentRevision })
    .from(sites)
    .where(and(eq(sites.orgId, orgId), eq(sites.name, name)));
  const input = row ? await loadStatusInput(db, row, STALE_AFTER_MS) : null;
  if (!input) return new Set();
  const status = evaluateSite(null, input, now.getTime());
  return new Set(status.services.flatMap((s) => s.realServers.filter((r) => r.state === 'down').map((r) => `${s.name}|${r.address}:${r.port}`)));
}

/** The site's overrides: active ones, or (all) the ended ones too, newest first. */
export async function listOverrides(db: Db, orgId: string, site: string, opts: { all?: boolean; now?: Date } = {}): Promise<OverrideRecord[]> {
  const now = opts.now ?? new Date();
  const [s] = await db
    .select({ id: sites.id, rev: sites.currentRevision })
    .from(sites)
    .where(and(eq(sites.orgId, orgId), eq(sites.name, site)));
  if (!s || s.rev === 0) throw notFound(`site "${site}"`);
  const rows = await db
    .select()
    .from(overrides)
    .where(and(eq(overrides.siteId, s.id), opts.all ? undefined : and(isNull(overrides.endedAt), gt(overrides.until, now))))
    .orderBy(sql`${overrides.createdAt} desc`, sql`${overrides.id} desc`)
    .limit(1000);
  return rows.map((r) => record(r, now));
}

/** Ends an active override on an operator's word (`override.cancelled`), republishing what it changes. */
export async function cancelOverride(
  db: Db,
  input: { orgId: string; site: string; id: string; actor: string; now?: Date },
): Promise<OverrideRecord & { publishedNodes: string[] }> {
  const now = input.now ?? new Date();
  return db.transaction(async (tx) => {
    const site = await lockSite(tx, input.orgId, input.site);
    const [row] = await tx
      .update(overrides)
      .set({ endedAt: now, endReason: 'cancelled', endedBy: input.actor })
      .where(and(eq(overrides.siteId, site.id), eq(overrides.id, input.id), isNull(overrides.endedAt), gt(overrides.until, now)))
      .returning();
    if (!row) {
      const [any] = await tx
        .select({ id: overrides.id })
        .from(overrides)
        .where(and(eq(overrides.siteId, site.id), eq(overrides.id, input.id)));
      if (any) throw new DomainError('invalid_override', `override ${input.id} has already ended`, [{ path: 'id', message: 'has already ended' }]);
      throw notFound(`override "${input.id}" of site "${input.site}"`);
    }
    const c = await changed(tx, site.id, now);
    const o = Override.parse(row.override);
    await audit(tx, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'override.cancel',
      target: input.site,
      site: input.site,
      detail: { id: o.id, kind: o.kind, overridesVersion: c.version },
    });
    await tx.insert(events).values({
      siteId: site.id,
      nodeId: null,
      type: 'override.cancelled',
      data: { id: o.id, kind: o.kind, by: input.actor, summary: `cancelled by ${input.actor}: ${describeOverride(o)}` },
      at: now,
    });
    return { ...record(row, now), publishedNodes: c.nodes };
  });
}

/**
 * The cloud's expiry sweep: ends every override whose `until` passed (`override.expired`, audited
 * as the system), one transaction per site, and republishes. The agents have already reverted on
 * their own clocks; this keeps the documents, the API and the record in step. Answers how many ended.
 */
export async function sweepExpired(db: Db, now = new Date()): Promise<number> {
  const due = await db
    .select({ siteId: overrides.siteId })
    .from(overrides)
    .where(and(isNull(overrides.endedAt), lte(overrides.until, now)))
    .groupBy(overrides.siteId);
  let n = 0;
  for (const { siteId } of due) {
    n += await db.transaction(async (tx) => {
      const [site] = await tx.select({ orgId: sites.orgId, name: sites.name }).from(sites).where(eq(sites.id, siteId)).for('update');
      const ended = await tx
        .update(overrides)
        .set({ endedAt: now, endReason: 'expired', endedBy: 'system' })
        .where(and(eq(overrides.siteId, siteId), isNull(overrides.endedAt), lte(overrides.until, now)))
        .returning();
      if (!ended.length) return 0;
      const c = await changed(tx, siteId, now);
      for (const row of ended) {
        const o = Override.parse(row.override);
        await audit(tx, {
          orgId: site.orgId,
          actor: 'system',
          action: 'override.expire',
          target: site.name,
          site: site.name,
          detail: { id: o.id, kind: o.kind, until: o.until, overridesVersion: c.version },
        });
        await tx
          .insert(events)
          .values({ siteId, nodeId: null, type: 'override.expired', data: { id: o.id, kind: o.kind, summary: `ended: ${describeOverride(o)}` }, at: now });
      }
      return ended.length;
    });
  }
  return n;
}
