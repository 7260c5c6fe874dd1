import { sql } from 'drizzle-orm';
import { events } from './schema.ts';

/*
 * Kinds of `events` rows that a partial index of their own answers (`events_apply_failed`,
 * `events_became_master` in schema.ts). The type is written as a literal, never a parameter: a
 * prepared statement settles on a generic plan, which matches a partial index's predicate only
 * against literals, and without the index each read scans every event ever stored.
 */

/** An agent's report that it failed to apply a revision. */
export const isApplyFailed = sql`${events.type} = 'apply.failed'`;

/** A VRRP instance that became MASTER (a failover, or a start). */
export const isBecameMaster = sql`${events.type} = 'vrrp.transition' AND (${events.data} ->> 'to') = 'MASTER'`;
