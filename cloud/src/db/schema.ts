import { sql } from 'drizzle-orm';
import { SEVERITIES } from '#shared/wire/events.ts';
import { KEY_STATES } from '#shared/wire/key-trust.ts';
import { bigint, bigserial, boolean, index, integer, json, jsonb, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Persistence for the control plane (drizzle, identical on PGlite and PostgreSQL).
 * Revisions are immutable; every write is audited; the outbox is written in the same
 * transaction as the revision it publishes (docs/architecture.md, "Flow of a revision").
 */
const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

export const orgs = pgTable('orgs', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: createdAt(),
});

export const apiTokens = pgTable('api_tokens', {
  id: text('id').primaryKey(),
  orgId: text('org_id')
    .notNull()
    .references(() => orgs.id),
  name: text('name').notNull(),
  /** SHA-256 of the token, hex; the token itself is shown once. */
  tokenHash: text('token_hash').notNull().unique(),
  scope: text('scope', { enum: ['admin', 'operator', 'viewer'] }).notNull(),
  createdAt: createdAt(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  /** A token made with `--expires` stops working then; null = until revoked. */
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
});

/**
 * Dashboard sessions: a browser trades an API token for an HttpOnly cookie (cloud/src/auth/sessions.ts).
 * Only the SHA-256 of the cookie's secret is kept; the session has the scope of its token and ends
 * with it (revocation) or at `expires_at`.
 */
export const dashboardSessions = pgTable(
  'dashboard_sessions',
  {
    secretHash: text('secret_hash').primaryKey(),
    tokenId: text('token_id')
      .notNull()
      .references(() => apiTokens.id),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('dashboard_sessions_expires').on(t.expiresAt)],
);

export const sites = pgTable(
  'sites',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id),
    name: text('name').notNull(),
    currentRevision: integer('current_revision').notNull().default(0),
    /** The override generation: grows with every change to the site's active overrides (documents carry it). */
    overridesVersion: integer('overrides_version').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('sites_org_name').on(t.orgId, t.name)],
);

export const siteRevisions = pgTable(
  'site_revisions',
  {
    siteId: text('site_id')
      .notNull()
      .references(() => sites.id),
    revision: integer('revision').notNull(),
    spec: jsonb('spec').notNull(),
    specHash: text('spec_hash').notNull(),
    author: text('author').notNull(),
    message: text('message').notNull().default(''),
    /** Set when this revision was made by a rollback to an earlier one. */
    rolledBackFrom: integer('rolled_back_from'),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.revision] })],
);

