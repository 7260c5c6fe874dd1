import { and, eq, isNull, not, sql } from 'drizzle-orm';
import type { NodeConfig } from '#shared/config/node-config.ts';
import type { DesiredClaims } from '#shared/wire/desired.ts';
import type { Site } from '#shared/site/site.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import type { Db } from '../db/client.ts';
import { inJsonList } from '../db/in-json.ts';
import { joinedRows } from '../db/joined-rows.ts';
import { Pipelined } from '../db/pipelined.ts';
import { rowsOf } from '../db/rows.ts';
import { events, nodes, rollouts, siteRevisions, sites, type outbox } from '../db/schema.ts';
import { resolveRollout } from '#shared/site/rollout.ts';
import { newRollout, planToKeep, stepRollout } from '../rollout/plan.ts';
import { planSummary } from '../rollout/summary.ts';
import { loadReports } from '../rollout/reports.ts';
import { activeRollout } from '../rollout/store.ts';
import { DomainError } from './errors.ts';
import { activeOverrides } from '../overrides/active.ts';
import { overridesFor } from '../overrides/republish.ts';
import { audit } from './audit.ts';
import { ConfigHashMemo, configCanonicalJson, configUtf8Bytes, sha256Hex } from './config-hashes.ts';
import { CompileMemos } from './compile-memos.ts';
import { oversizedConfigs } from './document-size.ts';
import { decideApply, staleRevision, type ApplyInput, type ApplyResult, type CurrentSite, type Proposed } from './decide.ts';
import type { SiteStates } from './site-states.ts';

export type { ApplyInput, ApplyResult } from './decide.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** An outbox row as stored (the publisher's `OutboxRow`), with its claims' canonical JSON (what the signer signs). */
export type WrittenRow = typeof outbox.$inferSelect & { canonicalClaims: string };

/**
 * Takes the `pending` outbox rows an apply wrote, once its transaction committed: a publisher in
 * the same process publishes them without reading them back (the rows stay in the outbox, which
 * still drains them if this hand-off is lost).
 */
export type Handoff = (rows: WrittenRow[]) => void;

/**
 * Stores a new immutable revision of a site, in ONE transaction: decideApply() says what to do
 * from the locked current state, then write() moves the site row's current_revision from N to N+1
 * by compare-and-set (so concurrent applies never share a number) and writes the revision, the
 * nodes, one outbox row per node whose compiled config changed and the audit row. Refusals are
 * DomainErrors. The caller kicks the publisher after it returns; `handoff`, when given, gets the
 * rows written for publishing after the commit. `states`, when given, is this process's memory of
 * the sites' current states (./site-states.ts): read instead of the database while the site row
 * is unchanged, and given the new state after the commit.
 */
export async function applySite(db: Db, input: ApplyInput, handoff?: Handoff, states?: SiteStates): Promise<ApplyResult> {
  const name = input.site.metadata.name;
  const compiled = compileMemos.compile(siteKey(input.orgId, name), input.site);
  const proposed = propose(input, compiled);
  if (input.dryRun) return settle(decideApply(input, (await loadCurrent(db, input.orgId, name, false, states)).current, proposed)).result;
  const written: WrittenRow[] | undefined = handoff ? [] : undefined;
  const { result, wrote } = await db.transaction((tx) => applyIn(tx, input, compiled, proposed, written, states));
  // Only now: a row handed over (or a state remembered) before the commit could be of a revision that rolled back.
  if (states && wrote)
    states.put(siteKey(input.orgId, name), {
      siteId: wrote.siteId,
      revision: result.revision,
      version: wrote.version,
      spec: input.site,
      specHash: proposed.specHash,
      // After the write the live nodes are exactly the spec's, each with its new config's hash.
      configHashes: proposed.configHashes,
      configs: compiled,
      bytes: proposed.bytes,
    });
  if (handoff && written?.length) handoff(written);
  return result;
}

/** The same inside the caller's transaction (a rollout's rollback writes its revision with the rollout's end). */
export async function applySiteIn(tx: Tx, input: ApplyInput): Promise<ApplyResult> {
  const compiled = compileMemos.compile(siteKey(input.orgId, input.site.metadata.name), input.site);
  return (await applyIn(tx, input, compiled, propose(input, compiled))).result;
}

const siteKey = (orgId: string, name: string) => `${orgId}\n${name}`;

