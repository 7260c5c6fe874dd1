import { and, asc, eq, gt } from 'drizzle-orm';
import { evaluateSite, nextChangeAt, type NodeInput, type StatusInput } from '#shared/status/evaluate.ts';
import type { SiteStatus } from '#shared/status/model.ts';
import { iso } from '#shared/status/reasons.ts';
import type { Db } from '../db/client.ts';
import { sites } from '../db/schema.ts';
import type { StatusPage } from '#shared/site/site.ts';
import type { StatusHistory } from './history.ts';
import {
  inputVersionsOf,
  loadNodeReports,
  loadStatusInput,
  sameStatusInput,
  StatusInputCache,
  type InputVersions,
  type NodeReports,
  type SiteRef,
} from './load.ts';

/** A report older than this is no report: three of the agents' 15 s heartbeats (agent/src/engine/engine.ts). */
export const STALE_AFTER_MS = 45_000;

export interface SiteView {
  siteId: string;
  revision: number;
  status: SiteStatus;
  /** The revision's `spec.statusPage` (defaults: private, addresses shown). */
  statusPage: StatusPage;
  /**
   * Each live node's last report by node name, as this evaluation read it: validated, and the very
   * objects the book keeps between reads (so the status route does not read and parse them again).
   * Never for a public page: it holds what the nodes reported, addresses and all.
   */
  reports: Readonly<Record<string, NodeInput | undefined>>;
}

/** A site's last evaluation: its answer, the inputs it was made of, when, and until when those inputs give the same answer. */
interface Evaluated {
  status: SiteStatus;
  input: Omit<StatusInput, 'revisionGraceMs'>;
  at: number;
  until: number;
}

/**
 * The one place the cloud turns reports into status (`shared/status/evaluate.ts`): pages, the
 * API, the CLI, alerts and metrics all read it. Keeps each site's previous evaluation in memory,
 * so a condition's `since` survives from one evaluation to the next. When a site's inputs have
 * not moved since then and time alone cannot have changed the answer yet (`nextChangeAt`), that
 * answer is given again with a new `evaluatedAt` instead of evaluating it anew (the alerter
 * asks for every site every 2 s, whether anything moved or not).
 */
export class StatusBook {
  private readonly last = new Map<string, Evaluated>();
  private readonly inputs = new StatusInputCache();

  constructor(
    private readonly db: Db,
    private readonly staleAfterMs = STALE_AFTER_MS,
    /** Where each evaluation's states are recorded (the serving process's one book only). */
    private readonly history?: StatusHistory,
    private readonly log?: (line: string) => void,
  ) {}

  /** `versions`: the site's input versions when the caller read them for many sites at once (`all`). */
  async evaluate(site: SiteRef, now = Date.now(), versions?: InputVersions): Promise<SiteView | null> {
    const input = await loadStatusInput(this.db, site, this.staleAfterMs, this.inputs, { now, versions });
    if (!input) return null;
    const kept = this.last.get(site.id);
    let status: SiteStatus;
    if (kept && now >= kept.at && now < kept.until && sameStatusInput(kept.input, input)) {
      status = { ...kept.status, evaluatedAt: iso(now) };
      this.last.set(site.id, { ...kept, status, input, at: now });
    } else {
      status = evaluateSite(kept?.status ?? null, input, now);
      this.last.set(site.id, { status, input, at: now, until: nextChangeAt(input, now) });
    }
    // History is a record, not the answer: a failed write is logged and retried at the next evaluation.
    await this.history?.record(site.id, status, now).catch((err: Error) => this.log?.(`status history of ${site.name}: ${err.message}`));
    return { siteId: site.id, revision: site.currentRevision, status, statusPage: input.site.spec.statusPage ?? {}, reports: input.nodes };
  }

  /**
   * The site's live nodes and their last reports, validated, from the same kept rows as `evaluate`
   * but without evaluating the site (nor needing a valid revision): for a reader of the nodes'
   * revisions alone, as `apply --wait` polling a 10,000-node site every few seconds.
   */
  nodeReports(site: SiteRef): Promise<NodeReports> {
    return loadNodeReports(this.db, site.id, this.inputs);
  }

  /**
   * By name, for the status pages and the dashboard: the org's site of that name, or without an
   * org the first site of that name (a public page's address names no org).
   */
  async byName(name: string, now = Date.now(), of?: { orgId: string }): Promise<SiteView | null> {
    const [row] = await this.db
      .select({ id: sites.id, name: sites.name, currentRevision: sites.currentRevision })
      .from(sites)
      .where(and(eq(sites.name, name), gt(sites.currentRevision, 0), of ? eq(sites.orgId, of.orgId) : undefined))
      .orderBy(asc(sites.createdAt), asc(sites.id))
      .limit(1);
    return row ? this.evaluate(row, now) : null;
  }

  /** Every site with a revision (of one org, when given), with its row. */
  async all(now = Date.now(), of?: { orgId: string }): Promise<SiteView[]> {
    const rows = await this.db
      .select({ id: sites.id, name: sites.name, currentRevision: sites.currentRevision })
      .from(sites)
      .where(and(gt(sites.currentRevision, 0), of ? eq(sites.orgId, of.orgId) : undefined));
    if (!of) {
      // A site deleted, or without a revision any more, leaves this process's memory of it.
      const live = new Set(rows.map((r) => r.id));
      for (const id of this.last.keys()) if (!live.has(id)) this.last.delete(id);
      this.inputs.forget(live);
    }
    // Every site's versions in one statement, then each site's rows only where they moved.
    const versions = await inputVersionsOf(
      this.db,
      rows.map((r) => r.id),
    );
    const out: SiteView[] = [];
    for (const r of rows) {
      const v = await this.evaluate(r, now, versions.get(r.id));
      if (v) out.push(v);
    }
    return out;
  }
}