export const nodes = pgTable(
  'nodes',
  {
    /** nodeId = `${site}.${node}`: the MQTT identity and topic segment. */
    id: text('id').primaryKey(),
    siteId: text('site_id')
      .notNull()
      .references(() => sites.id),
    name: text('name').notNull(),
    role: text('role', { enum: ['director', 'realserver'] }).notNull(),
    address: text('address').notNull(),
    /** Revision whose compiled config this node must run, and that config's hash. */
    desiredRevision: integer('desired_revision').notNull().default(0),
    configHash: text('config_hash').notNull().default(''),
    createdAt: createdAt(),
    removedAt: timestamp('removed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('nodes_site_name').on(t.siteId, t.name)],
);

export const nodeCredentials = pgTable('node_credentials', {
  nodeId: text('node_id')
    .primaryKey()
    .references(() => nodes.id),
  /** scrypt hash of the broker password: `scrypt$salt$hash`. */
  passwordHash: text('password_hash').notNull(),
  enrolledAt: createdAt(),
});

export const enrollmentTokens = pgTable('enrollment_tokens', {
  tokenHash: text('token_hash').primaryKey(),
  siteId: text('site_id')
    .notNull()
    .references(() => sites.id),
  nodeName: text('node_name').notNull(),
  createdBy: text('created_by').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
  createdAt: createdAt(),
});

export const OUTBOX_STATUSES = ['pending', 'published', 'skipped', 'failed', 'held'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];
/** Rows still to be published. */
export const OUTBOX_OPEN: OutboxStatus[] = ['pending', 'failed'];

export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    // No foreign keys: every row is written in the transaction that upserts its node (under the
    // site's row lock), and nodes and sites are never deleted. The keys' checks, a trigger and an
    // index probe per row locking the node's row, were a quarter of a 1,000-row insert.
    nodeId: text('node_id').notNull(),
    siteId: text('site_id').notNull(),
    revision: integer('revision').notNull(),
    /** The claims' override generation: a row for the same revision with a higher one supersedes (overrides changed). */
    overridesVersion: integer('overrides_version').notNull().default(0),
    /** DesiredClaims (shared/wire/desired-claims.ts); signed when published. json, not jsonb: stored as written (cloud/src/sites/apply.ts), never queried inside. */
    claims: json('claims').notNull(),
    /**
     * pending: not tried yet; failed: the last attempt failed, tried again at next_attempt_at;
     * published: the broker acknowledged it (published_at); skipped: never to be sent, because a
     * newer revision for the node went out or its rollout rolled back (skipped_reason); held: waiting
     * for its stage of a staged rollout (cloud/src/rollout/), which makes it pending.
     */
    status: text('status', { enum: OUTBOX_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    publishedAt: timestamp('published_at', { withTimezone: true, mode: 'date' }),
    /** The last failed attempt's error (kept after a later success or skip, for the record). */
    lastError: text('last_error'),
    skippedReason: text('skipped_reason'),
    createdAt: createdAt(),
  },
  (t) => [index('outbox_due').on(t.status, t.nextAttemptAt), index('outbox_node').on(t.nodeId, t.revision)],
);

export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull().default('EdDSA'),
  publicJwk: jsonb('public_jwk').notNull(),
  privateJwk: jsonb('private_jwk').notNull(),
  createdAt: createdAt(),
  retiredAt: timestamp('retired_at', { withTimezone: true, mode: 'date' }),
  /** Key rotation (cloud/src/keys/rotation.ts): active signs; announced, retiring and retired as KEY_STATES says. */
  state: text('state', { enum: KEY_STATES }).notNull().default('active'),
  /** The key set's generation when this row last changed state; the published generation is the highest. */
  generation: integer('generation').notNull().default(1),
  /** The key this one succeeds, and the certificate (compact JWS) that key signed for this one. */
  previousKid: text('previous_kid'),
  certificate: text('certificate'),
  activatedAt: timestamp('activated_at', { withTimezone: true, mode: 'date' }),
});

export const nodeStatus = pgTable('node_status', {
  nodeId: text('node_id').primaryKey(),
  online: boolean('online').notNull().default(false),
  appliedRevision: integer('applied_revision'),
  /** The last NodeStatus (shared/wire/status.ts) as reported. */
  status: jsonb('status')
    .notNull()
    .default(sql`'{}'::jsonb`),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    siteId: text('site_id'),
    nodeId: text('node_id'),
    type: text('type').notNull(),
    data: jsonb('data').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /**
     * What makes an event taken from a node the same event (cloud/src/ingest/decide.ts): every
     * replica's ingest receives every message, and only the first insert of a key stands. Null for
     * the cloud's own events, which have their own claim (the `alerts` row).
     */
    dedupeKey: text('dedupe_key'),
  },
  (t) => [
    index('events_site_at').on(t.siteId, t.at),
    index('events_node_at').on(t.nodeId, t.at),
    uniqueIndex('events_node_dedupe').on(t.nodeId, t.dedupeKey),
    /**
     * A rollout's tick (every second while it runs) asks for the site's `apply.failed` events
     * received since it started. Without this, that was a scan of every event the site ever had
     * (10,000 of them per apply of a 10,000-node site, and events are kept): 70 ms of the
     * database's CPU a tick at 300,000 events. Partial: the other events never touch it.
     */
    index('events_apply_failed')
      .on(t.siteId, t.receivedAt)
      .where(sql`type = 'apply.failed'`),
    /** The fleet metrics' count of MASTER transitions per site (every scrape): those events alone, not a scan of them all. */
    index('events_became_master')
      .on(t.siteId)
      .where(sql`type = 'vrrp.transition' AND (data ->> 'to') = 'MASTER'`),
    /** Retention (cloud/src/retention/): the oldest events first, without a scan of the newer ones at each round. */
    index('events_received_at').on(t.receivedAt),
  ],
);

