import * as z from 'zod';
import { CanonicalIpAddress, formatHostPort } from '../util/ip.ts';

/**
 * Operational overrides: time-boxed operations on a site, kept apart from its spec. The cloud
 * stores them, the signed per-node document carries the ones that concern the node, and the
 * agent layers them on the revision's config (`layer.ts`) until their `until` passes on its own
 * clock, with or without the cloud.
 */
export const OVERRIDE_KINDS = ['drain-realserver', 'drain-director', 'maintenance-director', 'failover', 'disable-service'] as const;
export type OverrideKind = (typeof OVERRIDE_KINDS)[number];

/** The longest an override may last (and a drain's timeout may be). */
export const MAX_OVERRIDE_MS = 31 * 86_400_000;

const Ref = z.string().min(1).max(128);
/**
 * How long a drain may report `draining` before it says `drained` with connections left (long
 * idle ones may never end); absent or null: the agent's default (5 min). The operator's
 * `--drain-timeout`; a drain's connections are never cut by it, only its progress report changes.
 */
const DrainTimeoutMs = z.number().int().min(1000).max(MAX_OVERRIDE_MS).nullable().optional();
const Meta = {
  id: z.string().min(1).max(64),
  /** Absolute end (RFC 3339); required: nothing an operator starts at night runs forever. */
  until: z.string().datetime(),
  author: z.string().min(1).max(200),
  reason: z.string().min(1).max(1000),
  createdAt: z.string().datetime(),
  /** Set when the operator overrode a safety refusal (the reason is recorded with it). */
  force: z
    .strictObject({ reason: z.string().min(1).max(1000) })
    .nullable()
    .optional(),
};

export const Override = z.discriminatedUnion('kind', [
  /** Weight 0 for a real server: no new connections, established ones finish. `service` null = in every service. */
  z.strictObject({
    kind: z.literal('drain-realserver'),
    ...Meta,
    service: Ref.nullable(),
    /** Either family, as the site's spec stores it (RFC 5952 for IPv6): the wire takes no other spelling. */
    address: CanonicalIpAddress,
    /** null = every port of that address. */
    port: z.number().int().min(0).max(65535).nullable(),
    /** The realserver node named, when one was (for people: "rs1 drained"). */
    node: Ref.nullable(),
    drainTimeoutMs: DrainTimeoutMs,
  }),
  /** The director leaves VRRP once its peer has taken over, and stays BACKUP (both kinds; the names say why). */
  z.strictObject({ kind: z.literal('drain-director'), ...Meta, node: Ref }),
  z.strictObject({ kind: z.literal('maintenance-director'), ...Meta, node: Ref }),
  /** `node` becomes MASTER of `instance` (temporary priorities), then back. */
  z.strictObject({ kind: z.literal('failover'), ...Meta, instance: Ref, node: Ref }),
  /** Every real server of the service at weight 0: its sorry server answers when it has one (quorum lost), else it is quiesced. */
  z.strictObject({ kind: z.literal('disable-service'), ...Meta, service: Ref, drainTimeoutMs: DrainTimeoutMs }),
]);
export type Override = z.infer<typeof Override>;

/** At most this many active overrides per site: a document carries them all. */
export const MAX_OVERRIDES = 256;

export const OverrideList = z.array(Override).max(MAX_OVERRIDES);

/** Active at `now` (ms since the epoch): `until` not yet passed. */
export const isActive = (o: Pick<Override, 'until'>, now: number): boolean => Date.parse(o.until) > now;

/** The next instant after `now` at which the set of active overrides changes, or null. */
export function nextExpiry(overrides: readonly Pick<Override, 'until'>[], now: number): number | null {
  let next: number | null = null;
  for (const o of overrides) {
    const t = Date.parse(o.until);
    if (t > now && (next === null || t < next)) next = t;
  }
  return next;
}

/** The director a director-level override takes out of VRRP, or null. */
export const directorOut = (o: Override): string | null => (o.kind === 'drain-director' || o.kind === 'maintenance-director' ? o.node : null);

/** One line for people: "rs1 drained for maintenance until 03:30 by alice". `until` shown as HH:MM UTC. */
export function describeOverride(o: Override): string {
  const until = `${o.until.slice(11, 16)} UTC`;
  const what = (() => {
    switch (o.kind) {
      case 'drain-realserver':
        return `${o.port === null ? (o.node ?? o.address) : o.node !== null ? `${o.node}:${o.port}` : formatHostPort(o.address, o.port)} drained${o.service ? ` in ${o.service}` : ''}`;
      case 'drain-director':
        return `director ${o.node} drained`;
      case 'maintenance-director':
        return `director ${o.node} in maintenance`;
      case 'failover':
        return `${o.instance} failed over to ${o.node}`;
      case 'disable-service':
        return `service ${o.service} disabled`;
    }
  })();
  return `${what} for ${o.reason} until ${until} by ${o.author}${o.force ? ` (forced: ${o.force.reason})` : ''}`;
}

/** `--for` durations: a number and s, m, h or d; at most 31 days. Null when not one. */
export function parseFor(text: string): number | null {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return ms > 0 && ms <= MAX_OVERRIDE_MS ? ms : null;
}