/** The decided result and, when a revision was written, the site row's id and version after the write. */
async function applyIn(
  tx: Tx,
  input: ApplyInput,
  compiled: Map<string, NodeConfig>,
  proposed: Hashed,
  written?: WrittenRow[],
  states?: SiteStates,
): Promise<{ result: ApplyResult; wrote?: { siteId: string; version: string } }> {
  const name = input.site.metadata.name;
  // The site row, locked. A site that exists takes one statement; a new one is created here, and a
  // row this transaction inserted is its own until the commit (a concurrent apply's insert waits
  // for it, then finds it). Only when another apply created it first is it read again, locked.
  let loaded = await loadCurrent(tx, input.orgId, name, true, states);
  if (loaded.siteId === null) {
    const [made] = await tx.insert(sites).values({ id: crypto.randomUUID(), orgId: input.orgId, name }).onConflictDoNothing().returning({ id: sites.id });
    loaded = made ? { siteId: made.id, current: noSite() } : await loadCurrent(tx, input.orgId, name, true, states);
  }
  const { siteId, current } = loaded;
  const decision = settle(decideApply(input, current, proposed));
  if (!decision.write) return { result: decision.result };
  const version = await write(tx, { input, siteId: siteId!, current, proposed, compiled, result: decision.result, now: input.now ?? new Date(), written });
  return { result: decision.result, wrote: { siteId: siteId!, version } };
}

function settle(d: ReturnType<typeof decideApply>): { result: ApplyResult; write: boolean } {
  if (d.action === 'refuse') throw d.error;
  return { result: d.result, write: d.action === 'write' };
}

/** What this process last hashed of each site's configs (a cache: a miss only costs time). */
const configMemo = new ConfigHashMemo();

/** What this process last compiled of each site: its services and real servers' configs (a cache too). */
const compileMemos = new CompileMemos();

/**
 * The proposed spec hashed, with the canonical JSON of each config that had to be serialised for
 * its hash, and the rough size of spec and configs as JSON text.
 */
type Hashed = Proposed & { texts: ReadonlyMap<string, string>; bytes: number; specText: string };

/**
 * Each changed config serialised once: its hash decides what is published, and the outbox row
 * carries the same text. Configs this process hashed at the site's last apply are known by
 * their plain JSON (./config-hashes.ts). Hashes are the hex SHA-256 of the canonical JSON (the
 * same as sha256Hex's), computed synchronously: 1,000 awaited WebCrypto digests cost ~15 ms, these ~1.
 */
function propose(input: ApplyInput, compiled: Map<string, NodeConfig>): Hashed {
  const { hashes, texts, bytes, large } = configMemo.hash(siteKey(input.orgId, input.site.metadata.name), compiled);
  // Before anything is written: a document its agent would refuse is never published.
  const oversized = oversizedConfigs(input.site, large, (node) => configUtf8Bytes(compiled.get(node)!));
  if (oversized.length) throw new DomainError('invalid', `the spec makes ${oversized.length} node document(s) too large for an agent`, oversized);
  const spec = canonicalJson(input.site);
  return { specHash: sha256Hex(spec), configHashes: hashes, configs: compiled, texts, bytes: bytes + spec.length, specText: spec };
}

/** A site with no revision yet. */
const noSite = (): CurrentSite => ({ revision: 0, spec: null, specHash: null, configHashes: new Map() });

/** The site row's version: the transaction that last wrote it (a new one with every write, never one rolled back). */
const rowVersion = sql<string>`xmin::text`;

/**
 * The stored site (its row locked FOR UPDATE when `lock`, inside the apply's transaction): from
 * `states` when it remembers this very row version, else read.
 */
