import { and, eq, sql } from 'drizzle-orm';
import { compileSite } from '#shared/compiler/compile.ts';
import type { Site } from '#shared/site/site.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import type { DesiredClaims } from '#shared/wire/desired.ts';
import { ApiError } from '../api/errors.ts';
import { sha256Hex } from '../auth/tokens.ts';
import type { Db } from '../db/client.ts';
import { nodes, outbox, siteRevisions, sites } from '../db/schema.ts';
import { audit } from './audit.ts';
import { diffSites, type SiteDiff } from './diff.ts';

export interface ApplyInput {
  orgId: string;
  /** The site name from the URL; must equal the spec's metadata.name (checked by the caller). */
  site: Site;
  author: string;
  message?: string;
  /** If-Match: the revision the caller based its change on. */
  ifMatch?: number;
  /** Bypass the mass-delete guard (`?force=1`). */
  force?: boolean;
  dryRun?: boolean;
  /** Set by rollback: the old revision whose spec this one repeats. */
  rolledBackFrom?: number;
  now?: Date;
}

export interface ApplyResult {
  site: string;
  /** The site's current revision after the call (unchanged for a dry run or an identical spec). */
  revision: number;
  previousRevision: number;
  /** The spec equals the current revision's: nothing was written (an SRE's no-op re-apply). */
  unchanged: boolean;
  dryRun: boolean;
  /** Nodes that got a new outbox row (or would, on a dry run). */
  publishedNodes: string[];
  diff: SiteDiff;
}

/** Rows per multi-row insert. */
const CHUNK = 500;

/**
 * Stores a new immutable revision of a site, in ONE transaction: the site row's
 * current_revision moves from N to N+1 by compare-and-set (so concurrent applies never share a
 * number), the `site_revisions` row, the `nodes` upserts (removed ones get removed_at), one
 * `outbox` row per node whose compiled config changed, and the audit row. An identical spec is a
 * no-op answering the current revision. The caller kicks the publisher after it returns.
 */
export async function applySite(db: Db, input: ApplyInput): Promise<ApplyResult> {
  const name = input.site.metadata.name;
  const specHash = await sha256Hex(canonicalJson(input.site));
  const compiled = compileSite(input.site);
  const hashes = new Map<string, string>();
  for (const [node, cfg] of compiled) hashes.set(node, await sha256Hex(canonicalJson(cfg)));
  const now = input.now ?? new Date();

  if (input.dryRun) {
    const current = await currentState(db, input.orgId, name);
    return plan(input, current, specHash, hashes, () => Promise.resolve());
  }
  return db.transaction(async (tx) => {
    await tx.insert(sites).values({ id: crypto.randomUUID(), orgId: input.orgId, name }).onConflictDoNothing();
    const current = await currentState(tx as unknown as Db, input.orgId, name, true);
    return plan(input, current, specHash, hashes, async (result) => {
      const siteId = current.siteId!;
      const prev = current.revision;
      const moved = await tx
        .update(sites)
        .set({ currentRevision: result.revision, updatedAt: now })
        .where(and(eq(sites.id, siteId), eq(sites.currentRevision, prev)))
        .returning({ id: sites.id });
      if (!moved.length) throw stale(input.ifMatch ?? prev, -1);
      await tx.insert(siteRevisions).values({
        siteId,
        revision: result.revision,
        spec: input.site,
        specHash,
        author: input.author,
        message: input.message ?? '',
        rolledBackFrom: input.rolledBackFrom ?? null,
        createdAt: now,
      });
      const existing = await tx.select().from(nodes).where(eq(nodes.siteId, siteId));
      const byId = new Map(existing.map((n) => [n.id, n]));
      // One statement per table for the whole site, not one per node: a 1,000-node site is one
      // upsert and one outbox insert (chunked to stay well under PostgreSQL's parameter limit).
      const upserts: (typeof nodes.$inferInsert)[] = [];
      const rows: (typeof outbox.$inferInsert)[] = [];
      for (const [nodeName, cfg] of compiled) {
        const id = nodeIdOf(name, nodeName);
        const row = byId.get(id);
        const fields = { role: cfg.node.role, address: cfg.node.address };
        if (!result.publishedNodes.includes(nodeName)) {
          if (row && (row.role !== fields.role || row.address !== fields.address)) await tx.update(nodes).set(fields).where(eq(nodes.id, id));
          continue;
        }
        upserts.push({ id, siteId, name: nodeName, ...fields, desiredRevision: result.revision, configHash: hashes.get(nodeName)!, removedAt: null });
        const claims: DesiredClaims = { nodeId: id, site: name, revision: result.revision, issuedAt: now.toISOString(), config: cfg };
        rows.push({ nodeId: id, siteId, revision: result.revision, claims });
      }
      for (let i = 0; i < upserts.length; i += CHUNK) {
        await tx
          .insert(nodes)
          .values(upserts.slice(i, i + CHUNK))
          .onConflictDoUpdate({
            target: nodes.id,
            set: {
              role: sql`excluded.role`,
              address: sql`excluded.address`,
              desiredRevision: sql`excluded.desired_revision`,
              configHash: sql`excluded.config_hash`,
              removedAt: sql`NULL`,
            },
          });
      }
      for (let i = 0; i < rows.length; i += CHUNK) await tx.insert(outbox).values(rows.slice(i, i + CHUNK));
      for (const row of existing) {
        if (!row.removedAt && !compiled.has(row.name)) await tx.update(nodes).set({ removedAt: now }).where(eq(nodes.id, row.id));
      }
      await audit(tx, {
        orgId: input.orgId,
        actor: input.author,
        action: input.rolledBackFrom ? 'site.rollback' : 'site.apply',
        target: name,
        detail: {
          revision: result.revision,
          message: input.message ?? '',
          publishedNodes: result.publishedNodes,
          rolledBackFrom: input.rolledBackFrom ?? null,
        },
      });
    });
  });
}