/**
 * Transitions to MASTER whose events retention deleted, per site and VRRP instance: the fleet
 * metrics' counter is this plus the events still stored, so deleting old events never makes it go
 * down (which Prometheus would read as a reset). Added to in the statement that deletes them.
 */
export const prunedMasterTransitions = pgTable(
  'pruned_master_transitions',
  {
    siteId: text('site_id').notNull(),
    instance: text('instance').notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.instance] })],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orgId: text('org_id').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target').notNull(),
    /** The site's name when the write concerns one (`GET /v1/audit?site=`); null for org-wide writes (tokens, webhooks). */
    site: text('site'),
    detail: jsonb('detail')
      .notNull()
      .default(sql`'{}'::jsonb`),
    at: createdAt(),
  },
  (t) => [index('audit_log_org_at').on(t.orgId, t.at)],
);

/** Webhook subscriptions (Standard Webhooks, or Slack-shaped), per org, optionally per site. */
export const webhooks = pgTable('webhooks', {
  id: text('id').primaryKey(),
  orgId: text('org_id')
    .notNull()
    .references(() => orgs.id),
  url: text('url').notNull(),
  /** `whsec_…`; shown once at creation. */
  secret: text('secret').notNull(),
  format: text('format', { enum: ['standard', 'slack'] })
    .notNull()
    .default('standard'),
  /** Event types to deliver; empty = all. */
  eventTypes: jsonb('event_types')
    .notNull()
    .default(sql`'[]'::jsonb`),
  siteName: text('site_name'),
  /** The quietest severity delivered (info < warning < critical; shared/wire/events.ts). */
  minSeverity: text('min_severity', { enum: SEVERITIES }).notNull().default('info'),
  /** Events with a larger id have not been queued for this webhook yet. */
  lastEventId: bigint('last_event_id', { mode: 'number' }).notNull().default(0),
  createdAt: createdAt(),
  disabledAt: timestamp('disabled_at', { withTimezone: true, mode: 'date' }),
});

/** The delivery queue, kept in the database so retries survive restarts. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    webhookId: text('webhook_id')
      .notNull()
      .references(() => webhooks.id),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    payload: jsonb('payload').notNull(),
    /**
     * The order a round claims in (0 critical, 1 warning, 2 info; cloud/src/alerts/payload.ts
     * `deliveryPriority`): a webhook that takes every event of a 10,000-node apply has 10,000
     * deliveries queued, and a critical alert raised after them must not wait for them all.
     */
    priority: smallint('priority').notNull().default(2),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    createdAt: createdAt(),
  },
  (t) => [
    index('webhook_deliveries_due').on(t.status, t.nextAttemptAt),
    /** A round's claim: the most urgent due deliveries first, without sorting the whole backlog. */
    index('webhook_deliveries_claim')
      .on(t.priority, t.nextAttemptAt, t.eventId)
      .where(sql`status = 'pending'`),
  ],
);

/**
 * Alerts raised from the status model's conditions (cloud/src/alerts/evaluate.ts): a row per
 * raise, open while `resolved_at` is null. Kept so a restart neither raises an open alert again
 * nor loses its resolution; resolved ones go with the retention (`alerts_resolved`).
 */