async function loadCurrent(
  db: Db | Tx,
  orgId: string,
  name: string,
  lock = false,
  states?: SiteStates,
): Promise<{ siteId: string | null; current: CurrentSite }> {
  const q = db
    .select({ id: sites.id, rev: sites.currentRevision, version: rowVersion })
    .from(sites)
    .where(and(eq(sites.orgId, orgId), eq(sites.name, name)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) return { siteId: null, current: noSite() };
  const known = states?.get(siteKey(orgId, name), { siteId: row.id, revision: row.rev, version: row.version });
  if (known)
    return {
      siteId: row.id,
      current: { revision: known.revision, spec: known.spec, specHash: known.specHash, configHashes: known.configHashes, configs: known.configs },
    };
  const [rev] = row.rev
    ? await db
        .select({ spec: siteRevisions.spec, hash: siteRevisions.specHash })
        .from(siteRevisions)
        .where(and(eq(siteRevisions.siteId, row.id), eq(siteRevisions.revision, row.rev)))
    : [];
  const live = await db
    .select({ name: nodes.name, hash: nodes.configHash })
    .from(nodes)
    .where(and(eq(nodes.siteId, row.id), isNull(nodes.removedAt)));
  return {
    siteId: row.id,
    current: {
      revision: row.rev,
      spec: (rev?.spec as Site | undefined) ?? null,
      specHash: rev?.hash ?? null,
      configHashes: new Map(live.map((n) => [n.name, n.hash])),
    },
  };
}

interface Write {
  input: ApplyInput;
  siteId: string;
  current: CurrentSite;
  proposed: Hashed;
  compiled: Map<string, NodeConfig>;
  result: ApplyResult;
  now: Date;
  /** Collects the pending rows written, for a hand-off. */
  written?: WrittenRow[];
}

/**
 * Writes a decided revision and answers the site row's version after it. A few statements per
 * table for the whole site, not one per node: a 1,000-node site is one nodes upsert, six or seven
 * outbox inserts (each director's row alone, then the real servers' in slices of at most
 * OUTBOX_SLICE rows or OUTBOX_SLICE_CHARS of claims) and, when any node left the spec, one update
 * marking those removed.
 */
async function write(tx: Tx, w: Write): Promise<string> {
  const { input, siteId, result, now } = w;
  const name = result.site;
  // The statements go out without waiting for each other's answers (../db/pipelined.ts); only
  // the reads the next statements are built from are awaited, and those go first and together
  // (one round trip): the database answers in sending order, so a read sent after the revision's
  // insert (a 1,000-node spec is ~100 KB of jsonb) would wait for it, and the process with it.
  const pipe = new Pipelined();
  // Staged: the first revision has nothing to roll back to, and a rollback goes out at once. The
  // rollout's first step runs here, so its first stage leaves with the revision (the driver does the rest).
  const policy = resolveRollout(input.site);
  const staged = policy.enabled && !input.immediate && w.current.revision > 0 && result.publishedNodes.length > 0;
  // A rollout still running refuses the apply (its refusal comes first); then the site row moves
  // by compare-and-set. The site row is locked (loadCurrent), so what is read beside the update is
  // what it would be after it: the overrides, whose generation the update returns with it, and
  // the nodes' reports for the rollout's first step.
  const running = input.immediate ? null : pipe.kept(activeRollout(tx, siteId));
  const moving = pipe.kept(
    tx
      .update(sites)
      .set({ currentRevision: result.revision, updatedAt: now })
      .where(and(eq(sites.id, siteId), eq(sites.currentRevision, w.current.revision)))
      .returning({ id: sites.id, version: rowVersion, overridesVersion: sites.overridesVersion }),
  );
  // The site's active overrides ride along with the new revision (the agents layer them on it).
  const activeRead = pipe.kept(activeOverrides(tx, siteId, now));
  const reportsRead = staged ? pipe.kept(loadReports(tx, siteId, result.revision, now, now.getTime(), result.publishedNodes)) : null;
  const rolling = running && (await pipe.wait(running));
  if (rolling)
    throw new DomainError(
      'rollout_in_progress',
      `the rollout of revision ${rolling.revision} is still ${rolling.state}: wait for it, or abort it (POST /v1/sites/${name}/rollout/abort)`,
      undefined,
      { rolloutRevision: rolling.revision },
    );
  const moved = await pipe.wait(moving);
  if (!moved.length) throw staleRevision(input.ifMatch ?? w.current.revision);
  const overridesVersion = moved[0].overridesVersion;
  const active = await pipe.wait(activeRead);
  const rollout = reportsRead
    ? stepRollout(
        newRollout({
          revision: result.revision,
          previousRevision: w.current.revision,
          bakeMs: policy.bakeMs,
          stageTimeoutMs: policy.stageTimeoutMs,
          nodes: result.publishedNodes.map((n) => ({ name: n, role: w.compiled.get(n)!.node.role })),
        }),
        { type: 'tick', reports: await pipe.wait(reportsRead) },
        now.getTime(),
      )
    : null;
  pipe.send(
    tx.insert(siteRevisions).values({
      siteId,
      revision: result.revision,
      // The canonical text propose() hashed: the same JSON, not serialised a second time.
      spec: sql`${w.proposed.specText}::jsonb`,
      specHash: w.proposed.specHash,
      author: input.author,
      message: input.message ?? '',
      rolledBackFrom: input.rolledBackFrom ?? null,
      createdAt: now,
    }),
  );
  const released = new Set(rollout?.rollout.released ?? result.publishedNodes);
  result.staged = !!rollout && rollout.rollout.state !== 'completed';
  // The nodes upsert and each slice of outbox rows take their rows as one text per column
  // (../db/joined-rows.ts): a 1,000-node site is five statements of a few parameters instead of
  // 16,000 bound values, and each row's claims embed the config's canonical text from propose()
  // instead of serialising it again.
  // The outbox's claims column is json, not jsonb: the database checks the 1.2 MB of claims and
  // stores the text as it is, instead of converting it to jsonb's binary form (in PGlite ~40 % of
  // the insert); nothing queries inside the claims.
  const issuedAt = now.toISOString();
  const handed = new Map<string, { claims: DesiredClaims; text: string }>();
  const withOverrides = (mine: unknown[]) => !!overridesVersion || mine.length > 0;
  const overrideClaims = (mine: unknown[]) => (withOverrides(mine) ? `,"overrides":${canonicalJson(mine)},"overridesVersion":${overridesVersion}` : '');
  // Nodes whose config did not change need no write: role and address are part of the config.
  const published = result.publishedNodes.map((nodeName) => ({ nodeName, id: nodeIdOf(name, nodeName), cfg: w.compiled.get(nodeName)! }));
  const outboxAnswers: Promise<unknown>[] = [];
  if (published.length) {
    // The nodes upsert goes first, and runs in the database while the outbox rows are built.
    pipe.send(
      tx.execute(sql`
      INSERT INTO nodes (id, site_id, name, role, address, desired_revision, config_hash, removed_at)
      SELECT x.id, ${siteId}, x.name, x.role, x.address, ${result.revision}::integer, x.config_hash, NULL
      FROM ${joinedRows({
        id: { values: published.map((p) => p.id) },
        name: { values: published.map((p) => p.nodeName) },
        role: { values: published.map((p) => p.cfg.node.role) },
        address: { values: published.map((p) => p.cfg.node.address) },
        config_hash: { values: published.map((p) => w.proposed.configHashes.get(p.nodeName)!) },
      })}
      ON CONFLICT (id) DO UPDATE SET role = excluded.role, address = excluded.address, desired_revision = excluded.desired_revision,
        config_hash = excluded.config_hash, removed_at = NULL`),
    );
    await Pipelined.flushed();
    let rows: { nodeId: string; status: 'pending' | 'held'; claims: string }[] = [];
    let sliceChars = 0;
    // The outbox rows go in slices: the database inserts one while the next is built.
    // Without a hand-off nothing comes back; with one, each row's id and times (not its claims: those are in memory).
    const sendRows = async () => {
      outboxAnswers.push(
        pipe.kept(
          tx.execute(sql`
          INSERT INTO outbox (node_id, site_id, revision, overrides_version, claims, status)
          SELECT x.node_id, ${siteId}, ${result.revision}::integer, ${overridesVersion}::integer, x.claims, x.status
          FROM ${outboxSource(rows)}
          ${w.written ? sql`RETURNING id, node_id, status, created_at` : sql``}`),
        ),
      );
      rows = [];
      sliceChars = 0;
      await Pipelined.flushed();
    };
    for (const { nodeName, id, cfg } of published) {
      // A forced apply lets this revision's documents past the agents' guard (the same rule the
      // cloud just waived); the next revision goes back to what the spec says.
      const forced = input.force ? { ...cfg, allowMassDelete: true } : null;
      const config = forced ? configCanonicalJson(forced) : (w.proposed.texts.get(nodeName) ?? configCanonicalJson(cfg));
      const mine = overridesFor({ config: cfg }, active);
      // Canonical JSON (members in sorted order, the config's own text canonical): the row stores it
      // and the publisher signs this very text when the row is handed over.
      const claims = `{"config":${config},"issuedAt":${JSON.stringify(issuedAt)},"nodeId":${JSON.stringify(id)}${overrideClaims(mine)},"revision":${result.revision},"site":${JSON.stringify(name)}}`;
      const pending = released.has(nodeName);
      rows.push({ nodeId: id, status: pending ? 'pending' : 'held', claims });
      sliceChars += claims.length;
      // The same claims as the row's text, as the value the publisher signs (canonical JSON of both is one text).
      if (w.written && pending)
        handed.set(id, {
          claims: {
            nodeId: id,
            site: name,
            revision: result.revision,
            issuedAt,
            config: forced ?? cfg,
            ...(withOverrides(mine) ? { overridesVersion, overrides: mine } : {}),
          },
          text: claims,
        });
      if (rows.length === OUTBOX_SLICE || sliceChars >= OUTBOX_SLICE_CHARS) await sendRows();
    }
    if (rows.length) await sendRows();
  }
  const names = [...w.compiled.keys()];
  // The nodes that left the spec are marked removed. The current state lists the live nodes (read
  // under the site row's lock, or remembered at this very row version): when all are still in the
  // spec there is nothing to mark, and no statement to send.
  // The spec's node names as ONE JSON parameter (../db/in-json.ts): as 1,000 bound values they cost
  // drizzle and the driver a parameter object each, more than the statement itself.
  if ([...w.current.configHashes.keys()].some((n) => !w.compiled.has(n)))
    pipe.send(
      tx
        .update(nodes)
        .set({ removedAt: now })
        .where(and(eq(nodes.siteId, siteId), isNull(nodes.removedAt), names.length ? not(inJsonList(nodes.name, names)) : undefined)),
    );

  if (rollout) {
    const plan = rollout.rollout;
    pipe.send(
      tx.insert(rollouts).values({
        siteId,
        revision: result.revision,
        state: plan.state,
        // A rollout that ended at its first step (no node reporting: one stage, released at once) is kept as any ended one.
        plan: planToKeep(plan),
        summary: planSummary(plan),
        author: input.author,
        createdAt: now,
        updatedAt: now,
        endedAt: result.staged ? null : now,
      }),
    );
    for (const a of rollout.actions)
      if (a.type === 'event') pipe.send(tx.insert(events).values({ siteId, nodeId: null, type: a.event, data: { site: name, ...a.data }, at: now }));
  }
  pipe.send(
    audit(tx, {
      orgId: input.orgId,
      actor: input.author,
      action: input.rolledBackFrom ? 'site.rollback' : 'site.apply',
      target: name,
      site: name,
      detail: { revision: result.revision, message: input.message ?? '', publishedNodes: result.publishedNodes, rolledBackFrom: input.rolledBackFrom ?? null },
    }),
  );
  // Every answer before the commit; the first failure sent is the one thrown.
  await pipe.settle();
  if (w.written)
    for (const r of (await Promise.all(outboxAnswers)).flatMap((a) =>
      rowsOf<{ id: string | number; node_id: string; status: string; created_at: string | Date }>(a),
    )) {
      const made = handed.get(r.node_id);
      if (!made || r.status !== 'pending') continue;
      w.written.push({
        id: Number(r.id),
        nodeId: r.node_id,
        siteId,
        revision: result.revision,
        overridesVersion,
        claims: made.claims,
        canonicalClaims: made.text,
        status: 'pending',
        attempts: 0,
        // Due at once on this process's clock (the stored default is the database's, which may run ahead).
        nextAttemptAt: now,
        publishedAt: null,
        lastError: null,
        skippedReason: null,
        createdAt: new Date(r.created_at),
      });
    }
  return moved[0].version;
}

/**
 * Outbox rows per insert statement. The database inserts one slice while the next is built: a
 * 1,000-node apply in four slices answered 6-16 ms sooner than in one statement (interleaved runs,
 * PostgreSQL); slices of 64 were no faster than 250, and each statement costs its own bind.
 */
export const OUTBOX_SLICE = 250;

/**
 * A slice also ends once its claims reach this many characters: a director's claims list every real
 * server (350 KB at 1,000 nodes), and the database takes several milliseconds over each. Sent as
 * soon as it is built, a director's row is inserted while the real servers' rows are still being
 * built, instead of waiting in the first slice for 248 of them.
 */
export const OUTBOX_SLICE_CHARS = 256 * 1024;

/** Up to this many outbox rows are bound one parameter each; more go as one text per column (../db/joined-rows.ts). */
export const FEW_OUTBOX_ROWS = 16;

/**
 * The outbox rows as a relation x(node_id, claims, status). A few rows are bound one value each,
 * each claims text checked by its own cast (a one-real-server change sends the two directors
 * 350 KB of claims each); many go as one text per column, each claims text checked once by its cast.
 */
function outboxSource(rows: { nodeId: string; status: string; claims: string }[]) {
  if (rows.length <= FEW_OUTBOX_ROWS)
    return sql`(VALUES ${sql.join(
      rows.map((r) => sql`(${r.nodeId}::text, ${r.claims}::json, ${r.status}::text)`),
      sql`, `,
    )}) AS x(node_id, claims, status)`;
  return joinedRows({
    node_id: { values: rows.map((r) => r.nodeId) },
    claims: { type: 'json', values: rows.map((r) => r.claims) },
    status: { values: rows.map((r) => r.status) },
  });
}