interface CurrentState {
  siteId: string | null;
  revision: number;
  spec: Site | null;
  specHash: string | null;
  /** node name → config hash of live (not removed) nodes. */
  configHashes: Map<string, string>;
}

async function currentState(db: Db, orgId: string, name: string, lock = false): Promise<CurrentState> {
  const q = db
    .select({ id: sites.id, rev: sites.currentRevision })
    .from(sites)
    .where(and(eq(sites.orgId, orgId), eq(sites.name, name)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) return { siteId: null, revision: 0, spec: null, specHash: null, configHashes: new Map() };
  const [rev] = row.rev
    ? await db
        .select({ spec: siteRevisions.spec, hash: siteRevisions.specHash })
        .from(siteRevisions)
        .where(and(eq(siteRevisions.siteId, row.id), eq(siteRevisions.revision, row.rev)))
    : [];
  const live = await db.select({ name: nodes.name, hash: nodes.configHash, removedAt: nodes.removedAt }).from(nodes).where(eq(nodes.siteId, row.id));
  return {
    siteId: row.id,
    revision: row.rev,
    spec: (rev?.spec as Site | undefined) ?? null,
    specHash: rev?.hash ?? null,
    configHashes: new Map(live.filter((n) => !n.removedAt).map((n) => [n.name, n.hash])),
  };
}

function stale(expected: number, actual: number): ApiError {
  return new ApiError(409, 'stale_revision', `If-Match revision ${expected} is not the current revision${actual >= 0 ? ` (${actual})` : ''}`, undefined, {
    currentRevision: actual >= 0 ? actual : undefined,
  });
}

async function plan(
  input: ApplyInput,
  current: CurrentState,
  specHash: string,
  hashes: Map<string, string>,
  write: (r: ApplyResult) => Promise<void>,
): Promise<ApplyResult> {
  if (input.ifMatch !== undefined && input.ifMatch !== current.revision) throw stale(input.ifMatch, current.revision);
  const diff = diffSites(current.spec, input.site);
  const publishedNodes = [...hashes].filter(([n, h]) => current.configHashes.get(n) !== h).map(([n]) => n);
  const base = { site: input.site.metadata.name, previousRevision: current.revision, dryRun: !!input.dryRun, diff };
  if (current.specHash === specHash) return { ...base, revision: current.revision, unchanged: true, publishedNodes: [] };
  if (diff.massDelete.exceeded && !input.site.spec.allowMassDelete && !input.force && !input.dryRun) {
    const m = diff.massDelete;
    throw new ApiError(
      409,
      'mass_delete',
      `this revision removes ${m.services.removed} of ${m.services.total} services and ${m.realServers.removed} of ${m.realServers.total} real servers; set spec.allowMassDelete: true or pass force`,
      undefined,
      { massDelete: m },
    );
  }
  const result: ApplyResult = { ...base, revision: input.dryRun ? current.revision : current.revision + 1, unchanged: false, publishedNodes };
  await write(result);
  return result;
}
