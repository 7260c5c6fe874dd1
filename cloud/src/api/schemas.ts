import { z } from '@hono/zod-openapi';
import { Name } from '#shared/site/names.ts';
import { GROUP_STATES, NODE_STATES, REALSERVER_STATES, SITE_STATES } from '#shared/status/model.ts';

/** Request/response shapes of the API, for validation and for /openapi.json. */

const Issue = z.object({ path: z.string(), message: z.string(), line: z.number().int().optional() }).openapi('Issue');
export const ErrorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string(), issues: z.array(Issue).optional() }).passthrough() })
  .openapi('Error');

// Name comes from shared/ and may be built before @hono/zod-openapi extends zod, so it carries
// no .openapi(); the object keys alone make the path parameters.
export const SiteParam = z.object({ site: Name });
export const NodeParam = SiteParam.extend({ node: Name });
export const RevisionParam = SiteParam.extend({
  n: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: 'n', in: 'path' }, example: 1 }),
});

const Change = z.object({ added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()) });
const FieldChangeSchema = z
  .object({
    path: z.string().openapi({ example: 'realServers[1].weight' }),
    before: z.unknown().optional().openapi({ description: 'absent when the field is new; secrets read ********' }),
    after: z.unknown().optional().openapi({ description: 'absent when the field is gone' }),
  })
  .openapi('FieldChange');
const SiteDiffSchema = z
  .object({
    unchanged: z.boolean(),
    nodes: Change,
    services: Change,
    realServers: Change,
    vrrp: Change,
    nodeConfigs: Change,
    objectFields: z.array(z.object({ kind: z.string(), name: z.string(), changes: z.array(FieldChangeSchema) })),
    configFields: z.array(z.object({ node: z.string(), changes: z.array(FieldChangeSchema) })),
    configFieldsOmitted: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'changed node configs whose field changes are not listed (a large apply answers names only; ask with diff=full)' }),
    massDelete: z.object({
      services: z.object({ removed: z.number(), total: z.number() }),
      realServers: z.object({ removed: z.number(), total: z.number() }),
      exceeded: z.boolean(),
    }),
  })
  .openapi('SiteDiff');

export const ApplyResultSchema = z
  .object({
    site: z.string(),
    revision: z.number().int(),
    previousRevision: z.number().int(),
    unchanged: z.boolean(),
    dryRun: z.boolean(),
    publishedNodes: z.array(z.string()),
    staged: z.boolean().optional().openapi({ description: 'the documents are held for a staged rollout: see the site rollout' }),
    diff: SiteDiffSchema,
  })
  .openapi('ApplyResult');

export const SiteSummary = z.object({ name: z.string(), revision: z.number().int(), nodes: z.number().int(), updatedAt: z.string() }).openapi('SiteSummary');

export const RevisionMeta = z.object({
  revision: z.number().int(),
  author: z.string(),
  message: z.string(),
  rolledBackFrom: z.number().int().nullable(),
  createdAt: z.string(),
});
export const RevisionFull = RevisionMeta.extend({ spec: z.record(z.string(), z.unknown()) }).openapi('Revision');

export const SiteDetail = z
  .object({ name: z.string(), revision: z.number().int(), updatedAt: z.string(), spec: z.record(z.string(), z.unknown()) })
  .openapi('SiteDetail');

export const NodeRow = z
  .object({
    nodeId: z.string(),
    name: z.string(),
    role: z.enum(['director', 'realserver']),
    address: z.string(),
    desiredRevision: z.number().int(),
    appliedRevision: z.number().int().nullable(),
    online: z.boolean(),
    inSync: z.boolean(),
    lastSeen: z.string().nullable(),
    status: z.record(z.string(), z.unknown()),
  })
  .openapi('Node');

export const ServiceRow = z
  .object({
    name: z.string(),
    vip: z.string().nullable(),
    port: z.number().int().nullable(),
    protocol: z.string(),
    fwmark: z.number().int().nullable(),
    scheduler: z.string(),
    forwarding: z.string(),
    directors: z.array(z.string()),
    realServers: z.array(
      z.object({ node: z.string().nullable(), address: z.string(), port: z.number().int(), weight: z.number().int(), forwarding: z.string() }),
    ),
  })
  .openapi('Service');

const EventRow = z.object({ nodeId: z.string().nullable(), type: z.string(), at: z.string(), data: z.record(z.string(), z.unknown()) });

export const StatusNode = z.object({
  nodeId: z.string(),
  name: z.string(),
  role: z.enum(['director', 'realserver']),
  online: z.boolean(),
  desiredRevision: z.number().int(),
  appliedRevision: z.number().int().nullable(),
  /** A revision the node received but has not applied (with errors: it failed). */
  pendingRevision: z.number().int().nullable().optional(),
  inSync: z.boolean(),
  lastSeen: z.string().nullable(),
  vrrp: z.array(
    z
      .object({ instance: z.string(), vrid: z.number().int(), state: z.string(), priority: z.number().int(), effectivePriority: z.number().int() })
      .passthrough(),
  ),
  services: z.array(
    z.object({
      name: z.string(),
      quorum: z.boolean(),
      realServers: z.array(z.object({ address: z.string(), port: z.number().int(), healthy: z.boolean(), weight: z.number().int() }).passthrough()),
    }),
  ),
  errors: z.array(z.string()),
  /** The overrides this node reports running and how far each got (applied, handing-over, draining, drained). */
  overrides: z.array(
    z.object({ id: z.string(), kind: z.string(), until: z.string(), state: z.string(), activeConnections: z.number().int().optional() }).passthrough(),
  ),
});
const Reason = z
  .object({ code: z.string(), subject: z.string(), text: z.string(), since: z.string().nullable() })
  .openapi('StatusReason', { description: 'Why a part is not green: a stable code, what it is about, words for people, since when' });