export const alerts = pgTable(
  'alerts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    siteId: text('site_id')
      .notNull()
      .references(() => sites.id),
    /** `${type}|${subject}` (shared/status/conditions.ts). */
    key: text('key').notNull(),
    type: text('type').notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    subject: text('subject').notNull(),
    summary: text('summary').notNull(),
    /** When the condition was first seen (the debounce started). */
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true, mode: 'date' }).notNull(),
    raisedAt: timestamp('raised_at', { withTimezone: true, mode: 'date' }).notNull(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('alerts_open')
      .on(t.siteId, t.key)
      .where(sql`${t.resolvedAt} IS NULL`),
    index('alerts_resolved')
      .on(t.resolvedAt)
      .where(sql`${t.resolvedAt} IS NOT NULL`),
  ],
);

/**
 * Staged rollouts of revisions (cloud/src/rollout/): one row per revision written under a rollout
 * policy. `plan` is the planner's whole state (cloud/src/rollout/plan.ts `Rollout`); `state` is
 * repeated as a column so the active rollout of a site is one indexed read. Rows are kept after
 * they end: they are the site's rollout history.
 */
export const rollouts = pgTable(
  'rollouts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    siteId: text('site_id')
      .notNull()
      .references(() => sites.id),
    revision: integer('revision').notNull(),
    state: text('state', { enum: ['pending', 'running', 'paused', 'completed', 'rolled_back', 'aborted'] }).notNull(),
    plan: jsonb('plan').notNull(),
    /**
     * The plan as a history lists it, written with the plan (cloud/src/rollout/summary.ts
     * `planSummary`): counts in place of its lists of nodes. Read by the history's listings and
     * the dashboard, which never read the plan itself: at 10,000 nodes its stages and released
     * nodes are about half a megabyte of names, detoasted and counted at every read before.
     */
    summary: jsonb('summary').notNull(),
    author: text('author').notNull(),
    /** The revision a rollback wrote (the previous spec again), when it rolled back or was aborted. */
    rollbackRevision: integer('rollback_revision'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('rollouts_site_revision').on(t.siteId, t.revision), index('rollouts_state').on(t.state)],
);

/**
 * State history of a site and its parts (`subject`: `site`, `service:NAME`, `vrrp:INSTANCE`), one
 * row per span of one state: written when the status model's evaluation changes state, its
 * `confirmed_at` moved forward while the cloud keeps seeing the same state. Time after a span's
 * `confirmed_at` and before the next span's `from_at` was not observed (the cloud was down): the
 * uptime bar counts it as unknown, never as up. Rows older than the retention are deleted.
 */
export const statusHistory = pgTable(
  'status_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    siteId: text('site_id')
      .notNull()
      .references(() => sites.id),
    subject: text('subject').notNull(),
    state: text('state').notNull(),
    fromAt: timestamp('from_at', { withTimezone: true, mode: 'date' }).notNull(),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('status_history_site_subject_from').on(t.siteId, t.subject, t.fromAt), index('status_history_confirmed').on(t.confirmedAt)],
);

/**
 * Operational overrides (shared/overrides/override.ts): time-boxed operations layered on a site's
 * revision. A row is active while `ended_at` is null and `until` is ahead; the sweep ends expired
 * ones (`end_reason` expired), an operator cancels (`cancelled`, `ended_by`).
 */
export const overrides = pgTable(
  'overrides',
  {
    id: text('id').primaryKey(),
    siteId: text('site_id')
      .notNull()
      .references(() => sites.id),
    kind: text('kind').notNull(),
    /** The Override as documents carry it. */
    override: jsonb('override').notNull(),
    until: timestamp('until', { withTimezone: true, mode: 'date' }).notNull(),
    author: text('author').notNull(),
    reason: text('reason').notNull(),
    /** The reason given for overriding a safety refusal, when one was overridden. */
    forceReason: text('force_reason'),
    createdAt: createdAt(),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }),
    endReason: text('end_reason', { enum: ['expired', 'cancelled'] }),
    endedBy: text('ended_by'),
  },
  (t) => [
    index('overrides_site_open')
      .on(t.siteId, t.until)
      .where(sql`${t.endedAt} IS NULL`),
  ],
);