const part = <S extends readonly [string, ...string[]]>(states: S) => ({ state: z.enum(states), since: z.string(), reasons: z.array(Reason) });
/** The status model (shared/status/model.ts `SiteStatus`), as the API answers it. */
const SiteHealth = z
  .object({
    site: z.string(),
    evaluatedAt: z.string(),
    ...part(SITE_STATES),
    nodes: z.array(
      z.object({
        name: z.string(),
        role: z.enum(['director', 'realserver']),
        appliedRevision: z.number().int().nullable(),
        lastReportAt: z.string().nullable(),
        ...part(NODE_STATES),
      }),
    ),
    vrrp: z.array(
      z.object({
        instance: z.string(),
        vrid: z.number().int(),
        masters: z.array(z.string()),
        members: z.array(z.object({ node: z.string(), state: z.string() })),
        ...part(GROUP_STATES),
      }),
    ),
    services: z.array(
      z.object({
        name: z.string(),
        endpoint: z.string(),
        group: z.string().nullable(),
        reportedBy: z.string().nullable(),
        realServers: z.array(
          z.object({ address: z.string(), port: z.number().int(), node: z.string().nullable(), detail: z.string().nullable(), ...part(REALSERVER_STATES) }),
        ),
        ...part(SITE_STATES),
      }),
    ),
  })
  .openapi('SiteHealth');
export const SiteStatus = z
  .object({
    site: z.string(),
    revision: z.number().int(),
    /** The site's state; `unknown` also when its spec cannot be evaluated. */
    state: z.enum(SITE_STATES),
    since: z.string().nullable(),
    reasons: z.array(Reason),
    health: SiteHealth.nullable(),
    nodes: z.array(StatusNode),
    /** The site's active operational overrides, each with its line for people ("rs1 drained for maintenance until 03:30 UTC by alice"). */
    overrides: z.array(z.object({ id: z.string(), kind: z.string(), until: z.string(), author: z.string(), summary: z.string() })),
    events: z.array(EventRow),
  })
  .openapi('SiteStatus');

export const RollbackBody = z.object({ revision: z.number().int().min(1), message: z.string().max(1000).optional(), force: z.boolean().optional() }).strict();

export const EnrollmentBody = z
  .object({
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .optional(),
    /** Required for a node that is already enrolled: its agent's credentials stop working when the token is used. */
    replace: z.boolean().optional(),
  })
  .strict()
  .openapi('EnrollmentRequest');

export const TokenCreateBody = z
  .object({
    name: z.string().min(1).max(100),
    scope: z.enum(['viewer', 'operator', 'admin']),
    /** Lifetime; without it the token works until revoked. */
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      .max(5 * 366 * 86_400)
      .optional(),
  })
  .strict()
  .openapi('TokenCreateRequest');
export const TokenRow = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi('Token');

const RolloutStage = z.object({ name: z.enum(['backups', 'masters', 'all']), nodes: z.array(z.string()) });

export const RolloutView = z
  .object({
    revision: z.number().int(),
    previousRevision: z.number().int(),
    state: z.enum(['pending', 'running', 'paused', 'completed', 'rolled_back', 'aborted']),
    author: z.string(),
    bakeMs: z.number().int(),
    stageTimeoutMs: z.number().int(),
    stages: z.array(RolloutStage),
    /** Index into stages of the stage in progress (the last one once ended). */
    stage: z.number().int(),
    stageStartedAt: z.string().nullable(),
    bakeStartedAt: z.string().nullable(),
    released: z.array(z.string()),
    reason: z.string().nullable(),
    rollbackRevision: z.number().int().nullable(),
    createdAt: z.string(),
    endedAt: z.string().nullable(),
  })
  .openapi('Rollout');

/** What `GET /v1/sites/{site}/revisions/{n}/progress` says of a node: its revisions and errors, not its whole report. */
const NodeProgress = StatusNode.pick({
  name: true,
  role: true,
  online: true,
  desiredRevision: true,
  appliedRevision: true,
  pendingRevision: true,
  inSync: true,
  errors: true,
});

export const RevisionProgress = z
  .object({
    site: z.string(),
    /** The revision asked about. */
    revision: z.number().int(),
    /** The site's revision now: later than `revision` once another apply or a rollback followed it. */
    currentRevision: z.number().int(),
    nodes: z.array(NodeProgress),
    /** The revision's staged rollout; null when it was published at once. */
    rollout: RolloutView.nullable(),
  })
  .openapi('RevisionProgress');

export const RolloutStatus = z.object({ site: z.string(), current: RolloutView.nullable(), history: z.array(RolloutView) }).openapi('RolloutStatus');

/** A rollout as its history lists it: `RolloutView` with counts in place of its lists of nodes. */
export const RolloutSummary = RolloutView.omit({ stages: true, released: true })
  .extend({
    stages: z.array(z.object({ name: RolloutStage.shape.name, nodeCount: z.number().int() })),
    releasedCount: z.number().int().openapi({ description: 'how many nodes got the revision: the ones a rollback restores' }),
  })
  .openapi('RolloutSummary');
